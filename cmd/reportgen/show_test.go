package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// batch builds a call-grain run from columns.
func batch(cols map[string][]float64) *ingest.Run {
	n := 0
	for _, c := range cols {
		n = len(c)
	}
	r := ingest.NewRun(n)
	r.Format, r.Grain = "rewardspy-jsonl", ingest.GrainCall
	for k, c := range cols {
		r.SetColumn(k, c)
	}
	return r
}

func feed(m *showModel, runs ...*ingest.Run) {
	for _, r := range runs {
		m.apply(ingest.FollowEvent{Kind: ingest.FollowRecords, Run: r})
	}
	m.apply(ingest.FollowEvent{Kind: ingest.FollowIdle})
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// TestShowModelNumbers checks the overview on a case small enough to work
// out by hand (window 3).
func TestShowModelNumbers(t *testing.T) {
	m := mustShowModel(t, "x", analysis.Config{Window: 3}, 0, nil)
	feed(m, batch(map[string][]float64{
		"reward":      {1, 2, 3},
		"component.a": {1, 1, 1},
		"component.b": {-1, -2, math.NaN()},
	}), batch(map[string][]float64{
		"reward":      {4, 5},
		"component.a": {1, 1},
		"component.b": {-4, -5},
	}))
	v := m.view()
	if v.Records != 5 || v.Counted != 5 || v.Window != 3 {
		t.Fatalf("records %d counted %d window %d, want 5 5 3", v.Records, v.Counted, v.Window)
	}
	// Window [3 4 5]: mean 4, population std sqrt(2/3).
	if s := v.Summary; s == nil || !near(s.Mean, 4) || !near(s.Std, math.Sqrt(2.0/3)) || s.Min != 3 || s.Max != 5 || s.P50 != 4 {
		t.Errorf("summary %+v", v.Summary)
	}
	// Baseline: pstdev of the first max(2, int(0.2*3)) = 2 rewards = 0.5.
	if want := math.Sqrt(2.0/3) / 0.5; !near(v.VarRatio, want) {
		t.Errorf("variance ratio %v, want %v", v.VarRatio, want)
	}
	// Ceiling = lifetime max 5; window values >= 4.95: one of three.
	if !near(v.CeilingShare, 1.0/3) || v.Ceiling != 5 {
		t.Errorf("ceiling share %v of %v, want 1/3 of 5", v.CeilingShare, v.Ceiling)
	}
	// Components over the last 3 records: a mean 1; b mean (-4-5)/2 = -4.5
	// (its NaN is absent, not zero): shares 1/5.5 and 4.5/5.5.
	want := []compView{{Name: "a", Mean: 1, Share: 1 / 5.5}, {Name: "b", Mean: -4.5, Share: 4.5 / 5.5}}
	if len(v.Components) != 2 {
		t.Fatalf("components %+v", v.Components)
	}
	for i, c := range v.Components {
		if c.Name != want[i].Name || !near(c.Mean, want[i].Mean) || !near(c.Share, want[i].Share) {
			t.Errorf("component %d = %+v, want %+v", i, c, want[i])
		}
	}
	if got := fmt.Sprint(v.Curve); got != "[1 2 3 4 5]" {
		t.Errorf("curve %s", got)
	}
	if len(v.Recent) != 5 || v.Recent[0].Record != 5 || v.Recent[0].Reward != 5 || v.Recent[4].Record != 1 {
		t.Errorf("recent rows not newest first: %+v", v.Recent)
	}
	if v.Recent[0].Step != 4 {
		t.Errorf("run step of record 5 = %v, want 4 (the row index when the run has no step column)", v.Recent[0].Step)
	}
}

// TestShowModelMatchesAudit: the live view's verdict, statuses and alerts
// equal the audit of the same file, however the file is cut into batches.
func TestShowModelMatchesAudit(t *testing.T) {
	for _, name := range []string{"hacked.jsonl", "healthy.jsonl"} {
		path := ingesttest.Testdata(t, "runs", name)
		run, err := ingest.ReadFile(path, ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cfg := analysis.Config{Detectors: []string{"rewardspy"}}
		rep, err := analysis.Audit(run, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, chunk := range []int{100, 4096, 1 << 20} {
			m := mustShowModel(t, path, cfg, 0, nil)
			err := ingest.Follow(context.Background(), path, ingest.FollowOptions{Once: true, ChunkBytes: chunk}, m.apply)
			if err != nil {
				t.Fatal(err)
			}
			v := m.view()
			if v.Verdict != rep.Verdict || v.ExitCode != rep.ExitCode || v.Records != rep.Records {
				t.Errorf("%s chunk %d: verdict %s exit %d records %d, audit %s %d %d", name, chunk, v.Verdict, v.ExitCode, v.Records, rep.Verdict, rep.ExitCode, rep.Records)
			}
			if fmt.Sprint(v.Detectors) != fmt.Sprint(rep.Detectors) {
				t.Errorf("%s chunk %d: detectors\n%v\naudit\n%v", name, chunk, v.Detectors, rep.Detectors)
			}
			if v.TotalAlerts != len(rep.Alerts) || (len(rep.Alerts) > 0 && fmt.Sprint(v.Alerts[0]) != fmt.Sprint(rep.Alerts[len(rep.Alerts)-1])) {
				t.Errorf("%s chunk %d: %d alerts, newest %v; audit %d", name, chunk, v.TotalAlerts, v.Alerts, len(rep.Alerts))
			}
			if strings.Join(v.Diagnosis, "\n") != rep.HumanDiagnosis() {
				t.Errorf("%s chunk %d: diagnosis %q, audit %q", name, chunk, strings.Join(v.Diagnosis, "\n"), rep.Diagnosis)
			}
		}
	}
}

// TestShowModelHolding: step-grain runs get the scaled window of their
// length, and --last keeps only the last N records of what was there.
func TestShowModelHolding(t *testing.T) {
	rewards := make([]float64, 60)
	for i := range rewards {
		rewards[i] = float64(i)
	}
	step := batch(map[string][]float64{"reward": rewards})
	step.Grain = ingest.GrainStep

	m := mustShowModel(t, "x", analysis.Config{}, 0, nil)
	m.apply(ingest.FollowEvent{Kind: ingest.FollowRecords, Run: step})
	if v := m.view(); v.Verdict != analysis.VerdictCollecting || !strings.Contains(v.Diagnosis[0], "60 records so far") {
		t.Errorf("before catching up: %s %q", v.Verdict, v.Diagnosis)
	}
	m.apply(ingest.FollowEvent{Kind: ingest.FollowIdle})
	if v := m.view(); v.Window != 12 || v.Counted != 60 { // clamp(60/5, 10, 100)
		t.Errorf("step grain: window %d counted %d, want 12 and 60", v.Window, v.Counted)
	}

	m = mustShowModel(t, "x", analysis.Config{}, 25, nil)
	feed(m, batch(map[string][]float64{"reward": rewards}))
	m.apply(ingest.FollowEvent{Kind: ingest.FollowRecords, Run: batch(map[string][]float64{"reward": {100}})})
	v := m.view()
	if v.Records != 26 || v.Counted != 26 || v.Recent[1].Reward != 59 || v.Recent[1].Record != 25 || v.Recent[0].Record != 26 {
		t.Errorf("--last 25: records %d counted %d recent %+v", v.Records, v.Counted, v.Recent[:2])
	}
	if got := v.Curve[0]; got != 35 {
		t.Errorf("--last 25: first curve point %v, want 35", got)
	}
}

func TestShowModelReset(t *testing.T) {
	m := mustShowModel(t, "x", analysis.Config{Window: 3}, 0, nil)
	feed(m, batch(map[string][]float64{"reward": {1, 2, 3, 4}}))
	m.apply(ingest.FollowEvent{Kind: ingest.FollowReset, Msg: "x was truncated"})
	feed(m, batch(map[string][]float64{"reward": {7}}))
	v := m.view()
	if v.Records != 1 || v.Counted != 1 || len(v.Curve) != 1 || v.Curve[0] != 7 || v.Notice != "x was truncated" || v.Verdict != analysis.VerdictCollecting {
		t.Errorf("after reset: %+v", v)
	}
}

func TestShowModelNoReward(t *testing.T) {
	m := mustShowModel(t, "x", analysis.Config{}, 0, nil)
	feed(m, batch(map[string][]float64{"extra.loss": {1, 2}}))
	v := m.view()
	if v.Records != 2 || v.Counted != 0 || !strings.Contains(v.Diagnosis[0], "--map reward=") {
		t.Errorf("no reward column: %d %d %q", v.Records, v.Counted, v.Diagnosis)
	}
}

func TestShowModelBalance(t *testing.T) {
	m := mustShowModel(t, "x", analysis.Config{}, 0, map[string]float64{"a": 1, "b": 1})
	feed(m, batch(map[string][]float64{
		"reward":          {1, 1, 1, 1},
		"component.a":     {3, 3, 3, 3},
		"component.b":     {-1, -1, -1, -1},
		"component.total": {2, 2, 2, 2},
	}))
	b := m.view().Balance
	if b == nil {
		t.Fatal("no balance")
	}
	// |a| = 12, |b| = 4 (total left out): 75% and 25% against 50/50.
	if a := b.ImbalanceReport["a"]; a.Real != 75 || a.Expected != 50 || a.Severity != "critical" {
		t.Errorf("a: %+v", a)
	}
	if _, ok := b.ImbalanceReport["total"]; ok {
		t.Error("total counted in the balance")
	}
}

func TestResampleAndWrap(t *testing.T) {
	if got := fmt.Sprint(resample([]float64{1, 2, 3, 4, 5, 6}, 3)); got != "[1.5 3.5 5.5]" {
		t.Errorf("resample down = %s", got)
	}
	if got := fmt.Sprint(resample([]float64{1, 2}, 4)); got != "[1 1 2 2]" {
		t.Errorf("resample up = %s", got)
	}
	if got := wrap("aaa bbb ccc ddd", 10); fmt.Sprintf("%q", got) != `["aaa bbb" "ccc ddd"]` {
		t.Errorf("wrap = %q", got)
	}
	if got := wrap(strings.Repeat("x", 25), 10); len(got) != 3 || got[0] != strings.Repeat("x", 10) {
		t.Errorf("wrap of a long word = %q", got)
	}
}

func TestShowPlain(t *testing.T) {
	cases := []struct {
		golden string
		args   []string
		code   int
	}{
		{"show_hacked.txt", []string{"show", repoPath("testdata", "runs", "hacked.jsonl")}, 1},
		{"show_healthy.txt", []string{"show", "--follow", repoPath("testdata", "runs", "healthy.jsonl")}, 0},
		{"show_hacked_expected.txt", []string{"show", repoPath("testdata", "runs", "hacked.jsonl"), "--expected", "correctness=0.7,format=0.3", "--last", "400", "--detectors", "rewardspy"}, 1},
	}
	for _, tc := range cases {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb); code != tc.code {
			t.Errorf("%v: exit %d, want %d; stderr %s", tc.args, code, tc.code, errb.String())
		}
		checkGolden(t, tc.golden, out.Bytes())
	}
	// The exit code and verdict are audit's.
	var a, s bytes.Buffer
	ac := run([]string{"audit", repoPath("testdata", "runs", "hacked.jsonl"), "--format", "json"}, &a, io0())
	sc := run([]string{"show", repoPath("testdata", "runs", "hacked.jsonl")}, &s, io0())
	if ac != sc || !strings.Contains(a.String(), `"verdict": "hacking"`) && !strings.Contains(a.String(), `"verdict":"hacking"`) || !strings.Contains(s.String(), "verdict: hacking") {
		t.Errorf("audit exit %d, show exit %d", ac, sc)
	}
}

func io0() *bytes.Buffer { return &bytes.Buffer{} }

func TestShowUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.bin")
	os.WriteFile(bad, []byte{0, 1, 2, 3, 0xff, 0xfe, 0, 0, 9}, 0o644)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"show"}, 2, "want exactly one RUN file"},
		{[]string{"show", "a", "b"}, 2, "want exactly one RUN file"},
		{[]string{"show", "x.jsonl", "--sensitivity", "extreme"}, 2, "--sensitivity"},
		{[]string{"show", "x.jsonl", "--interval", "0s"}, 2, "--interval"},
		{[]string{"show", "x.jsonl", "--expected", "a=x"}, 2, "--expected"},
		{[]string{"show", "x.jsonl", "--detectors", "nope"}, 2, "nope"},
		{[]string{"show", filepath.Join(dir, "missing.jsonl")}, 2, "missing.jsonl"},
		{[]string{"show", bad}, 2, "not a run"},
		{[]string{"show", "--help"}, 0, ""},
	}
	for _, tc := range cases {
		var out, errb bytes.Buffer
		code := run(tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d stderr %q, want %d and %q", tc.args, code, errb.String(), tc.code, tc.want)
		}
	}
	var out bytes.Buffer
	run([]string{"show", "--help"}, &out, io0())
	for _, want := range []string{"Usage: reportgen show RUN", "--follow", "--interval", "Keys: q quit", "Example:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

// lockedSim serialises the simulated screen's Show (which writes the
// cells GetContents returns) with the test reading them.
type lockedSim struct {
	tcell.SimulationScreen
	mu *sync.Mutex
}

func (l lockedSim) Show() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.SimulationScreen.Show()
}

