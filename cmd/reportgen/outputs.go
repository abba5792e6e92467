package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// fileArg is a file named on the command line and how it was named
// ("RUN", "-o", "--csv", ...), for messages.
type fileArg struct {
	flag, path string
}

// sameFile reports whether a and b name the same file. Existing files are
// compared by identity (os.SameFile after following symlinks: also true
// for hard links, "./x" and "x"); otherwise by cleaned absolute path.
func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	if errA == nil || errB == nil {
		return false // one exists, the other does not
	}
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

// checkOutputs returns an error when an output would overwrite an input
// file or another output: an output is refused when it is the same file as
// any input, or as an output listed before it. Empty paths and "-"
// (stdin/stdout) are ignored. The message names both paths.
func checkOutputs(inputs, outputs []fileArg) error {
	for i, out := range outputs {
		if out.path == "" || out.path == "-" {
			continue
		}
		for _, in := range inputs {
			if in.path == "" || in.path == "-" {
				continue
			}
			if sameFile(out.path, in.path) {
				return fmt.Errorf("%s %s is the same file as the input %s (%s): refusing to overwrite it; write the output somewhere else",
					out.flag, out.path, in.flag, in.path)
			}
		}
		for _, prev := range outputs[:i] {
			if prev.path == "" || prev.path == "-" {
				continue
			}
			if sameFile(out.path, prev.path) {
				return fmt.Errorf("%s %s and %s %s are the same file: give each output its own name", prev.flag, prev.path, out.flag, out.path)
			}
		}
	}
	return nil
}

// refuseOverwrite prints checkOutputs' error for command cmd and returns
// exit code 2, or returns -1 when every output is safe to write.
func refuseOverwrite(stderr io.Writer, cmd string, inputs, outputs []fileArg) int {
	if err := checkOutputs(inputs, outputs); err != nil {
		fmt.Fprintf(stderr, "reportgen %s: %v\n", cmd, err)
		return exitUsage
	}
	return -1
}

// runArgs lists positional RUN files as inputs.
func runArgs(paths []string) []fileArg {
	out := make([]fileArg, len(paths))
	for i, p := range paths {
		out[i] = fileArg{"RUN", p}
	}
	return out
}

// existingFiles lists the arguments of a command line that name existing
// regular files (a reward script), as inputs named by flag.
func existingFiles(flag string, argv []string) []fileArg {
	var out []fileArg
	for _, a := range argv {
		if st, err := os.Stat(a); err == nil && st.Mode().IsRegular() {
			out = append(out, fileArg{flag, a})
		}
	}
	return out
}
