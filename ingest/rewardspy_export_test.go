package ingest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// rewardspyKeys are the fields of rewardspy's RolloutRecord, in its order;
// the first four have no default.
var rewardspyKeys = []string{"call_id", "timestamp", "step", "scalar_reward", "components", "call_duration_ms", "input_length", "output_length"}

// checkRewardspyRecords fails unless every line of data is a record
// rewardspy's reader accepts: a JSON object whose keys are rewardspy's
// fields in its order, the required four present, call_id a string,
// the numbers numbers and components an object of numbers.
func checkRewardspyRecords(t *testing.T, name string, data []byte) int {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 16<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		tok, err := dec.Token()
		if err != nil || tok != json.Delim('{') {
			t.Fatalf("%s:%d: not an object: %s", name, n, line)
		}
		var keys []string
		vals := map[string]any{}
		for dec.More() {
			k, _ := dec.Token()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%s:%d: %v", name, n, err)
			}
			keys = append(keys, k.(string))
			vals[k.(string)] = v
		}
		j := 0
		for _, k := range keys {
			for j < len(rewardspyKeys) && rewardspyKeys[j] != k {
				j++
			}
			if j == len(rewardspyKeys) {
				t.Fatalf("%s:%d: key %q is not a rewardspy field, or out of order: %s", name, n, k, line)
			}
		}
		for _, k := range rewardspyKeys[:4] {
			if _, ok := vals[k]; !ok {
				t.Fatalf("%s:%d: required %s missing: %s", name, n, k, line)
			}
		}
		if _, ok := vals["call_id"].(string); !ok {
			t.Fatalf("%s:%d: call_id is not a string: %s", name, n, line)
		}
		for _, k := range []string{"timestamp", "step", "scalar_reward", "call_duration_ms", "input_length", "output_length"} {
			if v, ok := vals[k]; ok {
				if _, isNum := v.(json.Number); !isNum {
					t.Fatalf("%s:%d: %s is not a number: %s", name, n, k, line)
				}
			}
		}
		if c, ok := vals["components"]; ok {
			m, isObj := c.(map[string]any)
			if !isObj {
				t.Fatalf("%s:%d: components is not an object: %s", name, n, line)
			}
			for k, v := range m {
				if _, isNum := v.(json.Number); !isNum {
					t.Fatalf("%s:%d: component %s is not a number: %s", name, n, k, line)
				}
			}
		}
	}
	return n
}

// A small run by hand: an eval-only row is left out, missing required
// fields are filled, and RewardspyLosses says what was dropped.
func TestRewardspyRecords(t *testing.T) {
	run := ingest.NewRun(3)
	nan := math.NaN()
	run.SetColumn("step", []float64{10, 10, 20})
	run.SetColumn("reward", []float64{0.5, nan, 0.75})
	run.SetColumn("component.acc", []float64{1, nan, nan})
	run.SetStringColumn("component.note", []string{"x", "", "y"})
	run.SetColumn("length", []float64{120, nan, 130.5})
	run.SetColumn("kl", []float64{0.01, nan, 0.02})
	run.SetColumn("eval.score", []float64{nan, 0.61, nan})
	var b bytes.Buffer
	if err := ingest.WriteJSONL(&b, run); err != nil {
		t.Fatal(err)
	}
	want := `{"call_id":"row-1","timestamp":0.0,"step":10,"scalar_reward":0.5,"components":{"acc":1.0},"output_length":120}` + "\n" +
		`{"call_id":"row-3","timestamp":0.0,"step":20,"scalar_reward":0.75,"components":{},"output_length":130.5}` + "\n"
	if b.String() != want {
		t.Fatalf("got\n%swant\n%s", b.String(), want)
	}
	checkRewardspyRecords(t, "hand", b.Bytes())
	noReward, first, dropped := ingest.RewardspyLosses(run)
	if noReward != 1 || first != 2 || !reflect.DeepEqual(dropped, []string{"component.note", "kl", "eval.score"}) {
		t.Errorf("RewardspyLosses = %d, %d, %q", noReward, first, dropped)
	}
	back := readString(t, b.String(), "back.jsonl", ingest.Options{})
	if back.Format != "rewardspy-jsonl" || back.Len() != 2 || back.Skipped != 0 || len(back.Issues) != 0 {
		t.Errorf("read back: %s, %d rows, %d skipped, %v", back.Format, back.Len(), back.Skipped, back.Issues)
	}

	// a numeric call_id is written as text; the "rewardspy" writer is the same
	run2 := ingest.NewRun(1)
	run2.SetColumn("reward", []float64{1})
	run2.SetColumn("call_id", []float64{42})
	w, err := ingest.LookupWriter("rewardspy", "")
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	w.Write(&b, run2)
	if got := b.String(); got != `{"call_id":"42","timestamp":0.0,"step":0,"scalar_reward":1.0,"components":{}}`+"\n" {
		t.Errorf("numeric call_id: %s", got)
	}
	if noReward, _, dropped := ingest.RewardspyLosses(run2); noReward != 0 || dropped != nil {
		t.Errorf("nothing lost: %d %q", noReward, dropped)
	}
}

