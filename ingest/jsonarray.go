package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// The json-array format: a JSON array of flat (or nested) objects, one per
// logged step, as custom trainers write with json.dump(history, f)
// ([{"step": 1, "reward_mean": 0.12, ...}, ...]). Each element is read
// exactly as a line of generic JSONL would be (nested keys joined with /,
// --map, well-known keys), and an element that is not an object is
// reported with its 1-based position in the array and skipped.
func init() {
	RegisterFormat(&Format{
		Name:     "json-array",
		Doc:      "a JSON array of objects, one per logged step (json.dump of a metrics history)",
		Priority: 11,
		Detect:   detectJSONArray,
		Read:     readJSONArray,
	})
}

// detectJSONArray: the first non-space bytes are '[' then '{'.
func detectJSONArray(head []byte, _ string) bool {
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(t) < 2 || t[0] != '[' {
		return false
	}
	t = bytes.TrimLeft(t[1:], " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

// maxJSONArrayBytes bounds the array read into memory (the elements are
// re-read as JSONL lines).
const maxJSONArrayBytes = 1 << 30

func readJSONArray(r io.Reader, name string, opt Options) (*Run, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxJSONArrayBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(raw) > maxJSONArrayBytes {
		return nil, fmt.Errorf("%s: a JSON array over 1 GiB; write it as JSON lines instead", name)
	}
	raw = bytes.TrimPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte("\ufeff"))
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, fmt.Errorf("%s: %w: not a JSON array of objects: %v", name, ErrNotARun, err)
	}
	var lines bytes.Buffer
	var issues []Issue
	for i, e := range elems {
		e = bytes.TrimSpace(e)
		if len(e) == 0 || e[0] != '{' {
			issues = append(issues, Issue{File: name, Line: i + 1, Msg: "array element is not an object"})
			continue
		}
		// Compact puts each element on one line for the JSONL reader.
		if err := json.Compact(&lines, e); err != nil {
			issues = append(issues, Issue{File: name, Line: i + 1, Msg: "bad JSON: " + err.Error()})
			continue
		}
		lines.WriteByte('\n')
	}
	if len(issues) > 0 && opt.Strict {
		return nil, fmt.Errorf("%w: %s", ErrStrict, issues[0].Error())
	}
	run, err := readGenericJSONL(&lines, name, opt)
	if err != nil {
		return nil, err
	}
	run.Format = "json-array"
	run.Skipped += len(issues)
	run.Issues = append(issues, run.Issues...)
	return run, nil
}
