package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/goodhart-rl/goodhart/ingest"
)

func init() {
	register(&command{
		name:    "export",
		summary: "convert a run to CSV, Parquet, or JSONL that rewardspy reads (--format rewardspy)",
		run:     runExport,
	})
}

func runExport(args []string, stdout, stderr io.Writer) int {
	var in inputFlags
	var out, format string
	fs := newFlagSet("export",
		"export RUN -o OUT [--format csv|parquet|jsonl|rewardspy|tfevents] [--last N]",
		"Write the run to another format. The format comes from OUT's extension\n"+
			"unless --format is given; OUT ending in .gz is gzipped, in .zst\n"+
			"zstd-compressed (run.csv.zst); -o - writes to stdout. The file is\n"+
			"written atomically (a temporary file renamed into place), so a failed\n"+
			"export never leaves half a file. Any input reportgen reads can be\n"+
			"exported.\n"+
			"\n"+
			"  csv, parquet   everything: rewardspy's export layout (step, timestamp,\n"+
			"                 call_id, scalar_reward, call_duration_ms, input_length,\n"+
			"                 output_length, component.<k>...) then every other column;\n"+
			"                 reportgen reads them back without loss.\n"+
			"  jsonl, rewardspy  rewardspy's reward-call records and nothing else, so\n"+
			"                 'rewardspy audit OUT' works: call_id, timestamp, step,\n"+
			"                 scalar_reward, components, call_duration_ms, input_length,\n"+
			"                 output_length. Rows without a reward (eval-only rows of\n"+
			"                 TRL/verl logs) and other columns (kl, eval.*) are left\n"+
			"                 out, with a note on stderr; use csv or parquet to keep them.",
		"reportgen export trainer_state.json -o run.jsonl --format rewardspy\n"+
			"  reportgen export run.jsonl -o run.parquet --last 10000",
		stdout)
	in.register(fs)
	fs.StringVar(&out, "o", "", "output file (required; - for stdout)")
	fs.StringVar(&out, "output", "", "same as -o")
	fs.StringVar(&format, "format", "", "output format: "+writerNames()+" (default: from OUT's extension)")
	pos, help, err := parseArgs(fs, args)
	if help {
		return exitOK
	}
	if err != nil {
		return usageError(stderr, "export", "%v", err)
	}
	if len(pos) != 1 {
		return usageError(stderr, "export", "want exactly one RUN file, got %d", len(pos))
	}
	if out == "" {
		return usageError(stderr, "export", "-o OUT is required (e.g. -o run.csv)")
	}
	compression, target := ingest.OutputCompression(out)
	if out == "-" && format == "" {
		return usageError(stderr, "export", "-o - (stdout) needs --format (%s)", writerNames())
	}
	w, err := ingest.LookupWriter(format, target)
	if err != nil {
		return usageError(stderr, "export", "%v", err)
	}
	if c := refuseOverwrite(stderr, "export", runArgs(pos), []fileArg{{"-o", out}}); c >= 0 {
		return c
	}
	run, err := in.load(pos[0], stderr)
	if err != nil {
		return inputError(stderr, err)
	}
	if w.Name == "jsonl" || w.Name == "rewardspy" {
		if n, _, _ := ingest.RewardspyLosses(run); n > 0 && n == run.Len() {
			fmt.Fprintf(stderr, "reportgen export: no row of %s has a reward, and a rewardspy record needs one (scalar_reward); export to .csv or .parquet instead\n", pos[0])
			return exitUsage
		}
	}
	write := func(dst io.Writer) error {
		if compression == "" {
			return w.Write(dst, run)
		}
		zw, err := ingest.NewCompressWriter(dst, compression)
		if err != nil {
			return err
		}
		if err := w.Write(zw, run); err != nil {
			return err
		}
		return zw.Close()
	}
	if out == "-" {
		err = write(stdout)
	} else {
		err = ingest.WriteFileAtomic(out, write)
	}
	if err != nil {
		fmt.Fprintf(stderr, "reportgen export: %v\n", err)
		return exitUsage
	}
	written := run.Len()
	if w.Name == "jsonl" || w.Name == "rewardspy" {
		written -= rewardspyNotes(stderr, run)
	}
	if out != "-" {
		fmt.Fprintf(stderr, "wrote %d records to %s (%s)\n", written, out, w.Name)
	}
	return exitOK
}

// rewardspyNotes prints what a rewardspy/JSONL export leaves out and
// returns how many rows were not written.
func rewardspyNotes(stderr io.Writer, run *ingest.Run) int {
	n, first, dropped := ingest.RewardspyLosses(run)
	if n > 0 {
		noun := "rows"
		if n == 1 {
			noun = "row"
		}
		fmt.Fprintf(stderr, "reportgen export: left out %d %s without a reward (eval-only rows; the first at step %s): a rewardspy record needs scalar_reward\n",
			n, noun, strconv.FormatFloat(run.Steps()[first-1], 'f', -1, 64))
	}
	if len(dropped) > 0 {
		list := dropped
		if len(list) > 6 {
			list = append(list[:6:6], fmt.Sprintf("... (%d in all)", len(dropped)))
		}
		fmt.Fprintf(stderr, "reportgen export: left out columns rewardspy records have no field for: %s (export to .csv or .parquet to keep them)\n", strings.Join(list, ", "))
	}
	return n
}

func writerNames() string {
	var names []string
	for _, w := range ingest.Writers() {
		names = append(names, w.Name)
	}
	return strings.Join(names, "|")
}
