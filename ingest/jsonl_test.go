package ingest_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

func conformanceFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(ingesttest.Testdata(t, "conformance", "rewardspy", "*", "run.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance runs found: %v", err)
	}
	return files
}

func readString(t *testing.T, text, name string, opt ingest.Options) *ingest.Run {
	t.Helper()
	run, err := ingest.Read(strings.NewReader(text), name, opt)
	if err != nil {
		t.Fatalf("Read(%s): %v", name, err)
	}
	return run
}

// TestRewardspyConformanceExact checks every record of every conformance run
// is read exactly: each field against encoding/json's decoding (strconv
// semantics, the same bits Python's float() gives).
func TestRewardspyConformanceExact(t *testing.T) {
	for _, path := range conformanceFiles(t) {
		run, err := ingest.ReadFile(path, ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(run.Issues) != 0 || run.Skipped != 0 {
			t.Errorf("%s: unexpected issues %v", path, run.Issues)
		}
		data, _ := os.ReadFile(path)
		if len(bytes.TrimSpace(data)) > 0 && (run.Format != "rewardspy-jsonl" || run.Grain != ingest.GrainCall) {
			t.Errorf("%s: format %q grain %q", path, run.Format, run.Grain)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		i := 0
		for sc.Scan() {
			var rec struct {
				CallID     string             `json:"call_id"`
				Timestamp  float64            `json:"timestamp"`
				Step       float64            `json:"step"`
				Reward     float64            `json:"scalar_reward"`
				Components map[string]float64 `json:"components"`
				Duration   float64            `json:"call_duration_ms"`
				InLen      float64            `json:"input_length"`
				OutLen     float64            `json:"output_length"`
			}
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatal(err)
			}
			want := map[string]float64{"time": rec.Timestamp, "step": rec.Step, "reward": rec.Reward,
				"duration_ms": rec.Duration, "input_length": rec.InLen, "length": rec.OutLen}
			for k, v := range rec.Components {
				want["component."+k] = v
			}
			for col, v := range want {
				c, ok := run.Column(col)
				if !ok || math.Float64bits(c[i]) != math.Float64bits(v) {
					t.Fatalf("%s record %d: %s = %v, want %v", path, i+1, col, c[i], v)
				}
			}
			for _, k := range run.Components() {
				c, _ := run.Column("component." + k)
				if _, ok := rec.Components[k]; !ok && !math.IsNaN(c[i]) {
					t.Fatalf("%s record %d: component %s should be missing", path, i+1, k)
				}
			}
			ids, _ := run.StringColumn("call_id")
			if ids[i] != rec.CallID {
				t.Fatalf("%s record %d: call_id %q want %q", path, i+1, ids[i], rec.CallID)
			}
			i++
		}
		if run.Len() != i {
			t.Errorf("%s: %d rows, want %d", path, run.Len(), i)
		}
	}
}

// TestRoundTripConformance: rewardspy JSONL -> Parquet -> CSV -> JSONL must
// reproduce each conformance file byte for byte.
func TestRoundTripConformance(t *testing.T) {
	for _, path := range conformanceFiles(t) {
		orig, _ := os.ReadFile(path)
		run, err := ingest.ReadFile(path, ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var pq bytes.Buffer
		if err := ingest.WriteParquet(&pq, run); err != nil {
			t.Fatalf("%s: WriteParquet: %v", path, err)
		}
		run2, err := ingest.Read(bytes.NewReader(pq.Bytes()), "x.parquet", ingest.Options{})
		if err != nil {
			t.Fatalf("%s: read parquet: %v", path, err)
		}
		if run.Len() > 0 && run2.Format != "parquet" {
			t.Fatalf("parquet detected as %q", run2.Format)
		}
		var csvb bytes.Buffer
		if err := ingest.WriteCSV(&csvb, run2); err != nil {
			t.Fatal(err)
		}
		run3, err := ingest.Read(bytes.NewReader(csvb.Bytes()), "x.csv", ingest.Options{})
		if err != nil {
			t.Fatalf("%s: read csv: %v", path, err)
		}
		var out bytes.Buffer
		if err := ingest.WriteJSONL(&out, run3); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), orig) {
			a, b := firstDiffLine(out.Bytes(), orig)
			t.Errorf("%s: round trip differs:\n got  %s\n want %s", path, a, b)
		}
		if run3.Len() > 0 && run3.Grain != ingest.GrainCall {
			t.Errorf("%s: grain after round trip %q", path, run3.Grain)
		}
	}
}