func (l lockedSim) Sync() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.SimulationScreen.Sync()
}

func (l lockedSim) GetContents() ([]tcell.SimCell, int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cells, w, h := l.SimulationScreen.GetContents()
	out := make([]tcell.SimCell, len(cells))
	for i, c := range cells {
		c.Runes = append([]rune(nil), c.Runes...)
		out[i] = c
	}
	return out, w, h
}

// screenText renders the screen's cells as lines of text.
func screenText(s tcell.SimulationScreen) string {
	cells, w, h := s.GetContents()
	var b strings.Builder
	for y := 0; y < h; y++ {
		var line strings.Builder
		for x := 0; x < w; x++ {
			c := cells[y*w+x]
			if len(c.Runes) == 0 {
				line.WriteByte(' ')
				continue
			}
			line.WriteString(string(c.Runes))
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

func newSimScreen(t *testing.T, w, h int) tcell.SimulationScreen {
	t.Helper()
	s := tcell.NewSimulationScreen("UTF-8")
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	s.SetSize(w, h)
	t.Cleanup(s.Fini)
	return s
}

// TestShowScreenGolden draws the hacked run at 80x24 and 120x40 (golden
// text), and at silly sizes without panicking. The batch detectors are left
// out so that the layout golden does not move with their wording.
func TestShowScreenGolden(t *testing.T) {
	path := repoPath("testdata", "runs", "hacked.jsonl")
	m := mustShowModel(t, "hacked.jsonl", analysis.Config{Detectors: []string{"rewardspy"}}, 0, nil)
	if err := ingest.Follow(context.Background(), path, ingest.FollowOptions{Once: true}, m.apply); err != nil {
		t.Fatal(err)
	}
	v := m.view()
	v.Notice = "hacked.jsonl was truncated: reading it again from the start"
	ui := &showUI{st: newShowStyles(true), follow: true}
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		s := newSimScreen(t, size[0], size[1])
		ui.draw(s, v)
		checkGolden(t, fmt.Sprintf("show_hacked_%dx%d.txt", size[0], size[1]), []byte(screenText(s)))
	}
	for _, size := range [][2]int{{10, 3}, {20, 6}, {40, 12}, {300, 5}} {
		s := newSimScreen(t, size[0], size[1])
		ui.draw(s, v)
		if txt := screenText(s); size[0] >= 20 && size[1] >= 6 && !strings.Contains(txt, "HACKING") {
			t.Errorf("%dx%d: no verdict:\n%s", size[0], size[1], txt)
		}
	}
}

// TestShowLoopKeys drives the event loop on a simulated screen: the file
// is shown, e exports, p pauses, q quits with the exit code.
func TestShowLoopKeys(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile(repoPath("testdata", "runs", "hacked.jsonl"))
	path := filepath.Join(dir, "run.jsonl")
	os.WriteFile(path, src, 0o644)
	o := &showOptions{path: path, interval: 10 * time.Millisecond, export: filepath.Join(dir, "out.csv")}
	s := lockedSim{newSimScreen(t, 80, 24), &sync.Mutex{}}
	done := make(chan int, 1)
	go func() {
		code, err := showLoop(s, o)
		if err != nil {
			t.Error(err)
		}
		done <- code
	}()
	waitScreen := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(screenText(s), want) {
			if time.Now().After(deadline) {
				t.Fatalf("%q never shown:\n%s", want, screenText(s))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitScreen("600 records")
	s.InjectKey(tcell.KeyRune, 'e', tcell.ModNone)
	waitScreen("exported 600 records to " + o.export)
	if b, err := os.ReadFile(o.export); err != nil || bytes.Count(b, []byte("\n")) != 601 {
		t.Errorf("export: %v, %d lines", err, bytes.Count(b, []byte("\n")))
	}
	s.InjectKey(tcell.KeyRune, 'p', tcell.ModNone)
	waitScreen("PAUSED (+0 new)")
	s.InjectKey(tcell.KeyRune, 'p', tcell.ModNone)
	waitScreen(" 600 records")
	s.InjectKey(tcell.KeyRune, 'q', tcell.ModNone)
	select {
	case code := <-done:
		if code != 1 {
			t.Errorf("exit %d, want 1 (the hacked run is flagged)", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("q did not quit")
	}
}

// followHeap follows a file that a writer grows by n synthetic rewardspy
// records while the view is rebuilt and drawn every 50ms, as the live view
// does. It returns the live heap after the first 20,000 records and after
// all n (both after a GC), the peak heap sampled, and the mean cost of one
// view+draw early and late.
func followHeap(tb testing.TB, n int) (early, late, peak uint64, drawEarly, drawLate time.Duration) {
	dir := tb.TempDir()
	path := filepath.Join(dir, "run.jsonl")
	os.WriteFile(path, nil, 0o644)
	m := mustShowModel(tb, path, analysis.Config{}, 0, map[string]float64{"correctness": 0.6, "format": 0.3, "length_penalty": 0.1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	followed := make(chan error, 1)
	go func() {
		followed <- ingest.Follow(ctx, path, ingest.FollowOptions{Interval: 5 * time.Millisecond}, m.apply)
	}()
	// The writer: n records in 1 MiB appends.
	written := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			written <- err
			return
		}
		err = ingesttest.WriteRewardspyJSONL(f, n, 1)
		f.Close()
		written <- err
	}()
	s := tcell.NewSimulationScreen("UTF-8")
	s.Init()
	s.SetSize(80, 24)
	defer s.Fini()
	ui := &showUI{st: newShowStyles(false), follow: true}
	var mu sync.Mutex
	var ms runtime.MemStats
	var draws, drawsLate int
	var drawT, drawTLate time.Duration
	records := func() int {
		return m.records()
	}
	heapNow := func() uint64 {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	for records() < n {
		t0 := time.Now()
		ui.draw(s, m.view())
		d := time.Since(t0)
		mu.Lock()
		r := records()
		if r < n/10 {
			draws++
			drawT += d
		} else if r > n*9/10 {
			drawsLate++
			drawTLate += d
		}
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
		mu.Unlock()
		if early == 0 && r >= 20000 {
			early = heapNow()
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := <-written; err != nil {
		tb.Fatal(err)
	}
	ui.draw(s, m.view())
	late = heapNow()
	cancel()
	if err := <-followed; err != nil {
		tb.Fatal(err)
	}
	if draws > 0 {
		drawEarly = drawT / time.Duration(draws)
	}
	if drawsLate > 0 {
		drawLate = drawTLate / time.Duration(drawsLate)
	}
	return early, late, peak, drawEarly, drawLate
}

// TestShowMemoryFlat follows a log growing by 300,000 records: the live
// heap after them is within 4 MiB of the heap after the first 20,000.
func TestShowMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 300,000-record follow")
	}
	early, late, peak, _, _ := followHeap(t, 300_000)
	t.Logf("live heap after 20k records %.1f MiB, after 300k %.1f MiB, peak sampled %.1f MiB", mib(early), mib(late), mib(peak))
	if late > early+4<<20 {
		t.Errorf("live heap grew from %.1f MiB to %.1f MiB while following", mib(early), mib(late))
	}
}

func mib(x uint64) float64 { return float64(x) / (1 << 20) }

// BenchmarkShowFollowMillion is the flat-memory measurement of issue 7:
// run it with -benchtime=1x; it follows a log growing by 1,000,000 records
// and reports the live heap after 20k and after 1M records, the peak heap
// sampled, and the cost of one view+draw early and late in the run.
func BenchmarkShowFollowMillion(b *testing.B) {
	for i := 0; i < b.N; i++ {
		early, late, peak, de, dl := followHeap(b, 1_000_000)
		b.ReportMetric(mib(early), "MiB-heap@20k")
		b.ReportMetric(mib(late), "MiB-heap@1M")
		b.ReportMetric(mib(peak), "MiB-heap-peak")
		b.ReportMetric(float64(de.Microseconds()), "µs-draw-early")
		b.ReportMetric(float64(dl.Microseconds()), "µs-draw-late")
	}
}

// BenchmarkShowRedraw measures one view snapshot plus an 80x24 draw after
// 10,000 and after 1,000,000 records: the cost must not grow with the run
// (it grows only with the engine's alert count, through its Report).
func BenchmarkShowRedraw(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			var buf bytes.Buffer
			if err := ingesttest.WriteRewardspyJSONL(&buf, n, 1); err != nil {
				b.Fatal(err)
			}
			m := mustShowModel(b, "bench.jsonl", analysis.Config{}, 0, nil)
			err := ingest.Follow(context.Background(), writeTemp(b, buf.Bytes()), ingest.FollowOptions{Once: true}, m.apply)
			if err != nil {
				b.Fatal(err)
			}
			s := tcell.NewSimulationScreen("UTF-8")
			s.Init()
			s.SetSize(80, 24)
			defer s.Fini()
			ui := &showUI{st: newShowStyles(false), follow: true}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m.mu.Lock()
				m.live.RefreshReport() // as if a record had arrived
				m.mu.Unlock()
				ui.draw(s, m.view())
			}
			b.ReportMetric(float64(m.view().TotalAlerts), "alerts")
		})
	}
}

func writeTemp(tb testing.TB, b []byte) string {
	path := filepath.Join(tb.TempDir(), "run.jsonl")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// mustShowModel is newShowModel for options known to be valid.
func mustShowModel(tb testing.TB, path string, cfg analysis.Config, last int, weights map[string]float64) *showModel {
	tb.Helper()
	m, err := newShowModel(path, cfg, last, weights)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}
