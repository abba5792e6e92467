package main

import (
	"compress/gzip"
	"fmt"
	"io"
	"strings"

	"github.com/goodhart-rl/goodhart/ingest"
)

func init() {
	register(&command{
		name:    "export",
		summary: "convert a run to CSV, JSONL (rewardspy's format) or Parquet",
		run:     runExport,
	})
}

func runExport(args []string, stdout, stderr io.Writer) int {
	var in inputFlags
	var out, format string
	fs := newFlagSet("export",
		"export RUN -o OUT [--format csv|jsonl|parquet] [--last N]",
		"Write the run in rewardspy's export layout (step, timestamp, call_id,\n"+
			"scalar_reward, call_duration_ms, input_length, output_length,\n"+
			"component.<k>..., then any other columns): CSV, JSONL identical to\n"+
			"rewardspy's writer, or Parquet with nulls for missing values. The format\n"+
			"comes from OUT's extension unless --format is given; OUT ending in .gz is\n"+
			"gzipped; -o - writes to stdout. The file is written atomically (a\n"+
			"temporary file renamed into place), so a failed export never leaves half\n"+
			"a file. Any input reportgen reads can be exported.",
		"reportgen export run.jsonl -o run.parquet --last 10000",
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
	gz := strings.HasSuffix(strings.ToLower(out), ".gz")
	target := out
	if gz {
		target = out[:len(out)-3]
	}
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
	write := func(dst io.Writer) error {
		if !gz {
			return w.Write(dst, run)
		}
		zw := gzip.NewWriter(dst)
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
	if out != "-" {
		fmt.Fprintf(stderr, "wrote %d records to %s (%s)\n", run.Len(), out, w.Name)
	}
	return exitOK
}

func writerNames() string {
	var names []string
	for _, w := range ingest.Writers() {
		names = append(names, w.Name)
	}
	return strings.Join(names, "|")
}
