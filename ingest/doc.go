// Package ingest turns training logs into a Run: a columnar table with one
// row per record (a reward call, a sample, an episode or a logged trainer
// step) and one []float64 per column.
//
// Data flow: ReadFile opens a path (transparently gunzipping .gz), sniffs the
// first bytes to pick a Format (or takes Options.Format), and hands the stream
// to that format's reader. Readers stream the input in bounded chunks and
// append into column builders; a malformed record is reported as an Issue
// (file, line, field, message), counted in Run.Skipped and skipped, unless
// Options.Strict asks for the first problem to be fatal.
//
// Column names follow DESIGN §1: canonical columns (step, reward, reward_std,
// component.<name>, length, group, zero_std_frac, clip_ratio, eval.<name>,
// kl, entropy, time, duration_ms, call_id, input_length) plus extra.<key> for
// everything else a source logs. A value that a record does not have is NaN
// in a numeric column (and "" in a string column); a column no record has is
// simply absent, never zero-filled.
//
// Formats (registered by the files named after them, detected from content,
// most specific first): trl (HF Trainer / TRL trainer_state.json), verl and
// verl-jsonl (verl console logs and file-logger JSONL), sb3-monitor
// (Stable-Baselines3 monitor.csv), tfevents (TensorBoard event files),
// rewardguard (rewardguard training logs), rewardspy-jsonl, and the generic
// jsonl, csv and parquet readers that take a --map. Each reader's file
// comment gives its column mapping. The generic readers infer the grain and
// merge trainer logs that write several lines per step (see InferGrain).
//
// Writers (RegisterWriter; reportgen export): csv and parquet (every
// column, read back without loss), jsonl, also named rewardspy (exactly
// rewardspy's records, which rewardspy's own tools read: see WriteJSONL and
// RewardspyLosses) and tfevents, written atomically with WriteFileAtomic.
//
// Follow tails a growing file for the live view: line formats are decoded
// chunk by chunk as lines complete; whole-file formats are re-read when the
// file changes.
//
// Views: Run.Record gives an Arrow record for Parquet and IPC; package
// ingest/frame gives a gota DataFrame for notebooks (kept apart so programs
// that only read runs do not link gota).
package ingest