// The verl GRPO log has eval-only rows (validation before training and
// every few steps): its export is rewardspy records that read back with
// no malformed record.
func TestRewardspyExportVerlGRPO(t *testing.T) {
	path := ingesttest.RealData(t, "yushengsu-thu__verl_training_log", "gsm8k__grpo_run_deepseek7b_llm.log")
	run, err := ingest.ReadFile(path, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := ingest.WriteJSONL(&b, run); err != nil {
		t.Fatal(err)
	}
	n := checkRewardspyRecords(t, "verl.jsonl", b.Bytes())
	noReward, first, dropped := ingest.RewardspyLosses(run)
	if noReward == 0 || n != run.Len()-noReward || len(dropped) == 0 {
		t.Fatalf("%d rows, %d written, %d without a reward (first row %d), dropped %q", run.Len(), n, noReward, first, dropped)
	}
	back, err := ingest.Read(bytes.NewReader(b.Bytes()), "verl.jsonl", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if back.Format != "rewardspy-jsonl" || back.Len() != n || back.Skipped != 0 || len(back.Issues) != 0 {
		t.Fatalf("read back: %s, %d rows (wrote %d), %d skipped, %v", back.Format, back.Len(), n, back.Skipped, back.Issues)
	}
	// the rewards are the run's rewards, in order
	r, _ := run.Column(ingest.ColReward)
	r2, _ := back.Column(ingest.ColReward)
	j := 0
	for _, x := range r {
		if math.IsNaN(x) {
			continue
		}
		if r2[j] != x {
			t.Fatalf("reward %d: %v, wrote %v", j, r2[j], x)
		}
		j++
	}
	t.Logf("%d rows: %d records, %d eval-only rows left out (first: row %d), %d columns dropped", run.Len(), n, noReward, first, len(dropped))
}

// Every real log goodhart reads exports to valid rewardspy records that
// read back without a malformed record.
func TestRewardspyExportRealData(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(ingesttest.SharedDir(t), "realdata", "*", "*"))
	if len(files) == 0 {
		t.Skip("no real data")
	}
	tried := 0
	for _, path := range files {
		if st, err := os.Stat(path); err != nil || st.IsDir() || strings.HasSuffix(path, ".md") {
			continue
		}
		run, err := ingest.ReadFile(path, ingest.Options{})
		if err != nil {
			continue // not a run goodhart reads without help; not this test's business
		}
		tried++
		var b bytes.Buffer
		if err := ingest.WriteJSONL(&b, run); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		n := checkRewardspyRecords(t, filepath.Base(path), b.Bytes())
		noReward, _, _ := ingest.RewardspyLosses(run)
		if n != run.Len()-noReward {
			t.Errorf("%s: wrote %d records of %d rows with %d without a reward", path, n, run.Len(), noReward)
		}
		if n == 0 {
			continue
		}
		back, err := ingest.Read(bytes.NewReader(b.Bytes()), "x.jsonl", ingest.Options{})
		if err != nil {
			t.Errorf("%s: read back: %v", path, err)
			continue
		}
		if back.Len() != n || back.Skipped != 0 || len(back.Issues) != 0 {
			t.Errorf("%s: read back %s, %d rows (wrote %d), %d skipped, %v", path, back.Format, back.Len(), n, back.Skipped, back.Issues)
		}
	}
	if tried == 0 {
		t.Skip("no readable real data")
	}
	t.Log(fmt.Sprintf("%d real logs exported", tried))
}
