package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/mattn/go-runewidth"
)

// runShowTUI runs the full-screen view until q (or Ctrl-C).
func runShowTUI(o *showOptions, stderr io.Writer) int {
	if !o.follow {
		// Without --follow a missing file is an input error, before the
		// screen is taken over.
		if _, err := os.Stat(o.path); err != nil {
			return inputError(stderr, err)
		}
	}
	scr, err := tcell.NewScreen()
	if err == nil {
		err = scr.Init()
	}
	if err != nil {
		fmt.Fprintf(stderr, "reportgen show: cannot use the terminal (%v); pipe the output to get a plain summary\n", err)
		return exitUsage
	}
	code, ferr := showLoop(scr, o)
	scr.Fini()
	if ferr != nil {
		return inputError(stderr, ferr)
	}
	return code
}

// showLoop drives the screen: it returns when the user quits (with the
// exit code of the view's last verdict) or when the follower fails.
func showLoop(scr tcell.Screen, o *showOptions) (int, error) {
	m, err := newShowModel(o.path, o.cfg, o.in.last, o.weights)
	if err != nil {
		return exitUsage, err
	}
	opt, _ := o.in.options()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	followDone := make(chan error, 1)
	go func() {
		followDone <- ingest.Follow(ctx, o.path, ingest.FollowOptions{Options: opt, Interval: o.interval, Once: !o.follow}, m.apply)
	}()
	events := make(chan tcell.Event, 16)
	quit := make(chan struct{})
	defer close(quit)
	go scr.ChannelEvents(events, quit)

	ui := &showUI{st: newShowStyles(os.Getenv("NO_COLOR") != ""), follow: o.follow}
	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	// SIGTERM/SIGHUP restore the terminal like q does.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP, os.Interrupt)
	defer signal.Stop(sigs)
	exportDone := make(chan string, 1)
	exporting := false
	var frozen *showView // the view shown while paused
	lastVersion := -1
	var draw func(bool)
	quitNow := func() (int, error) {
		if exporting { // let the export finish: no half-written temp file
			ui.export = "finishing the export before quitting..."
			draw(true)
			<-exportDone
		}
		return m.view().ExitCode, nil
	}
	draw = func(force bool) {
		if frozen != nil {
			frozen.NewSincePause = m.records() - frozen.Records
			ui.draw(scr, frozen)
			return
		}
		m.mu.Lock()
		ver := m.version
		m.mu.Unlock()
		if !force && ver == lastVersion {
			return
		}
		lastVersion = ver
		ui.draw(scr, m.view())
	}
	draw(true)
	for {
		select {
		case ev := <-events:
			switch ev := ev.(type) {
			case *tcell.EventResize:
				scr.Sync()
				draw(true)
			case *tcell.EventKey:
				switch {
				case ev.Key() == tcell.KeyCtrlC || ev.Key() == tcell.KeyEscape || ev.Rune() == 'q' || ev.Rune() == 'Q':
					return quitNow()
				case ev.Rune() == 'p' || ev.Rune() == 'P' || ev.Rune() == ' ':
					if frozen == nil {
						frozen = m.view()
						frozen.Paused = true
					} else {
						frozen = nil
					}
					draw(true)
				case ev.Rune() == 'e' || ev.Rune() == 'E':
					if !exporting {
						exporting = true
						ui.export = "exporting to " + o.export + "..."
						go func() { exportDone <- exportRun(o) }()
						draw(true)
					}
				}
			}
		case <-sigs:
			return quitNow()
		case msg := <-exportDone:
			exporting = false
			ui.export = msg
			draw(true)
		case err := <-followDone:
			if err != nil {
				return exitUsage, err
			}
			ui.done = true
			followDone = nil
			draw(true)
		case <-tick.C:
			draw(false)
		}
	}
}

// showUI draws a showView on a tcell screen.
type showUI struct {
	st     showStyles
	follow bool
	done   bool   // the follower finished (no --follow): the whole file is shown
	export string // notice of the last export
}

type showStyles struct {
	base, dim, bold, title, key tcell.Style
	status                      map[analysis.Status]tcell.Style
	verdict                     map[string]tcell.Style
	neg, bar                    tcell.Style
}

