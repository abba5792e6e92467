// Package probe runs a reward function on a file of test cases before any
// training, and fuzzes it for loopholes. A probe produces an
// ingest.Run (Results.Run) that every detector and report reads.
//
// # Case files
//
// ReadCases reads rewardspy's cases.json forms, as one JSON array or as
// JSONL (one case a line). Each item is
//
//	{"args": [...], "kwargs": {...}}   positional and named arguments
//	{"response": "...", "answer": "42"} any other object: named arguments
//	["...", "42"]                       an array: positional arguments
//	"..."                               a scalar: one positional argument
//
// Errors wrap ErrBadCases and name the file, the case index and its line.
//
// # Reward functions
//
// Four kinds sit behind the RewardFunc interface (Score(ctx, Case)):
//
//   - GoFunc / Func: a Go function (GoNB notebooks, Go programs);
//   - Python: a Python function imported by name ("module:function" or
//     "path/file.py:function"), plain or with TRL's batch signature, run
//     by an adapter embedded in goodhart over the command protocol;
//   - Command: an external program in any language, speaking JSONL;
//   - HTTP: an endpoint taking one case per POST.
//
// A result is a number, or an object of components whose "total" entry is
// the reward (else the sum of all entries, as in rewardspy), or
// {"error": "message"}. Anything else (a non-JSON line, NaN, null, a
// string) is ErrNotAReward for that case and never taken for a reward.
//
// # The command protocol
//
// The program is started once (argv, no shell; PYTHONUNBUFFERED=1 is set)
// and kept alive. goodhart writes one case per line to its stdin:
//
//	{"args": ["The answer is 4", "4"], "kwargs": {}}
//	{"args": [], "kwargs": {"response": "Answer: 42", "answer": "42"}}
//
// (always both keys; kwargs in case-file order; numbers exactly as in the
// case file) and reads one result per line from its stdout, in the same
// order:
//
//	1.0
//	{"correctness": 1.0, "format": 0.5}
//	{"error": "TypeError: reward() missing 1 required positional argument"}
//
// Cases are pipelined: up to Command.Depth are written before the first
// result is read, so the program must answer each line as it comes (flush
// stdout after each result) and print nothing else on stdout (logs go to
// stderr). Blank output lines are ignored. When the program crashes, hangs
// past the per-case timeout or prints a line that is not JSON, the case it
// was on fails with ErrCrashed, ErrTimeout or ErrNotAReward (with the last
// line of its stderr), the program is restarted and the cases after it are
// sent again. A program that exits or hangs three times in a row before
// answering anything is ErrUnusable and the probe stops.
// testdata/probe/exact_reward.py is a complete example.
//
// Exactly one line per case: a program that prints more (two results for
// one case, a log line at exit) has shifted every later result onto the
// wrong case, so when the surplus shows (a line with no case pending, at
// the latest when Probe closes stdin at the end) every case that copy of
// the program answered fails with ErrNotAReward. Each copy runs in its own
// process group; when it exits or is killed or stopped, the whole group is
// killed (a child keeping stdout open cannot stall the probe), and every
// wait for it is bounded by a few seconds.
//
// An HTTP endpoint is followed through redirects only on the same scheme
// and host, so --header values (tokens) never reach another server.
//
// The HTTP protocol is the same per request: POST the case object
// (Content-Type: application/json), reply with one result; a non-2xx
// status is an error for that case (its {"error": ...} body is shown).
//
// # Hack probes
//
// Hack rewrites the response of every case with each Perturbation (pad it
// with filler, repeat it, append the reference answer as hedged guesses
// ending on a wrong one, keep only the format tokens, add a fake final
// answer block with a wrong answer, empty it, a bare wrong answer, upper
// case, extra whitespace) and scores each variant against its original.
// The response is the argument named by HackOptions.ResponseField, by
// default the first of response/completion/output/text, else the first
// string argument; the answer is HackOptions.AnswerField, by default
// answer/solution/ground_truth/target, else the argument after a
// positional response.
//
// Rule. A perturbation is Unsolved when by construction it cannot solve a
// case the original did not. A reward is exploitable when some Unsolved
// perturbation raises the reward by more than Tolerance (default 1% of the
// largest |reward| among the originals) on at least MinShare (default 10%)
// of the cases it was scored on. Meaning-preserving rewrites (case,
// whitespace) are reported, a changed reward marking a brittle checker,
// but never make a reward exploitable. With a correctness component
// (HackOptions.CorrectComponent, default "correctness" when returned), each
// row also counts how often the rewrite fooled, kept or broke it.
package probe
