package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

func TestScratchAlerts(t *testing.T) {
	var b bytes.Buffer
	ingesttest.WriteRewardspyJSONL(&b, 200000, 1)
	run, _ := ingest.Read(&b, "x", ingest.Options{})
	m := newShowModel("x", analysis.Config{}, 0, nil)
	m.batchEvery = -1
	feed(m, run)
	t0 := time.Now()
	for i := 0; i < 20; i++ {
		m.repDirty = true
		m.view()
	}
	t.Logf("alerts %d, view %v", m.alertN, time.Since(t0)/20)
	m.mu.Lock()
	t0 = time.Now()
	for i := 0; i < 20; i++ {
		m.eng.Report()
	}
	m.mu.Unlock()
	t.Logf("report %v", time.Since(t0)/20)
}
