package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

func copyFile(t *testing.T, src, dst string) []byte {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// No command overwrites its own input: not by the same name, not through
// ./, a symlink or a hard link. Each refusal is exit 2 naming both paths,
// and the input is left as it was.
func TestOutputIsInputRefused(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run.jsonl")
	orig := copyFile(t, ingesttest.Testdata(t, "runs", "hacked.jsonl"), run)
	align := filepath.Join(dir, "drift.csv")
	alignOrig := copyFile(t, repoPath("testdata", "conformance", "alignment", "drift_10.csv"), align)
	cases := filepath.Join(dir, "cases.jsonl")
	casesOrig := copyFile(t, probeData("cases.jsonl"), cases)
	link := filepath.Join(dir, "link.jsonl")
	if err := os.Symlink(run, link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.jsonl")
	if err := os.Link(run, hard); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	dot := dir + "/./sub/../run.jsonl"
	html := filepath.Join(dir, "r.html")
	if err := os.Symlink(run, html); err != nil {
		t.Fatal(err)
	}
	fig := filepath.Join(dir, "fig.png")
	if err := os.Symlink(run, fig); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"export -o same", []string{"export", run, "-o", run}, "-o " + run + " is the same file as the input RUN"},
		{"export -o symlink", []string{"export", run, "-o", link}, "is the same file as the input RUN"},
		{"export -o hard link", []string{"export", run, "-o", hard}, "is the same file as the input RUN"},
		{"export -o via ..", []string{"export", run, "-o", dot}, "is the same file as the input RUN"},
		{"audit --junit", []string{"audit", run, "--junit", run}, "--junit " + run + " is the same file"},
		{"report -o", []string{"report", run, "-o", html}, "-o " + html + " is the same file as the input RUN"},
		{"plot -o", []string{"plot", run, "-o", fig}, "-o " + fig + " is the same file as the input RUN (" + run + ")"},
		{"align --csv", []string{"align", align, "--expected", "task=0.7,safety=0.3", "--csv", align}, "--csv " + align + " is the same file"},
		{"align --state", []string{"align", align, "--expected", "task=0.7,safety=0.3", "--state", align}, "--state " + align + " is the same file"},
		{"align --csv = --state", []string{"align", align, "--expected", "task=0.7,safety=0.3", "--csv", filepath.Join(dir, "o"), "--state", filepath.Join(dir, "o")},
			"are the same file"},
		{"show --export", []string{"show", run, "--export", hard}, "--export " + hard + " is the same file as the input RUN"},
		{"probe -o cases", []string{"probe", "--cmd", "python3", "--cmd", probeData("exact_reward.py"), "-p", cases, "-o", cases}, "-o " + cases + " is the same file as the input -p"},
		{"probe -o reward script", []string{"probe", "--cmd", "python3", "--cmd", filepath.Join(dir, "r.csv"), "-p", cases, "-o", filepath.Join(dir, "r.csv")}, "is the same file as the input --cmd"},
	}
	os.WriteFile(filepath.Join(dir, "r.csv"), []byte("print(1)\n"), 0o644)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o, e bytes.Buffer
			code := runMain(tt.args, &o, &e)
			if code != exitUsage || !strings.Contains(e.String(), tt.want) || !strings.Contains(e.String(), "refusing to overwrite") && !strings.Contains(e.String(), "its own name") {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, e.String(), tt.want)
			}
		})
	}
	for p, want := range map[string][]byte{run: orig, align: alignOrig, cases: casesOrig} {
		if got, _ := os.ReadFile(p); !bytes.Equal(got, want) {
			t.Errorf("%s was changed", p)
		}
	}
	// Continuing a state file in place stays allowed.
	state := filepath.Join(dir, "s.json")
	if _, e, code := alignCmd(align, "--expected", "task=0.7,safety=0.3", "--state", state); code == exitUsage {
		t.Fatal(e)
	}
	if _, e, code := alignCmd(align, "--resume", state, "--state", state); code == exitUsage {
		t.Fatalf("--resume X --state X refused: %s", e)
	}
}

func runMain(args []string, stdout, stderr *bytes.Buffer) int { return run(args, stdout, stderr) }

// Two runs with the same file name get distinct PNG names.
func TestReportPNGNamesDistinct(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"a", "b"} {
		os.Mkdir(filepath.Join(dir, sub), 0o755)
	}
	a, b := filepath.Join(dir, "a", "x.jsonl"), filepath.Join(dir, "b", "x.jsonl")
	copyFile(t, ingesttest.Testdata(t, "runs", "hacked.jsonl"), a)
	copyFile(t, ingesttest.Testdata(t, "runs", "healthy.jsonl"), b)
	pngs := filepath.Join(dir, "figs")
	if _, e, code := reportCmd("report", a, b, "-o", filepath.Join(dir, "r.html"), "--png", pngs); code == exitUsage {
		t.Fatal(e)
	}
	entries, _ := os.ReadDir(pngs)
	prefixes := map[string]int{}
	for _, e := range entries {
		stem, _, _ := strings.Cut(e.Name(), "-")
		prefixes[stem]++
	}
	// A report of several runs names each by its path below their common
	// folder: a/x.jsonl and b/x.jsonl.
	if len(prefixes) != 2 || prefixes["a_x"] == 0 || prefixes["b_x"] == 0 {
		t.Errorf("PNG names %v: want one set per run", prefixes)
	}
	got := pngStems([]string{"a/x.jsonl", "b/x.jsonl", "x.jsonl", "x.jsonl", "../c/y.csv.gz", "a_x.csv"})
	want := []string{"a_x", "b_x", "x", "x-2", "c_y", "a_x-2"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("pngStems = %v, want %v", got, want)
	}
}