func newShowStyles(noColor bool) showStyles {
	d := tcell.StyleDefault
	st := showStyles{base: d, dim: d.Dim(true), bold: d.Bold(true), title: d.Reverse(true), key: d.Bold(true)}
	if noColor {
		st.status = map[analysis.Status]tcell.Style{analysis.StatusAlert: d.Bold(true).Reverse(true), analysis.StatusWarning: d.Bold(true)}
		st.verdict = map[string]tcell.Style{analysis.VerdictHacking: d.Bold(true).Reverse(true), analysis.VerdictWarning: d.Bold(true).Reverse(true)}
		st.neg, st.bar = d.Bold(true), d
		return st
	}
	st.status = map[analysis.Status]tcell.Style{
		analysis.StatusOK:            d.Foreground(tcell.ColorGreen),
		analysis.StatusWarning:       d.Foreground(tcell.ColorYellow).Bold(true),
		analysis.StatusAlert:         d.Foreground(tcell.ColorRed).Bold(true),
		analysis.StatusInsufficient:  d.Dim(true),
		analysis.StatusNotApplicable: d.Dim(true),
	}
	st.verdict = map[string]tcell.Style{
		analysis.VerdictHacking:    d.Background(tcell.ColorRed).Foreground(tcell.ColorWhite).Bold(true),
		analysis.VerdictWarning:    d.Background(tcell.ColorYellow).Foreground(tcell.ColorBlack).Bold(true),
		analysis.VerdictHealthy:    d.Background(tcell.ColorGreen).Foreground(tcell.ColorBlack).Bold(true),
		analysis.VerdictCollecting: d.Background(tcell.ColorBlue).Foreground(tcell.ColorWhite).Bold(true),
	}
	st.neg = d.Foreground(tcell.ColorRed)
	st.bar = d.Foreground(tcell.ColorTeal)
	st.title = d.Reverse(true).Bold(true)
	return st
}

func (st showStyles) forStatus(s analysis.Status) tcell.Style {
	if x, ok := st.status[s]; ok {
		return x
	}
	return st.base
}

// canvas writes clipped text on a screen.
type canvas struct {
	s    tcell.Screen
	w, h int
}

// put writes str at (x, y) clipped to the screen width and returns the
// column after it.
func (c canvas) put(x, y int, str string, st tcell.Style) int {
	if y < 0 || y >= c.h {
		return x
	}
	for _, r := range str {
		rw := runewidth.RuneWidth(r)
		if rw == 0 {
			rw = 1
		}
		if x+rw > c.w {
			return c.w
		}
		c.s.SetContent(x, y, r, nil, st)
		x += rw
	}
	return x
}

// fill paints the rest of row y from x with spaces in st.
func (c canvas) fill(x, y int, st tcell.Style) {
	for ; x < c.w; x++ {
		c.s.SetContent(x, y, ' ', nil, st)
	}
}

