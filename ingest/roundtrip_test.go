package ingest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

// The writer property: for every writer format, read(write(run)) == run.
// Values no reader takes as a value (±Inf) are the exception, and an exact
// one: each comes back as an issue, never as a different value, and the
// rest of the run is unchanged:
//
//   - JSONL and CSV skip the record holding it (one issue per record);
//   - Parquet skips the record when the column is canonical (reward,
//     component.*), and leaves the cell missing in an extra.<key> column;
//   - tfevents skips the event: the cell is missing (and a step left with
//     no value at all has no row).
//
// NaN is a missing value everywhere and stays missing. Component names are
// taken from a list of awkward ones (empty, spaces, CR LF, quotes, commas,
// non-ASCII, "/", "total").

var oddNames = []string{"", "a", "total", "x y ", " lead", "cr\r\nlf", "quo\"te", "com,ma", "ünï", "a/b", "tab\t", "e.1", "😀"}

var oddValues = []float64{0, 1, -1, 0.5, 0.1, 1e-300, 5e-324, math.MaxFloat64, -2.5e17, 1e16, 123456789.125,
	math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1)}

// genRun builds a run from fuzz bytes: 1-12 rows, a strictly increasing
// integral step (or, when steps says so, a repeating one), a reward in
// every row, up to three components, two extra columns and a call_id.
func genRun(data []byte) *ingest.Run {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	n := int(next()%12) + 1
	run := ingest.NewRun(n)
	// Read back with this grain: a generic reader must not merge rows of
	// a repeated step (which it would infer for a trainer log).
	run.Grain = ingest.GrainCall
	step := make([]float64, n)
	s := float64(next() % 5)
	repeat := next()%4 == 0
	for i := range step {
		step[i] = s
		if !repeat || i%2 == 1 {
			s += float64(next()%3 + 1)
		}
	}
	run.SetColumn(ingest.ColStep, step)
	val := func(allowNaN bool) float64 {
		v := oddValues[int(next())%len(oddValues)]
		if math.IsNaN(v) && !allowNaN {
			v = 0.25
		}
		return v
	}
	col := func(allowNaN bool) []float64 {
		c := make([]float64, n)
		for i := range c {
			c[i] = val(allowNaN)
		}
		return c
	}
	run.SetColumn(ingest.ColReward, col(false))
	used := map[string]bool{}
	for k := int(next() % 4); k > 0; k-- {
		name := oddNames[int(next())%len(oddNames)]
		if used[name] {
			continue
		}
		used[name] = true
		run.SetColumn(ingest.ComponentPrefix+name, col(true))
	}
	if comps := run.Components(); len(comps) > 1 && next()%2 == 0 {
		slices.Reverse(comps) // a source order that is not sorted
		b, _ := json.Marshal(comps)
		run.Meta = map[string]string{ingest.MetaComponentOrder: string(b)}
	}
	if next()%2 == 0 {
		run.SetColumn("extra.lr", col(true))
	}
	if next()%2 == 0 {
		run.SetColumn("extra.odd "+oddNames[int(next())%len(oddNames)], col(true))
	}
	if next()%2 == 0 {
		ids := make([]string, n)
		for i := range ids {
			if next()%4 != 0 {
				ids[i] = fmt.Sprintf("id-%d%s", i, oddNames[int(next())%len(oddNames)])
			}
		}
		run.SetStringColumn(ingest.ColCallID, ids)
	}
	return run
}

