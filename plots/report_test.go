package plots

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// evilRun is a run whose every log-controlled string tries to inject
// markup: the source name, a component name, an eval metric and an issue.
func evilRun() *ingest.Run {
	run := synthRun(400, true)
	run.Source = `runs/<img src=x onerror=alert(2)>.jsonl`
	c, _ := run.Column(ingest.ComponentPrefix + "format")
	run.DropColumn(ingest.ComponentPrefix + "format")
	run.SetColumn(ingest.ComponentPrefix+"<script>alert(1)</script>", c)
	e, _ := run.Column(ingest.EvalPrefix + "accuracy")
	run.DropColumn(ingest.EvalPrefix + "accuracy")
	run.SetColumn(ingest.EvalPrefix+`acc"><svg onload=alert(3)>`, e)
	run.Issues = []ingest.Issue{{File: run.Source, Line: 7, Field: "<b>x</b>", Msg: "bad <script>"}}
	run.Skipped = 1
	return run
}

var (
	tagRe     = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>`)
	handlerRe = regexp.MustCompile(`(?i)\son[a-z]+\s*=|javascript:`)
)

// liveMarkup returns the tags of html that could run code: script, img,
// iframe, object or embed elements, and any tag with an on* handler or a
// javascript: URL. Escaped text has no "<", so only real tags are seen.
func liveMarkup(html string) []string {
	var bad []string
	for _, m := range tagRe.FindAllStringSubmatch(html, -1) {
		switch strings.ToLower(m[1]) {
		case "script", "img", "iframe", "object", "embed":
			bad = append(bad, m[0])
			continue
		}
		if handlerRe.MatchString(m[2]) {
			bad = append(bad, m[0])
		}
	}
	return bad
}

func TestReportEscapesLogText(t *testing.T) {
	run := evilRun()
	rep, err := analysis.Audit(run, analysis.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rep.Diagnosis = "<script>alert(4)</script>"
	exp := map[string]float64{"<script>alert(1)</script>": 0.3, "task": 0.7}
	b, err := analysis.Balance(run, exp, analysis.BalanceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ses, err := Align(run, exp, analysis.AlignOptions{BaselineSteps: 50}, analysis.ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := BuildReport([]*RunReport{{Run: run, Audit: rep, Balance: BalanceViewOf(b), Session: ses}}, Options{Expected: exp}, nil)
	html, err := r.HTML()
	if err != nil {
		t.Fatal(err)
	}
	if m := liveMarkup(string(html)); len(m) > 0 {
		t.Fatalf("report contains live markup from the log: %q", m)
	}
	if m := liveMarkup(`<p>x</p><img src=x><a href="javascript:1">` + "<div onclick=\"f()\">"); len(m) != 3 {
		t.Fatalf("the live-markup check itself is broken: %q", m)
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;.jsonl"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report lacks the escaped text %q", want)
		}
	}
	// The notebook fragments escape too.
	for name, frag := range map[string]string{"FindingsHTML": FindingsHTML(rep), "BalanceHTML": BalanceHTML(BalanceViewOf(b))} {
		if m := liveMarkup(frag); len(m) > 0 {
			t.Errorf("%s contains live markup: %q", name, m)
		}
	}
}

func TestReportLayout(t *testing.T) {
	run := synthRun(600, true)
	rep := synthReport(600)
	r := BuildReport([]*RunReport{{Run: run, Audit: rep, Balance: synthBalance(), Session: synthSession()}}, Options{}, nil)
	r.Version = "test"
	html, err := r.HTML()
	if err != nil {
		t.Fatal(err)
	}
	s := string(html)
	pos := -1
	for _, want := range []string{"Verdict: HACKING", "variance: Reward variance collapsed", "<h3>Findings</h3>", "<svg",
		"Reward over the last 100 records", "Balance over the last 200 records", "Alignment at record 310", "<h3>Input</h3>", "synthetic.jsonl"} {
		i := strings.Index(s[max(pos, 0):], want)
		if i < 0 {
			t.Fatalf("report lacks %q after position %d", want, pos)
		}
		pos += i + 1
	}
	for _, want := range []string{"since step", "skipped lines", "<td>0</td>", "CRITICAL: Increase weight by ~66.5%", "5.00×",
		"@font-face", "grain</th><td>sample"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Count(s, "@font-face") > 4 {
		t.Errorf("fonts embedded %d times; want them once per face", strings.Count(s, "@font-face"))
	}
	if strings.Contains(strings.ToLower(s), "<script") || strings.Contains(s, "http://") && !strings.Contains(s, "http://www.w3.org") {
		t.Error("report must be self-contained and script-free")
	}
	if !bytes.HasPrefix(html, []byte("<!DOCTYPE html>")) {
		t.Error("report does not start with a doctype")
	}
}

func TestReportCompareRuns(t *testing.T) {
	runs := []*RunReport{{Name: "a.jsonl", Run: synthRun(500, true), Audit: synthReport(500)},
		{Name: "b.jsonl", Run: synthRun(500, false), Audit: &analysis.Report{Records: 500, Window: 100, Verdict: analysis.VerdictHealthy,
			Detectors: []analysis.NamedResult{{Name: "variance", Result: analysis.Result{Status: analysis.StatusOK}}}}}}
	r := BuildReport(runs, Options{}, nil)
	if r.Compare == nil {
		t.Fatal("no comparison figure for two runs")
	}
	html, err := r.HTML()
	if err != nil {
		t.Fatal(err)
	}
	s := string(html)
	for _, want := range []string{"Runs side by side", `<td class="v-hacking">HACKING</td>`, `<td class="v-healthy">HEALTHY</td>`,
		`<td class="s-alert">ALERT</td>`, `<td class="s-ok">OK</td>`, "Reward of each run"} {
		if !strings.Contains(s, want) {
			t.Errorf("comparison lacks %q", want)
		}
	}
	one := BuildReport(runs[:1], Options{}, nil)
	if one.Compare != nil {
		t.Error("a single run should not get a comparison figure")
	}
}

func TestFmtNum(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want string
	}{{1, "1"}, {0.5, "0.5"}, {0.123456, "0.1235"}, {5.551e-17, "0"}, {1234567.5, "1.235e+06"}, {-2.5, "-2.5"}, {0.00005, "5e-05"}} {
		if got := fmtNum(c.x); got != c.want {
			t.Errorf("fmtNum(%v) = %q, want %q", c.x, got, c.want)
		}
	}
}