func firstDiffLine(a, b []byte) (string, string) {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			return la[i], lb[i]
		}
	}
	return "(length differs)", ""
}

func TestRewardspyBadInput(t *testing.T) {
	good := `{"call_id":"a","timestamp":1.0,"step":0,"scalar_reward":0.5,"components":{"x":0.5,"total":0.5},"call_duration_ms":1.0,"input_length":3,"output_length":4}`
	cases := []struct {
		name  string
		line  string
		field string
		msg   string
	}{
		{"malformed", `{"call_id":"b","scalar_reward":}`, "scalar_reward", "invalid value"},
		{"nan literal", `{"call_id":"b","scalar_reward":NaN}`, "scalar_reward", "not a finite number"},
		{"infinity", `{"call_id":"b","scalar_reward":-Infinity}`, "scalar_reward", "not a finite number"},
		{"overflow", `{"call_id":"b","scalar_reward":1e999}`, "scalar_reward", "out of range"},
		{"wrong type", `{"call_id":"b","scalar_reward":"high"}`, "scalar_reward", "want a number"},
		{"call_id number", `{"call_id":7,"scalar_reward":1.0}`, "call_id", "want a string"},
		{"missing reward", `{"call_id":"b","step":1}`, "scalar_reward", "missing required field"},
		{"null reward", `{"call_id":"b","scalar_reward":null}`, "scalar_reward", "null"},
		{"components not object", `{"scalar_reward":1.0,"components":3}`, "components", "want an object"},
		{"component string", `{"scalar_reward":1.0,"components":{"x":"1"}}`, "components/x", "want a number"},
		{"array line", `[1,2,3]`, "", "not a JSON object"},
		{"trailing garbage", `{"scalar_reward":1.0} x`, "", "after the object"},
		{"truncated", `{"call_id":"b","scalar_reward":1.0,"compo`, "", "line ends inside"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := good + "\n" + c.line + "\n" + good + "\n"
			run := readString(t, text, "run.jsonl", ingest.Options{})
			if run.Len() != 2 || run.Skipped != 1 || len(run.Issues) != 1 {
				t.Fatalf("rows %d skipped %d issues %v", run.Len(), run.Skipped, run.Issues)
			}
			is := run.Issues[0]
			if is.File != "run.jsonl" || is.Line != 2 || is.Field != c.field || !strings.Contains(is.Msg, c.msg) {
				t.Errorf("issue %+v, want line 2 field %q msg ~%q", is, c.field, c.msg)
			}
			_, err := ingest.Read(strings.NewReader(text), "run.jsonl", ingest.Options{Strict: true})
			if !errors.Is(err, ingest.ErrStrict) || !strings.Contains(err.Error(), "run.jsonl:2") {
				t.Errorf("strict: %v", err)
			}
		})
	}
}