// expectAfter returns what reading run back in format must give, and how
// many issues it must report.
func expectAfter(run *ingest.Run, format string) (*ingest.Run, int) {
	n := run.Len()
	cols := run.Columns()
	isInf := func(name string, i int) bool {
		c, ok := run.Column(name)
		return ok && math.IsInf(c[i], 0)
	}
	keep := make([]bool, n)
	issues := 0
	out := map[string][]float64{}
	for _, name := range cols {
		if c, ok := run.Column(name); ok {
			out[name] = slices.Clone(c)
		}
	}
	for i := 0; i < n; i++ {
		keep[i] = true
		switch format {
		case "jsonl":
			// rewardspy's records: extra columns are not written, so only
			// ±Inf in a written field skips the record.
			for _, name := range cols {
				if isInf(name, i) && !strings.HasPrefix(name, ingest.ExtraPrefix) {
					keep[i] = false
				}
			}
			if !keep[i] {
				issues++
			}
		case "csv":
			for _, name := range cols {
				if isInf(name, i) {
					keep[i] = false
				}
			}
			if !keep[i] {
				issues++
			}
		case "parquet":
			for _, name := range cols {
				if isInf(name, i) && !strings.HasPrefix(name, ingest.ExtraPrefix) {
					keep[i] = false
				}
			}
			if !keep[i] {
				issues++
				continue
			}
			for _, name := range cols {
				if isInf(name, i) {
					out[name][i] = math.NaN()
					issues++
				}
			}
		case "tfevents":
			for _, name := range cols {
				if isInf(name, i) {
					out[name][i] = math.NaN()
					issues++
				}
			}
		}
	}
	if format == "tfevents" {
		// A step whose values are all missing writes no event.
		steps, _ := run.Column(ingest.ColStep)
		increasing := true
		for i := 1; i < n; i++ {
			if steps[i] <= steps[i-1] {
				increasing = false
			}
		}
		for i := 0; i < n; i++ {
			any := !increasing
			for name, c := range out {
				if name != ingest.ColStep && !math.IsNaN(c[i]) {
					any = true
				}
			}
			if ids, ok := run.StringColumn(ingest.ColCallID); ok && ids[i] != "" {
				any = true
			}
			keep[i] = keep[i] && any
		}
	}
	rows := 0
	for _, k := range keep {
		if k {
			rows++
		}
	}
	want := ingest.NewRun(rows)
	if format == "jsonl" {
		// The rewardspy writer leaves out what rewardspy's records have no
		// field for and fills the two fields every record must have.
		cols = slices.DeleteFunc(slices.Clone(cols), func(c string) bool { return strings.HasPrefix(c, ingest.ExtraPrefix) })
		if !run.Has(ingest.ColTime) {
			want.SetColumn(ingest.ColTime, make([]float64, rows))
		}
		// A record without a call id gets "row-N" (its 1-based row).
		have, _ := run.StringColumn(ingest.ColCallID)
		var ids []string
		for i, k := range keep {
			switch {
			case !k:
			case have != nil && have[i] != "":
				ids = append(ids, have[i])
			default:
				ids = append(ids, fmt.Sprintf("row-%d", i+1))
			}
		}
		want.SetStringColumn(ingest.ColCallID, ids)
		cols = slices.DeleteFunc(cols, func(c string) bool { return c == ingest.ColCallID })
	}
	for _, name := range cols {
		if s, ok := run.StringColumn(name); ok {
			var c []string
			for i, k := range keep {
				if k {
					c = append(c, s[i])
				}
			}
			if slices.ContainsFunc(c, func(x string) bool { return x != "" }) {
				want.SetStringColumn(name, c)
			}
			continue
		}
		var c []float64
		for i, k := range keep {
			if k {
				c = append(c, out[name][i])
			}
		}
		if slices.ContainsFunc(c, func(x float64) bool { return !math.IsNaN(x) }) {
			want.SetColumn(name, c)
		}
	}
	return want, issues
}

// sameRun reports the first difference between two runs' columns.
func sameRun(want, got *ingest.Run) string {
	if want.Len() != got.Len() {
		return fmt.Sprintf("rows %d, want %d", got.Len(), want.Len())
	}
	if want.Len() == 0 {
		return "" // no rows: which empty columns a reader names does not matter
	}
	if w, g := want.Columns(), got.Columns(); !slices.Equal(w, g) {
		return fmt.Sprintf("columns %q, want %q", g, w)
	}
	for _, name := range want.Columns() {
		if ws, ok := want.StringColumn(name); ok {
			gs, ok := got.StringColumn(name)
			if !ok || !slices.Equal(ws, gs) {
				return fmt.Sprintf("column %q = %q, want %q", name, gs, ws)
			}
			continue
		}
		wc, _ := want.Column(name)
		gc, ok := got.Column(name)
		if !ok {
			return fmt.Sprintf("column %q is not numeric", name)
		}
		for i := range wc {
			if math.Float64bits(wc[i]) != math.Float64bits(gc[i]) && !(math.IsNaN(wc[i]) && math.IsNaN(gc[i])) {
				return fmt.Sprintf("column %q row %d = %v, want %v", name, i, gc[i], wc[i])
			}
		}
	}
	return ""
}