// draw renders v onto the whole screen. It works from 40x12 up; 80x24 is
// the size it is laid out for, and larger screens give the curve, alerts
// and records more rows.
func (u *showUI) draw(s tcell.Screen, v *showView) {
	w, h := s.Size()
	s.Clear()
	c := canvas{s: s, w: w, h: h}
	if w < 20 || h < 6 {
		c.put(0, 0, "window too small", u.st.bold)
		s.Show()
		return
	}
	st := u.st
	y := 0

	// Title bar.
	c.fill(0, y, st.title)
	x := c.put(0, y, " goodhart show ", st.title)
	desc := v.Path
	if v.Format != "" {
		desc += " (" + v.Format
		if v.Grain != "" {
			desc += ", " + string(v.Grain)
		}
		desc += ")"
	}
	state := u.stateText(v)
	sx := max(0, w-runewidth.StringWidth(state)-1)
	if room := sx - x - 2; runewidth.StringWidth(desc) > room {
		desc = runewidth.Truncate(desc, max(room, 0), "…")
	}
	c.put(x, y, desc, st.title)
	c.put(sx, y, state, st.title)
	y++

	// Verdict and reasons.
	verdict := " " + strings.ToUpper(v.Verdict) + " "
	x = c.put(0, y, verdict, st.verdict[v.Verdict])
	diag := v.Diagnosis
	if len(diag) > 0 {
		c.put(x+1, y, diag[0], st.bold)
		diag = diag[1:]
	}
	y++
	var diagLines []string
	for _, l := range diag {
		diagLines = append(diagLines, wrap(l, w-2)...)
	}

	// Layout: the curve, components, alerts and records want at least
	// minBelow rows; when the detectors and reasons leave fewer, the
	// detectors with nothing to report share one line, then the reasons
	// are cut.
	footer := h - 1
	notes := u.notes(v)
	avail := footer - y
	if len(notes) > 0 {
		avail--
	}
	overviewRows := 0
	if v.Summary != nil {
		overviewRows = 2
	}
	comps := len(v.Components)
	if v.Balance != nil {
		comps = len(v.Balance.ImbalanceReport)
	}
	comps = min(comps, 4)
	minBelow := 4 // alerts and records, a title and a line each
	if len(v.Curve) > 1 {
		minBelow += 2
	}
	if comps > 0 {
		minBelow += 1 + min(comps, 2)
	}
	var quiet []analysis.NamedResult
	loud := v.Detectors
	maxDiag := 3
	for {
		detRows := len(loud)
		if len(quiet) > 0 {
			detRows++
		}
		if avail-min(len(diagLines), maxDiag)-overviewRows-detRows >= minBelow {
			break
		}
		if quiet == nil {
			loud, quiet = splitQuiet(v.Detectors)
			if len(quiet) > 1 {
				continue
			}
			loud, quiet = v.Detectors, []analysis.NamedResult{}
		}
		if maxDiag == 1 {
			break
		}
		maxDiag--
	}
	for i, l := range diagLines {
		if i < maxDiag {
			c.put(2, y, l, st.base)
			y++
		}
	}

	// Reward overview.
	if v.Summary != nil {
		x = c.put(0, y, fmt.Sprintf("reward (last %d) ", v.Window), st.dim)
		c.put(x, y, overviewLine(v), st.base)
		y++
		c.put(2, y, overviewLine2(v), st.base)
		y++
	}

	// Detectors: one line each, the quiet ones maybe folded into one.
	for _, d := range loud {
		x = c.put(0, y, fmt.Sprintf("%-15s ", d.Name), st.base)
		x = c.put(x, y, fmt.Sprintf("%-8s ", shortStatus(d.Status)), st.forStatus(d.Status))
		c.put(x, y, d.Message, st.base)
		y++
	}
	if len(quiet) > 0 {
		x = c.put(0, y, "quiet:", st.dim)
		for _, d := range quiet {
			x = c.put(x, y, " "+d.Name+" ", st.base)
			x = c.put(x, y, shortStatus(d.Status), st.forStatus(d.Status))
		}
		y++
	}

	rest := footer - y
	if len(notes) > 0 {
		rest--
	}
	compRows := 0
	if comps > 0 {
		compRows = comps + 1
	}
	curveRows := 0
	if len(v.Curve) > 1 {
		curveRows = min(max((rest-compRows-4)/2, 2), 12)
	}
	for curveRows+compRows > rest-4 && (curveRows > 0 || compRows > 0) {
		switch {
		case compRows > 3:
			compRows--
		case curveRows > 2:
			curveRows--
		case compRows > 0:
			compRows = 0
		default:
			curveRows = 0
		}
	}
	listRows := max(rest-curveRows-compRows, 0)
	alertRows := (listRows + 1) / 2
	if len(v.Alerts) == 0 {
		alertRows = min(2, listRows)
	}
	alertRows = min(alertRows, len(v.Alerts)+1, listRows)
	alertRows = max(alertRows, min(2, listRows))
	recordRows := listRows - alertRows
	if recordRows == 1 {
		alertRows, recordRows = alertRows+1, 0
	}

	if curveRows > 0 {
		u.drawCurve(c, y, curveRows, v)
		y += curveRows
	}
	if compRows > 0 {
		u.drawComponents(c, y, compRows, v)
		y += compRows
	}
	if alertRows > 0 {
		title := fmt.Sprintf("alerts, newest first (%d) ", v.TotalAlerts)
		c.put(c.put(0, y, title, st.dim), y, strings.Repeat("─", max(0, w-len(title))), st.dim)
		y++
		if len(v.Alerts) == 0 && alertRows > 1 {
			c.put(2, y, "none yet", st.dim)
		}
		for i := 0; i < alertRows-1 && i < len(v.Alerts); i++ {
			a := v.Alerts[i]
			x = c.put(0, y+i, fmt.Sprintf("%-8s", shortStatus(a.Status)), st.forStatus(a.Status))
			c.put(x, y+i, strings.TrimPrefix(alertLine(a), fmt.Sprintf("%-7s ", a.Status)), st.base)
		}
		y += alertRows - 1
	}
	if recordRows > 0 {
		title := "latest records "
		c.put(c.put(0, y, title, st.dim), y, strings.Repeat("─", max(0, w-len(title))), st.dim)
		y++
		for i := 0; i < recordRows-1 && i < len(v.Recent); i++ {
			c.put(0, y+i, recordLine(v.Recent[i]), st.base)
		}
	}

	// Footer: keys, then the latest notice.
	x = 0
	for _, k := range [][2]string{{"q", "quit"}, {"e", "export CSV"}, {"p", "pause"}} {
		label := k[1]
		if k[0] == "p" && v.Paused {
			label = "resume"
		}
		x = c.put(x, footer, k[0], st.key)
		x = c.put(x, footer, " "+label+"  ", st.dim)
	}
	if len(notes) > 0 {
		c.put(0, footer-1, strings.Join(notes, " | "), st.bold)
	}
	s.Show()
}

