// Command reportgen is goodhart's command line: it reads a training log,
// says whether and where the reward was gamed, and writes reports.
//
// It is deliberately thin: it parses flags, calls ingest, analysis, plots
// and probe, prints, and sets the exit code (0 clean, 1 flagged, 2 usage or
// input error). Each subcommand lives in its own file and registers itself.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// version is set with -ldflags "-X main.version=..." for releases.
var version = "0.1.0-dev"

// Exit codes shared by every command.
const (
	exitOK      = 0
	exitFlagged = 1
	exitUsage   = 2
)

// command is one subcommand. run gets the arguments after the command name
// and returns the exit code; it writes results to stdout, messages to stderr.
type command struct {
	name    string
	summary string // one line for the command list
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run([]string{"--help"}, stdout, stderr)
			}
		}
		usage(stdout)
		return exitOK
	case "--version", "-version", "version":
		fmt.Fprintf(stdout, "reportgen %s\n", version)
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "reportgen: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "reportgen %s: catch reward hacking in RL training logs.\n\n", version)
	fmt.Fprintln(w, "Usage: reportgen <command> RUN [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'reportgen <command> --help' for its flags and an example.")
	fmt.Fprintln(w, "Exit codes: 0 clean, 1 flagged (hacking/warning found), 2 usage or input error.")
}
