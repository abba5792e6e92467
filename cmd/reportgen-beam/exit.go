package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
)

func filesystemFor(ctx context.Context, p string) (filesystem.Interface, error) {
	return filesystem.New(ctx, p)
}

// exitFromOutput is the sweep's exit code from a JSON table ({"exit_code"})
// or from JSONL findings (run rows: "error" verdict -> 2, else any
// exit_code 1 -> 1).
func exitFromOutput(b []byte) (int, error) {
	b = bytes.TrimSpace(b)
	if bytes.HasPrefix(b, []byte("{\n")) || !bytes.Contains(b, []byte("\n")) && bytes.Contains(b, []byte(`"rows"`)) {
		var t struct {
			ExitCode int `json:"exit_code"`
		}
		if err := json.Unmarshal(b, &t); err == nil {
			return t.ExitCode, nil
		}
	}
	code := 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var f struct {
			Row      string `json:"row"`
			Verdict  string `json:"verdict"`
			ExitCode int    `json:"exit_code"`
		}
		if err := json.Unmarshal(line, &f); err != nil {
			return 0, fmt.Errorf("read back the findings: %w", err)
		}
		if f.Row != "run" {
			continue
		}
		if f.Verdict == "error" {
			return 2, nil
		}
		if f.ExitCode != 0 {
			code = 1
		}
	}
	return code, nil
}
