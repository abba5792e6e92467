package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// Absurd numeric flags are refused with the flag, the value and the limit;
// none runs out of memory or panics.
func TestNumericFlagLimits(t *testing.T) {
	hacked := ingesttest.Testdata(t, "runs", "hacked.jsonl")
	drift := repoPath("testdata", "conformance", "alignment", "drift_10.csv")
	cases := filepath.Join(t.TempDir(), "c.jsonl")
	os.WriteFile(cases, []byte("{\"response\": \"x\"}\n"), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"show", hacked, "--window", "9223372036854775807"}, "--window 9223372036854775807: must be at most 1048576"},
		{[]string{"audit", hacked, "--window", "9223372036854775807"}, "--window 9223372036854775807: must be at most 16777216"},
		{[]string{"summary", hacked, "--window", "100000000000"}, "must be at most 16777216"},
		{[]string{"report", hacked, "-o", filepath.Join(t.TempDir(), "r.html"), "--balance-window", "100000000000"}, "--balance-window 100000000000: must be at most"},
		{[]string{"align", drift, "--expected", "task=0.7,safety=0.3", "--window", "1000000000000"}, "--window 1000000000000: must be at most 16777216"},
		{[]string{"align", drift, "--expected", "task=0.7,safety=0.3", "--window", "5000"}, "--window 5000: longer than the run (2,000 records); use at most 2,000"},
		{[]string{"align", drift, "--expected", "task=0.7,safety=0.3", "--drift-window", "99999999999"}, "--drift-window 99999999999: must be at most"},
		{[]string{"show", hacked, "--interval", "1ns"}, "--interval 1ns: want a duration from 10ms to 1h0m0s"},
		{[]string{"show", hacked, "--last", "-1"}, "--last -1: must be >= 0"},
		{[]string{"audit", hacked, "--last", "-1"}, "--last -1: must be >= 0"},
		{[]string{"probe", "--cmd", "true", "-p", cases, "--concurrency", "1000000"}, "--concurrency 1000000: must be at most 256"},
		{[]string{"probe", "--cmd", "true", "-p", cases, "--timeout", "1000000h"}, "--timeout 1000000h0m0s: want a duration from 1ms to 24h0m0s"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:1], " ")+" "+tt.want, func(t *testing.T) {
			start := time.Now()
			_, errOut, code := reportCmd(tt.args...)
			if code != exitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, errOut, tt.want)
			}
			if el := time.Since(start); el > 10*time.Second {
				t.Errorf("took %s", el)
			}
		})
	}
	// A window that fits is accepted.
	if _, e, code := reportCmd("align", drift, "--expected", "task=0.7,safety=0.3", "--window", "2000"); code == exitUsage {
		t.Errorf("--window 2000 on 2,000 records refused: %s", e)
	}
}
