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
// Column names: canonical columns (step, reward, reward_std,
// component.<name>, length, group, zero_std_frac, clip_ratio, eval.<name>,
// kl, entropy, time, duration_ms, call_id, input_length, and for preference
// optimisation chosen_reward, rejected_reward, margin, pref_accuracy) plus extra.<key> for
// everything else a source logs. A value that a record does not have is NaN
// in a numeric column (and "" in a string column); a column no record has is
// simply absent, never zero-filled.
//
// Formats (registered by the files named after them, detected from content,
// most specific first): trl (HF Trainer / TRL trainer_state.json),
// trl-console (a TRL trainer's stdout: one {'loss': ..., 'reward': ...}
// dict per step), verl and verl-jsonl (verl console logs and file-logger
// JSONL), sb3-monitor (Stable-Baselines3 monitor.csv), tfevents
// (TensorBoard event files), wandb and wandb-history (a W&B run's
// run-<id>.wandb record file and files/wandb-history.jsonl), rewardguard
// (rewardguard training logs), rewardspy-jsonl, and the generic jsonl, csv
// and parquet readers that take a --map. Each reader's file comment gives
// its column mapping. The generic readers infer the grain and merge trainer
// logs that write several lines per step (see InferGrain).
//
// Well-known keys (keys.go): one table names what trainers log under their
// own names: reward candidates in priority order (RewardKeys: reward,
// reward/mean, train/reward, train_reward, critic/score/mean,
// rewards/margins, rollout/ep_rew_mean, Environment/Cumulative Reward,
// ...), length, kl, entropy, clip ratio and the DPO/ORPO/KTO columns, and
// held-out metric names (GoldName: correctness, accuracy, pass@k,
// test_score, val/..., eval/...). Read applies it to every run (WellKnown),
// so a log with no reward column gets its best well-known key as the
// reward without --map, and sets Run.Meta[MetaRewardKey] (the key) and
// Run.Meta[MetaKind] (rewardspy, policy, preference or episodes) when the
// format or the keys say it. NoRewardError lists a run's numeric keys,
// best candidates first, when none fits.
//
// Folders (dir.go): ResolvePath finds the runs at a path (a W&B run
// folder, an MLflow run folder, an HF output folder's trainer_state.json
// or newest checkpoint, TensorBoard run folders, SB3 monitor files, and
// log files of a known format below it), ReadSource reads one (merging the
// event files of a TensorBoard run by step and the monitor files of a
// vectorised SB3 run by time), ReadPath does both for a path that holds
// one run, and Source.Describe says which files were read. ReadFile reads
// a folder the same way. MLflow runs are folders only (ReadMLflowRun).
//
// Writers (RegisterWriter; reportgen export): csv and parquet (every
// column, read back without loss), jsonl, also named rewardspy (exactly
// rewardspy's records, which rewardspy's own tools read: see WriteJSONL and
// RewardspyLosses) and tfevents, written atomically with WriteFileAtomic.
//
// Bad input, the same rules in every reader (details in finite.go and each
// reader's file comment):
//
//   - Non-finite numbers (NaN, Infinity, -Infinity in any spelling, or a
//     number beyond float64 such as 1e309) and true/false where a number is
//     wanted are reported as an Issue with file, line (record number for
//     binary formats) and field; with Options.Strict they are an error.
//     What is dropped, per reader:
//     rewardspy-jsonl, jsonl, csv: the record (any column);
//     trl, verl, verl-jsonl, sb3-monitor: the record when the column is
//     canonical (reward, component.*, eval.*, length, step, kl, ...), only
//     the value (Issue.Kept, counted in Run.Kept) in an extra.<key> column
//     such as grad_norm; booleans in extra columns are 1/0;
//     parquet: ±Inf as for the trainer readers; NaN is a missing value
//     (pandas writes missing floats as NaN);
//     tfevents: the event (so that step's cell is missing);
//     rewardguard: the value is left missing (Kept).
//   - A last line without its newline in a line format is reported and
//     skipped unless it is a whole JSON record (JSONL, verl-jsonl), since a
//     CSV or monitor value may be cut mid-number; Follow, reading a live
//     log, drops a half-written last line quietly instead.
//   - Input starting with gzip (1F 8B) or Zstandard (28 B5 2F FD) magic
//     bytes is decompressed, whatever its name, in a goroutine ahead of the
//     parser. A truncated stream, or bytes after its end that are not more
//     of it, keeps every complete record and adds one issue, whatever the
//     size (zstd hands over whole blocks, up to 128 KiB of text, so a cut
//     loses the block it falls in).
//   - A UTF-8 byte-order mark is skipped. ReadFile("-") reads standard
//     input. IssueSummary words Skipped and Kept for the user.
//   - Wide, sparse JSONL (thousands of rarely present keys) is held sparse
//     while reading; rarely present extra columns past a cell budget are
//     dropped and named in Meta (see DroppedNote).
//
// Writers (RegisterWriter; reportgen export): csv, jsonl (rewardspy's
// format), parquet and tfevents, written atomically with WriteFileAtomic
// (which keeps an existing file's mode, writes through symlinks and removes
// its own stale temporary files). read(write(run)) == run for every writer
// (FuzzWriterRoundTrip): NaN stays missing; ±Inf, which no reader takes as
// a value, is written as Python writes it (Infinity in JSONL, inf in CSV)
// and comes back as an issue, never as another value.
//
// Follow tails a growing file for the live view: line formats are decoded
// chunk by chunk as lines complete; whole-file formats are re-read when the
// file changes.
//
// Views: Run.Record gives an Arrow record for Parquet and IPC; package
// ingest/frame gives a gota DataFrame for notebooks (kept apart so programs
// that only read runs do not link gota).
package ingest