var roundTripFormats = []struct {
	name  string
	write func(w *bytes.Buffer, run *ingest.Run) error
}{
	{"jsonl", func(w *bytes.Buffer, r *ingest.Run) error { return ingest.WriteJSONL(w, r) }},
	{"csv", func(w *bytes.Buffer, r *ingest.Run) error { return ingest.WriteCSV(w, r) }},
	{"parquet", func(w *bytes.Buffer, r *ingest.Run) error { return ingest.WriteParquet(w, r) }},
	{"tfevents", func(w *bytes.Buffer, r *ingest.Run) error { return ingest.WriteTFEvents(w, r) }},
}

func checkRoundTrip(t *testing.T, run *ingest.Run) {
	t.Helper()
	for _, f := range roundTripFormats {
		var buf bytes.Buffer
		if err := f.write(&buf, run); err != nil {
			t.Fatalf("%s: write: %v", f.name, err)
		}
		readFormat := f.name
		if f.name == "jsonl" {
			readFormat = "rewardspy-jsonl"
		}
		want, issues := expectAfter(run, f.name)
		got, err := ingest.Read(bytes.NewReader(buf.Bytes()), "rt."+f.name, ingest.Options{Format: readFormat, Grain: run.Grain, MaxIssues: 1000})
		if err != nil {
			if want.Len() == 0 {
				continue // every record held ±Inf: nothing to read, and said so
			}
			t.Fatalf("%s: read back: %v\n%s", f.name, err, buf.String())
		}
		if d := sameRun(want, got); d != "" {
			file := buf.String()
			if f.name == "parquet" || f.name == "tfevents" {
				file = "(binary)"
			}
			t.Fatalf("%s: %s\nfile:\n%q", f.name, d, file)
		}
		// JSONL has no header: the order is what its records show, so it
		// is checked when one kept record lists every component.
		if w, g := presentIn(orderOf(run), want), presentIn(orderOf(got), want); len(w) > 1 && !slices.Equal(w, g) &&
			(f.name != "jsonl" || oneRowHasAll(want)) {
			t.Fatalf("%s: component order %q, want %q\n%s", f.name, g, w, buf.String())
		}
		if len(got.Issues) != issues {
			t.Fatalf("%s: %d issues, want %d: %v", f.name, len(got.Issues), issues, got.Issues)
		}
	}
}

func TestWriterRoundTripCases(t *testing.T) {
	// Every odd name and value at least once.
	for i := 0; i < 40; i++ {
		data := make([]byte, 64)
		for j := range data {
			data[j] = byte(i*31 + j*7 + i*j)
		}
		checkRoundTrip(t, genRun(data))
	}
}

func FuzzWriterRoundTrip(f *testing.F) {
	f.Add([]byte{3, 1, 0, 0, 1, 2, 3, 3, 0, 5, 6, 7, 8, 9, 0, 0, 1, 0, 2})
	f.Add([]byte{11, 4, 1, 13, 14, 12, 3, 5, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 1, 0, 6})
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRoundTrip(t, genRun(data))
	})
}

// orderOf is the run's component order: Meta's, else sorted.
func orderOf(run *ingest.Run) []string {
	var order []string
	if m := run.Meta[ingest.MetaComponentOrder]; m != "" {
		json.Unmarshal([]byte(m), &order)
		return order
	}
	return run.Components()
}

// presentIn keeps the names of order that are components of run.
func presentIn(order []string, run *ingest.Run) []string {
	var out []string
	for _, k := range order {
		if run.Has(ingest.ComponentPrefix + k) {
			out = append(out, k)
		}
	}
	return out
}

// oneRowHasAll reports whether some row of run has a value in every
// component column.
func oneRowHasAll(run *ingest.Run) bool {
	for i := 0; i < run.Len(); i++ {
		all := true
		for _, k := range run.Components() {
			if c, ok := run.Column(ingest.ComponentPrefix + k); ok && math.IsNaN(c[i]) {
				all = false
			}
		}
		if all {
			return true
		}
	}
	return false
}
