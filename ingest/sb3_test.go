package ingest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

func TestSB3Monitor(t *testing.T) {
	run, err := ingest.ReadFile(ingesttest.Testdata(t, "trainers", "monitor.csv"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Format != "sb3-monitor" || run.Grain != ingest.GrainEpisode || run.Len() != 40 {
		t.Fatalf("format %q grain %q rows %d", run.Format, run.Grain, run.Len())
	}
	if run.Meta["env_id"] != "Reacher-v4" || run.Meta["t_start"] != "1708701891.5" {
		t.Errorf("meta = %v", run.Meta)
	}
	if got := run.Columns(); strings.Join(got, ",") != "time,reward,length,extra.episode_energy,extra.success" {
		t.Errorf("columns = %v", got)
	}
	if r := h4Col(t, run, "reward"); r[0] != -5 || r[10] != -4 {
		t.Errorf("reward = %v, %v", r[0], r[10])
	}
	if s := h4Col(t, run, "extra.success"); s[0] != 0 || s[1] != 1 {
		t.Errorf("success booleans = %v, %v; want 0, 1", s[0], s[1])
	}
	if run.Has("step") {
		t.Error("monitor files have no step column")
	}
}

func TestSB3BadRows(t *testing.T) {
	head := "#{\"t_start\": 1.0, \"env_id\": \"X\"}\nr,l,t,tag\n"
	cases := []struct {
		name, body string
		rows       int
		issues     []string
		strCol     bool
	}{
		{"bad reward", "1,2,3,a\nx,2,3,b\n4,5,6,c\n", 2, []string{`m.csv:4: field "r": value "x" is not a number`}, true},
		{"short row", "1,2,3,a\n1,2\n4,5,6,c\n", 2, []string{"m.csv:4: row has 2 fields, header has 4"}, true},
		// A last line without its newline is reported (it may be cut
		// mid-number); Follow reading a live run drops it quietly.
		{"cut last line", "1,2,3,1\n4,5", 1, []string{"m.csv:4: incomplete last line (no newline at the end: the file is cut short): row has 2 fields, header has 4"}, false},
		{"cut value", "1,2,3,1\n0.665,5,6,1", 1, []string{"m.csv:4: incomplete last line (no newline at the end: the file is cut short)"}, false},
		{"non-finite reward", "1,2,3,1\ninf,5,6,1\nnan,5,6,1\n1e309,1,1,1\n", 1, []string{`m.csv:4: field "r": not a finite number: inf`, `m.csv:5: field "r": not a finite number: nan`, `m.csv:6: field "r": not a finite number: 1e309`}, false},
		{"boolean reward", "True,2,3,1\n4,5,6,1\n", 1, []string{`m.csv:3: field "r": want a number, got a boolean (True)`}, false},
		{"non-finite info", "1,2,3,inf\n4,5,6,1\n", 2, []string{`m.csv:3: field "tag": not a finite number: inf (left missing)`}, false},
		{"quoted info", "1,2,3,\"[1, 2]\"\n", 1, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run, err := ingest.Read(strings.NewReader(head+c.body), "m.csv", ingest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if run.Format != "sb3-monitor" || run.Len() != c.rows || len(run.Issues) != len(c.issues) {
				t.Fatalf("format %s rows %d issues %v", run.Format, run.Len(), run.Issues)
			}
			for i, is := range c.issues {
				if run.Issues[i].Error() != is {
					t.Errorf("issue %q, want %q", run.Issues[i].Error(), is)
				}
			}
			if run.IsString("extra.tag") != c.strCol {
				t.Errorf("extra.tag string = %v, want %v", run.IsString("extra.tag"), c.strCol)
			}
			if len(c.issues) > 0 {
				if _, err := ingest.Read(strings.NewReader(head+c.body), "m.csv", ingest.Options{Strict: true}); !errors.Is(err, ingest.ErrStrict) {
					t.Errorf("strict: %v", err)
				}
			}
		})
	}
	if _, err := ingest.Read(strings.NewReader("#{}\na,b\n1,2\n"), "m.csv", ingest.Options{Format: "sb3-monitor"}); !errors.Is(err, ingest.ErrNotARun) {
		t.Errorf("header without r,l,t: %v", err)
	}
}

func FuzzSB3(f *testing.F) {
	f.Add([]byte("#{\"t_start\": 1.0}\nr,l,t,success\n1.5,10,0.3,True\n2,11,0.6,False\n"))
	f.Add([]byte("#{bad\nr,l,t\n\"1,2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		run, err := ingest.Read(strings.NewReader(string(b)), "f.csv", ingest.Options{Format: "sb3-monitor"})
		if err == nil {
			h4CheckRun(t, run)
		}
	})
}