// splitQuiet separates detectors with something to say (actionable, or a
// message) from the quiet ones (OK without a message, waiting, n/a).
func splitQuiet(ds []analysis.NamedResult) (loud, quiet []analysis.NamedResult) {
	for _, d := range ds {
		if d.Status.Actionable() || (d.Status == analysis.StatusOK && d.Message != "") {
			loud = append(loud, d)
		} else {
			quiet = append(quiet, d)
		}
	}
	return loud, quiet
}

func (u *showUI) notes(v *showView) []string {
	var notes []string
	if v.Notice != "" {
		notes = append(notes, v.Notice)
	}
	if u.export != "" {
		notes = append(notes, u.export)
	}
	if v.Skipped > 0 {
		notes = append(notes, fmt.Sprintf("%d malformed skipped, last %s", v.Skipped, v.LastIssue))
	}
	return notes
}

func (u *showUI) stateText(v *showView) string {
	recs := fmt.Sprintf("%d records", v.Counted)
	switch {
	case v.Paused:
		return fmt.Sprintf("PAUSED (+%d new) %s", v.NewSincePause, recs)
	case v.Waiting:
		return "waiting for the file"
	case u.follow:
		return "following " + recs
	case !u.done:
		return "reading... " + recs
	}
	return recs
}

func shortStatus(s analysis.Status) string {
	switch s {
	case analysis.StatusInsufficient:
		return "waiting"
	case analysis.StatusNotApplicable:
		return "n/a"
	}
	return string(s)
}

func recordLine(r showRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%-7d step %-7s reward %-8s", r.Record, num(r.Step), num(r.Reward))
	if !math.IsNaN(r.Length) {
		fmt.Fprintf(&b, " len %-6s", num(r.Length))
	}
	for _, c := range r.Comps {
		if c.Name != ingest.TotalComponent {
			fmt.Fprintf(&b, " %s=%s", c.Name, num(c.Value))
		}
	}
	return b.String()
}

// drawCurve draws the downsampled reward history as a filled braille area
// chart (2x4 dots per cell) with the range on the left.
func (u *showUI) drawCurve(c canvas, y, rows int, v *showView) {
	const gutter = 8
	cw := c.w - gutter
	if cw < 4 {
		return
	}
	pts := resample(v.Curve, 2*cw)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		lo, hi = math.Min(lo, p), math.Max(hi, p)
	}
	if hi-lo < 1e-12 {
		lo, hi = lo-0.5, hi+0.5
	}
	c.put(0, y, fmt.Sprintf("%7s", num(hi)), u.st.dim)
	c.put(0, y+rows-1, fmt.Sprintf("%7s", num(lo)), u.st.dim)
	if rows > 2 {
		c.put(0, y+rows/2, "reward", u.st.dim)
	}
	levels := rows * 4
	cells := make([]rune, rows*cw)
	for i := range cells {
		cells[i] = 0x2800
	}
	left := [4]rune{0x01, 0x02, 0x04, 0x40}
	right := [4]rune{0x08, 0x10, 0x20, 0x80}
	for i, p := range pts {
		level := int(math.Round((p - lo) / (hi - lo) * float64(levels-1)))
		col := i / 2
		bits := left
		if i%2 == 1 {
			bits = right
		}
		for g := 0; g <= level; g++ { // g counts dots from the bottom
			row := rows - 1 - g/4
			cells[row*cw+col] |= bits[3-g%4]
		}
	}
	for r := 0; r < rows; r++ {
		for x := 0; x < cw; x++ {
			c.s.SetContent(gutter+x, y+r, cells[r*cw+x], nil, u.st.bar)
		}
	}
}

// resample averages pts down to n points, or stretches fewer points over
// n by repeating each.
func resample(pts []float64, n int) []float64 {
	if len(pts) <= n {
		if len(pts) == 0 {
			return pts
		}
		out := make([]float64, n)
		for i := range out {
			out[i] = pts[i*len(pts)/n]
		}
		return out
	}
	out := make([]float64, n)
	for i := range out {
		a, b := i*len(pts)/n, (i+1)*len(pts)/n
		var s float64
		for _, p := range pts[a:b] {
			s += p
		}
		out[i] = s / float64(b-a)
	}
	return out
}

