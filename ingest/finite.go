package ingest

import (
	"fmt"
	"math"
	"strings"
)

// Non-finite values, booleans and byte-order marks, the same in every
// reader:
//
//   - A number that is NaN, Infinity or -Infinity (in any spelling the
//     format allows: NaN, nan, inf, Infinity, a bare Python token) or
//     outside the float64 range (1e309) is not a value goodhart can compute
//     with. It is reported as an Issue naming the line (or record) and the
//     field; with Options.Strict it is an error. In a canonical column
//     (step, reward, component.*, eval.*, length, kl, ...) the record is
//     skipped and counted in Run.Skipped, as rewardspy JSONL and CSV always
//     did. In an extra.<key> column of a trainer log (grad_norm: NaN after
//     an overflow is common) only that value is left missing (Issue.Kept):
//     the step's reward is not thrown away for it. The generic JSONL and
//     CSV readers skip the record whatever the column.
//   - A missing value (JSON null, an empty CSV cell) is not a problem: it
//     is NaN in the column, which means "no value".
//   - true/false is not a number for a canonical column: the record is
//     skipped and reported the same way. In extra.<key> columns (flags a
//     trainer logs, SB3 info keywords like is_success) a boolean is 1/0.
//   - A UTF-8 byte-order mark at the start of a text input is skipped.

// valueProblem returns what is wrong with value f read from text for
// column col ("" when it can be stored): a boolean where a canonical
// column wants a number, or a non-finite number.
func valueProblem(col string, f float64, isBool bool, text string) string {
	if isBool && !strings.HasPrefix(col, ExtraPrefix) {
		return fmt.Sprintf("want a number, got a boolean (%.20s)", text)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Sprintf("not a finite number: %.40s", text)
	}
	return ""
}

// trimBOM drops a leading UTF-8 byte-order mark.
func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf {
		return b[3:]
	}
	return b
}

// canonicalCol reports whether a column is one of goodhart's own (not an
// extra.<key> kept for export): a bad value there costs the record.
func canonicalCol(col string) bool { return !strings.HasPrefix(col, ExtraPrefix) }

// readErrIssue is the message for an input that stops with a read error
// (a truncated gzip stream, bytes after its end): what happened, and that
// the records before it were kept.
func readErrIssue(name string, err error) string {
	return strings.TrimPrefix(err.Error(), name+": ") + "; the records before it were kept"
}