func TestJSONLEdgeCases(t *testing.T) {
	good := `{"call_id":"a","scalar_reward":0.5,"components":{"x":0.5}}`
	t.Run("empty file", func(t *testing.T) {
		run := readString(t, "", "e.jsonl", ingest.Options{})
		if run.Len() != 0 || run.Skipped != 0 {
			t.Fatalf("%d rows", run.Len())
		}
	})
	t.Run("blank lines and CRLF", func(t *testing.T) {
		run := readString(t, "\n"+good+"\r\n\n  \n"+good+"\r\n", "b.jsonl", ingest.Options{})
		if run.Len() != 2 || run.Skipped != 0 {
			t.Fatalf("rows %d skipped %d %v", run.Len(), run.Skipped, run.Issues)
		}
	})
	t.Run("no final newline parses", func(t *testing.T) {
		run := readString(t, good+"\n"+good, "c.jsonl", ingest.Options{})
		if run.Len() != 2 || run.Skipped != 0 {
			t.Fatalf("rows %d skipped %d", run.Len(), run.Skipped)
		}
	})
	t.Run("partial last line is one issue", func(t *testing.T) {
		run := readString(t, good+"\n"+good+"\n"+`{"call_id":"z","scal`, "d.jsonl", ingest.Options{})
		if run.Len() != 2 || run.Skipped != 1 || run.Issues[0].Line != 3 {
			t.Fatalf("rows %d skipped %d %v", run.Len(), run.Skipped, run.Issues)
		}
	})
	t.Run("binary", func(t *testing.T) {
		_, err := ingest.Read(bytes.NewReader([]byte{0, 1, 2, 0xff, 0xfe, 'P', 'K', 3, 4}), "x.bin", ingest.Options{})
		if !errors.Is(err, ingest.ErrNotARun) {
			t.Fatalf("err = %v", err)
		}
		_, err = ingest.Read(bytes.NewReader([]byte("\x00\x01garbage\n\x02\x03\n")), "x.bin", ingest.Options{Format: "jsonl"})
		if !errors.Is(err, ingest.ErrNotARun) {
			t.Fatalf("forced jsonl on binary: err = %v", err)
		}
	})
	t.Run("unicode escapes", func(t *testing.T) {
		run := readString(t, `{"call_id":"\u00e9\ud83d\ude00\n\"","scalar_reward":1e-5}`+"\n", "u.jsonl", ingest.Options{})
		ids, _ := run.StringColumn("call_id")
		r, _ := run.Column("reward")
		if ids[0] != "é😀\n\"" || r[0] != 1e-5 {
			t.Fatalf("got %q %v", ids[0], r[0])
		}
		var b bytes.Buffer
		ingest.WriteJSONL(&b, run)
		want := `{"call_id":"\u00e9\ud83d\ude00\n\"","timestamp":0.0,"step":0,"scalar_reward":1e-05,"components":{}}` + "\n"
		if b.String() != want {
			t.Fatalf("wrote %s want %s", b.String(), want)
		}
	})
	t.Run("truncated gzip keeps rows", func(t *testing.T) {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		for i := 0; i < 2000; i++ {
			zw.Write([]byte(good + "\n"))
		}
		zw.Close()
		cut := z.Bytes()[:z.Len()*2/3]
		run, err := ingest.Read(bytes.NewReader(cut), "t.jsonl.gz", ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if run.Len() < 100 || run.Len() >= 2000 || len(run.Issues) == 0 {
			t.Fatalf("rows %d issues %v", run.Len(), run.Issues)
		}
		last := run.Issues[len(run.Issues)-1]
		if !strings.Contains(last.Msg, "truncated") || last.Line < run.Len() {
			t.Fatalf("last issue %+v (rows %d)", last, run.Len())
		}
		if _, err := ingest.Read(bytes.NewReader(cut), "t.jsonl.gz", ingest.Options{Strict: true}); !errors.Is(err, ingest.ErrStrict) {
			t.Fatalf("strict truncated gzip: %v", err)
		}
	})
}

func TestGenericJSONL(t *testing.T) {
	text := `{"step": 1, "train_reward": 0.5, "kl": 0.0, "metrics": {"acc": 0.25, "name": "a"}, "ok": true, "tags": [1, 2], "x": null}
{"step": 2, "train_reward": 0.75, "eval_loss": 1.5, "eval_runtime": 3.0, "ok": false, "reward": 9}
{"step": 3, "train_reward": 1.0, "metrics": {"acc": "n/a"}}
`
	run := readString(t, text, "m.jsonl", ingest.Options{Map: map[string]string{"reward": "train_reward"}})
	if run.Format != "jsonl" || run.Len() != 3 || run.Skipped != 0 {
		t.Fatalf("format %s rows %d issues %v", run.Format, run.Len(), run.Issues)
	}
	wantCols := []string{"step", "reward", "kl", "eval.loss", "extra.eval_runtime", "extra.metrics/acc",
		"extra.metrics/name", "extra.ok", "extra.reward", "extra.tags"}
	if got := run.Columns(); !reflect.DeepEqual(got, wantCols) {
		t.Fatalf("columns %v\nwant    %v", got, wantCols)
	}
	r, _ := run.Column("reward")
	if !reflect.DeepEqual(r, []float64{0.5, 0.75, 1.0}) {
		t.Errorf("reward %v", r)
	}
	acc, ok := run.StringColumn("extra.metrics/acc")
	if !ok || !reflect.DeepEqual(acc, []string{"0.25", "", "n/a"}) {
		t.Errorf("mixed column %q", acc)
	}
	okc, _ := run.Column("extra.ok")
	if okc[0] != 1 || okc[1] != 0 || !math.IsNaN(okc[2]) {
		t.Errorf("bools %v", okc)
	}
	tags, _ := run.StringColumn("extra.tags")
	if tags[0] != "[1, 2]" {
		t.Errorf("array %q", tags[0])
	}
	if run.Grain != ingest.GrainStep {
		t.Errorf("grain %s", run.Grain)
	}
	_, err := ingest.Read(strings.NewReader(text), "m.jsonl", ingest.Options{Map: map[string]string{"reward": "train_rewrd"}})
	if err == nil || !strings.Contains(err.Error(), "train_rewrd") || !strings.Contains(err.Error(), "train_reward") {
		t.Errorf("typo in --map: %v", err)
	}
}

func TestSameStepMerge(t *testing.T) {
	text := `{"step": 0, "eval_acc": 0.5}
{"step": 1, "loss": 2.0, "train_reward": 0.1}
{"step": 1, "eval_acc": 0.6}
{"step": 2, "loss": 1.5, "train_reward": 0.2}
`
	run := readString(t, text, "s.jsonl", ingest.Options{Map: map[string]string{"reward": "train_reward"}})
	if run.Len() != 3 || run.Grain != ingest.GrainStep {
		t.Fatalf("rows %d grain %s", run.Len(), run.Grain)
	}
	acc, _ := run.Column("eval.acc")
	if acc[0] != 0.5 || acc[1] != 0.6 || !math.IsNaN(acc[2]) {
		t.Errorf("eval.acc %v", acc)
	}
	// Conflicting values at one step: several samples per step, no merge.
	run = readString(t, `{"step":1,"reward":1}
{"step":1,"reward":0}
{"step":2,"reward":1}
`, "s.jsonl", ingest.Options{})
	if run.Len() != 3 || run.Grain != ingest.GrainSample {
		t.Fatalf("rows %d grain %s", run.Len(), run.Grain)
	}
}

func TestRealStepJSONL(t *testing.T) {
	path := ingesttest.RealData(t, "Rohanjain2312__grpo-reward-hacking-demo", "results__baseline__metrics.jsonl")
	run, err := ingest.ReadFile(path, ingest.Options{Map: map[string]string{"reward": "train_reward", "reward_std": "train_reward_std"}})
	if err != nil {
		t.Fatal(err)
	}
	if run.Format != "jsonl" || run.Grain != ingest.GrainStep || run.Len() != 81 || run.Skipped != 0 {
		t.Fatalf("format %s grain %s rows %d skipped %d", run.Format, run.Grain, run.Len(), run.Skipped)
	}
	for _, c := range []string{"reward", "reward_std", "kl", "eval.reward", "eval.perplexity", "extra.pg_loss"} {
		if !run.Has(c) {
			t.Errorf("missing column %s", c)
		}
	}
	r, _ := run.Column("reward")
	p, _ := run.Column("eval.perplexity")
	if !math.IsNaN(r[0]) || r[80] != 0.9963700175285339 || p[0] != 4.470999240875244 || p[80] != 18.139753341674805 {
		t.Errorf("values: r0 %v r80 %v p0 %v p80 %v", r[0], r[80], p[0], p[80])
	}
}

func TestDemoRuns(t *testing.T) {
	for _, name := range []string{"healthy.jsonl", "hacked.jsonl"} {
		run, err := ingest.ReadFile(ingesttest.Testdata(t, "runs", name), ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if run.Len() != 600 || run.Format != "rewardspy-jsonl" || len(run.Components()) != 3 {
			t.Errorf("%s: rows %d format %s components %v", name, run.Len(), run.Format, run.Components())
		}
	}
	run, err := ingest.ReadFile(ingesttest.Testdata(t, "runs", "divergence_steps.jsonl"),
		ingest.Options{Map: map[string]string{"reward": "train_reward", "reward_std": "train_reward_std", "length": "completion_length"}})
	if err != nil {
		t.Fatal(err)
	}
	if run.Len() != 200 || run.Grain != ingest.GrainStep || len(run.EvalMetrics()) != 2 || !run.Has("length") {
		t.Errorf("divergence: rows %d grain %s eval %v", run.Len(), run.Grain, run.EvalMetrics())
	}
}

// TestChunkBoundaries reads a file large enough for many parallel chunks and
// checks order, count and issue line numbers.
func TestChunkBoundaries(t *testing.T) {
	var b bytes.Buffer
	if err := ingesttest.WriteRewardspyJSONL(&b, 60000, 5); err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b.Bytes(), []byte("\n"))
	lines[12345] = []byte("{broken\n")
	lines[45678] = []byte("\n") // a blank line is not a record
	lines[59000] = []byte(`{"scalar_reward":1e999}` + "\n")
	data := bytes.Join(lines, nil)
	run, err := ingest.Read(bytes.NewReader(data), "big.jsonl", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Len() != 59997 || run.Skipped != 2 || run.Issues[0].Line != 12346 || run.Issues[1].Line != 59001 {
		t.Fatalf("rows %d skipped %d issues %v", run.Len(), run.Skipped, run.Issues)
	}
	steps, _ := run.Column("step")
	for i := 1; i < len(steps); i++ {
		if steps[i] <= steps[i-1] {
			t.Fatalf("order broken at row %d: %v after %v", i, steps[i], steps[i-1])
		}
	}
}

// TestNumberParsingExact checks the scanner's number parsing against
// strconv.ParseFloat bit for bit on many random decimal spellings.
func TestNumberParsingExact(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var nums []string
	for i := 0; i < 200000; i++ {
		var s string
		switch i % 5 {
		case 0:
			s = strconv.FormatFloat(rng.NormFloat64()*math.Pow(10, float64(rng.Intn(40)-20)), 'g', -1, 64)
		case 1:
			s = strconv.FormatFloat(rng.Float64()*1e4, 'f', rng.Intn(18), 64)
		case 2:
			s = strconv.FormatInt(rng.Int63n(1<<62)>>uint(rng.Intn(62)), 10)
		case 3:
			s = strconv.FormatFloat(float64(rng.Int63()), 'e', rng.Intn(20), 64)
		case 4:
			s = "0." + strings.Repeat("0", rng.Intn(25)) + strconv.Itoa(rng.Intn(1e9))
		}
		if rng.Intn(3) == 0 && !strings.HasPrefix(s, "-") {
			s = "-" + s
		}
		nums = append(nums, s)
	}
	nums = append(nums, "-0.0", "0", "-0", "1e22", "1e23", "9007199254740993", "0.1e-400", "123456789012345678901234567890",
		"0.000", "-0.0e-0", "1E+2", "123456789012345e-22", "123456789012345e-23", "1234567890123456", "0.00000000000000000000001234", "1e-7", "99999999999999999999e-5", "5e-324", "1.7976931348623157e308")
	var b strings.Builder
	for _, s := range nums {
		fmt.Fprintf(&b, `{"scalar_reward":%s}`+"\n", s)
	}
	run := readString(t, b.String(), "n.jsonl", ingest.Options{})
	r, _ := run.Column("reward")
	if len(r) != len(nums) {
		t.Fatalf("%d rows for %d numbers (%v)", len(r), len(nums), run.Issues)
	}
	for i, s := range nums {
		want, _ := strconv.ParseFloat(s, 64)
		if math.Float64bits(r[i]) != math.Float64bits(want) {
			t.Fatalf("%s: got %v (%x), want %v (%x)", s, r[i], math.Float64bits(r[i]), want, math.Float64bits(want))
		}
	}
}

func TestLongLine(t *testing.T) {
	long := `{"scalar_reward":1.0,"extra":"` + strings.Repeat("x", 5<<20) + `"}`
	text := `{"scalar_reward":0.5}` + "\n" + long + "\n" + `{"scalar_reward":2.0}` + "\n"
	run := readString(t, text, "long.jsonl", ingest.Options{})
	r, _ := run.Column("reward")
	if run.Len() != 3 || r[1] != 1.0 || r[2] != 2.0 || run.Skipped != 0 {
		t.Fatalf("rows %d reward %v issues %v", run.Len(), r, run.Issues)
	}
}

// TestFilePathSameAsStream: a plain file (columns sized by a line count
// first) and a stream (chunks joined at the end) give identical runs.
func TestFilePathSameAsStream(t *testing.T) {
	var b bytes.Buffer
	if err := ingesttest.WriteRewardspyJSONL(&b, 30000, 9); err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b.Bytes(), []byte("\n"))
	lines[777] = []byte(`{"scalar_reward":"x"}` + "\n")
	lines[20000] = []byte(`{"scalar_reward":0.5,"note":"text"}` + "\n") // a new column mid-file
	data := bytes.Join(lines, nil)
	path := filepath.Join(t.TempDir(), "f.jsonl")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := ingest.ReadFile(path, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ingest.Read(bytes.NewReader(data), path, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 29999 || !reflect.DeepEqual(a.Columns(), s.Columns()) || !reflect.DeepEqual(a.Issues, s.Issues) || !reflect.DeepEqual(a.Meta, s.Meta) {
		t.Fatalf("rows %d/%d columns %v / %v issues %v / %v", a.Len(), s.Len(), a.Columns(), s.Columns(), a.Issues, s.Issues)
	}
	for _, name := range a.Columns() {
		if x, ok := a.StringColumn(name); ok {
			y, _ := s.StringColumn(name)
			if !reflect.DeepEqual(x, y) {
				t.Fatalf("column %s differs", name)
			}
			continue
		}
		x, _ := a.Column(name)
		y, _ := s.Column(name)
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				t.Fatalf("column %s row %d: %v vs %v", name, i, x[i], y[i])
			}
		}
	}
	note, _ := a.StringColumn("extra.note")
	if note[19999] != "text" {
		t.Errorf("note %q", note[19999])
	}
}

func TestJSONLByteOrderMark(t *testing.T) {
	run := readString(t, "\ufeff"+`{"call_id":"a","scalar_reward":0.5}`+"\n", "bom.jsonl", ingest.Options{})
	if run.Len() != 1 || run.Format != "rewardspy-jsonl" || run.Skipped != 0 {
		t.Fatalf("rows %d format %s issues %v", run.Len(), run.Format, run.Issues)
	}
}

func TestMapOnRewardspyLog(t *testing.T) {
	text := `{"call_id":"a","timestamp":1.0,"step":0,"scalar_reward":1.5,"components":{"format":1.0,"correct":0.5}}` + "\n"
	run := readString(t, text, "m.jsonl", ingest.Options{Map: map[string]string{"reward": "components/correct"}})
	r, _ := run.Column("reward")
	orig, _ := run.Column("extra.scalar_reward")
	if r[0] != 0.5 || orig[0] != 1.5 || !run.Has("component.format") || run.Has("component.correct") || run.Grain != ingest.GrainCall {
		t.Fatalf("columns %v reward %v grain %s", run.Columns(), r, run.Grain)
	}
}

func TestTooManyKeys(t *testing.T) {
	var b strings.Builder
	for i := 0; i <= ingest.MaxColumns; i++ {
		fmt.Fprintf(&b, `{"id_%d": 1}`+"\n", i)
	}
	_, err := ingest.Read(strings.NewReader(b.String()), "ids.jsonl", ingest.Options{})
	if !errors.Is(err, ingest.ErrNotARun) || !strings.Contains(err.Error(), "distinct keys") {
		t.Fatalf("err = %v", err)
	}
}