// drawComponents draws one share bar per component (largest first); a
// negative mean is drawn in the negative style and marked "neg".
func (u *showUI) drawComponents(c canvas, y, rows int, v *showView) {
	if v.Balance != nil {
		u.drawBalance(c, y, rows, v.Balance)
		return
	}
	title := fmt.Sprintf("components, share of |mean| over the last %d ", v.Window)
	c.put(c.put(0, y, title, u.st.dim), y, strings.Repeat("─", max(0, c.w-len(title))), u.st.dim)
	comps := append([]compView(nil), v.Components...)
	sortComps(comps)
	barW := c.w - 14 - 22
	for i := 0; i < rows-1 && i < len(comps); i++ {
		cp := comps[i]
		row := y + 1 + i
		name := cp.Name
		if i == rows-2 && len(comps) > rows-1 {
			name = fmt.Sprintf("+%d more", len(comps)-i)
			c.put(0, row, name, u.st.dim)
			continue
		}
		x := c.put(0, row, fmt.Sprintf("%-13.13s ", name), u.st.base)
		st, ch := u.st.bar, '█'
		if cp.Mean < 0 {
			st, ch = u.st.neg, '▒'
		}
		if barW > 0 {
			n := int(math.Round(cp.Share * float64(barW)))
			x = c.put(x, row, strings.Repeat(string(ch), n), st)
			x = c.put(x, row, strings.Repeat("·", barW-n), u.st.dim)
		}
		label := fmt.Sprintf(" %4s  mean %s", pct(cp.Share), num(cp.Mean))
		x = c.put(x, row, label, u.st.base)
		if cp.Mean < 0 {
			c.put(x, row, " neg", u.st.neg)
		}
	}
}

// drawBalance draws real vs expected shares (--expected): the bar is the
// real share, '|' marks the expected one.
func (u *showUI) drawBalance(c canvas, y, rows int, b *analysis.BalanceResult) {
	title := fmt.Sprintf("balance vs expected, last %d records: %s ", min(b.EpisodeCount, analysis.DefaultBalanceWindow), b.Severity)
	c.put(c.put(0, y, title, u.st.dim), y, strings.Repeat("─", max(0, c.w-runewidth.StringWidth(title))), u.st.dim)
	names := b.Components()
	sev := map[string]tcell.Style{"ok": u.st.forStatus(analysis.StatusOK), "warning": u.st.forStatus(analysis.StatusWarning), "critical": u.st.forStatus(analysis.StatusAlert)}
	barW := c.w - 14 - 34
	for i := 0; i < rows-1 && i < len(names); i++ {
		row := y + 1 + i
		if i == rows-2 && len(names) > rows-1 {
			c.put(0, row, fmt.Sprintf("+%d more", len(names)-i), u.st.dim)
			continue
		}
		cb := b.ImbalanceReport[names[i]]
		x := c.put(0, row, fmt.Sprintf("%-13.13s ", names[i]), u.st.base)
		if barW > 0 {
			bar := []rune(strings.Repeat("·", barW))
			n := min(int(math.Round(cb.Real/100*float64(barW))), barW)
			for j := 0; j < n; j++ {
				bar[j] = '█'
			}
			if e := min(int(math.Round(cb.Expected/100*float64(barW))), barW-1); e >= 0 {
				bar[e] = '|'
			}
			x = c.put(x, row, string(bar), u.st.bar)
		}
		x = c.put(x, row, fmt.Sprintf(" %5.1f%% exp %5.1f%% ", cb.Real, cb.Expected), u.st.base)
		c.put(x, row, cb.Severity, sev[cb.Severity])
	}
}

func sortComps(cs []compView) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && (cs[j].Share > cs[j-1].Share || (cs[j].Share == cs[j-1].Share && cs[j].Name < cs[j-1].Name)); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// wrap splits s into lines of at most n columns at spaces.
func wrap(s string, n int) []string {
	if n < 10 {
		n = 10
	}
	var out []string
	for runewidth.StringWidth(s) > n {
		cut := -1
		width := 0
		for i, r := range s {
			width += runewidth.RuneWidth(r)
			if width > n {
				break
			}
			if r == ' ' {
				cut = i
			}
		}
		if cut <= 0 {
			cut = len(runewidth.Truncate(s, n, ""))
		}
		out = append(out, s[:cut])
		s = strings.TrimLeft(s[cut:], " ")
	}
	return append(out, s)
}
