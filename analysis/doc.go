// Package analysis says whether a training run's reward was gamed, and
// where; it runs detectors and balance analysis over an ingest.Run and
// returns findings. It never draws and never prints.
//
// # Data flow
//
// Audit(run, cfg) first decides the run's Kind (DetectKind, or cfg.Kind):
//
//   - rewardspy: a per-call or per-sample reward log of an LLM policy;
//   - policy: an LLM policy-optimisation trainer log (GRPO, PPO, RLOO in
//     TRL, verl, OpenRLHF), one row per logged trainer step;
//   - preference: a preference-optimisation log (DPO, ORPO, KTO, SimPO);
//   - episodes: classic RL, one row per episode or a logged mean return
//     (Stable-Baselines3, TensorBoard, ML-Agents, rewardguard).
//
// The kind picks the detectors (KindDetectors), their thresholds and their
// words. The rewardspy kind replays the run through rewardspy's five
// streaming detectors (variance, slope, component, ceiling, length) with
// rewardspy's own arithmetic, bit for bit, then runs the batch detectors
// that apply; the other kinds run only batch detectors, because the five
// read ordinary learning as a fault there (a rising learning curve is not a
// "distribution shift", an episode length is not a response length, a
// saturating mean is not a variance collapse). Config.Detectors ["rewardspy"]
// (reportgen --detectors rewardspy) judges any run exactly as rewardspy
// would.
//
// Every actionable finding gets a Class, and the Report gets the worst one:
//
//   - reward_hacking: the optimised reward rises while the true objective
//     does not (divergence against a held-out or gold metric, format_gain
//     against the reward's own correctness term), or the gain rides on
//     length (length_coupling); on rewardspy logs, an ALERT of the five;
//   - training_pathology: not hacking, but the run is broken: no learning
//     signal (group, no_learning), collapse, truncation, a dead component,
//     a length explosion, preference over-optimisation;
//   - early_warning: worth a look, neither yet (a rewardspy WARNING, a
//     saturated score with nothing to compare it with);
//   - healthy: nothing actionable.
//
// Report.Headline says the class and the evidence in one sentence. The
// verdict word is rewardspy's (collecting, healthy, warning, hacking) for the
// rewardspy kind, and for the other kinds hacking, pathology, warning,
// healthy or collecting. ExitCode is 1 when any final status is WARNING or
// ALERT, else 0.
//
// # Streaming
//
// Stream is the same audit in bounded memory, for logs too long to hold
// and for a log that is still growing: Add the run chunk by chunk (as
// ingest.Stream delivers it) and ask for Report at any time. The five see
// every row; the batch detectors, the headline and the diagnosis judge
// every row up to SampleRows rows (the report is then Audit's, bit for
// bit) and an evenly spaced sample beyond, with each sampled row's own step
// and record count; Report.Sampled (JSON "sampled": {rows, of, every}) says
// when the figures come from a sample. The group detector's rule is
// applied to every row as it arrives, so it stays exact.
//
// Live is the model of a log being followed (reportgen show --follow): the
// five over every record, rings of the latest records for sparklines, a
// downsampled reward curve, the batch detectors re-run on the latest rows,
// and the alerts of both merged; Live.View is what the terminal draws.
//
// # Steps and records
//
// Alert.Step is the 1-based count of records with a reward at the time
// (rewardspy's meaning, kept in JSON "step"); Alert.RunStep is the run's
// own step there (the trainer step, the episode, the record's step field):
// human output names only RunStep. Report.Records counts records with a
// reward; rows without one (eval-only rows of trainer logs) are not records.
//
// # rewardspy's five (the rewardspy kind)
//
// Replayed in file order with a window W (100, or WindowFor's scaled window
// for step-grain runs) and a sensitivity low/medium/high. Rolling mean and
// population std over the last W values use Welford's method with removal;
// the history keeps the last 10,000 rewards.
//
//   - variance: at the first full window, base = pstdev of the first
//     max(2, int(0.2·history)) rewards (base < 1e-6: OK for good);
//     ratio = rolling std / base; ALERT below 0.02/0.05/0.10, WARNING below
//     0.10/0.20/0.35 (low/medium/high).
//   - slope: two-sided CUSUM from count 20 on, baseline the rolling mean
//     then; dev = r − baseline, pos = max(0, pos + dev − 0.5), neg =
//     max(0, neg − dev − 0.5); WARNING for one record when either passes
//     h = 8/5/3, then both reset and the baseline moves to the rolling mean.
//   - component: from count 30, with two or more components (not "total"),
//     share = |mean c| / Σ|mean j| over rolling means; ALERT above
//     0.95/0.90/0.85, WARNING above 0.85/0.75/0.70.
//   - ceiling: from count 50, ceiling = --max-reward or the lifetime max
//     (<= 0: OK); ALERT when the share of the window >= 0.99·ceiling is
//     above 0.9/0.8/0.7.
//   - length: from count 2W, z = (mean of the last W lengths − mean of the
//     first W) / pstdev of the first W (< 1: OK for good); WARNING when
//     |z| > 4/3/2.
//
// Alerts are de-duplicated per detector: a WARNING or ALERT raises an alert
// when it differs from the detector's last actionable status; OK resets
// that; INSUFFICIENT_DATA and NOT_APPLICABLE change nothing. Every batch
// detector follows the same rule.
//
// # Batch detectors
//
// One file each, registered in init; each result carries Evidence (the
// run's step range, the numbers, one sentence). Their doc comments state
// the exact rules:
//
//   - group: GRPO groups with zero reward spread (no learning signal);
//     ALERT when more than half of the last 500 groups (or the mean of the
//     last 500 zero_std_frac values) collapsed.
//   - divergence: the train reward against held-out or gold metrics
//     (Config.Gold, else eval.* columns), judged in the metric's own terms.
//   - format_gain: the reward rises through its format terms while its
//     correctness terms stay flat.
//   - length_coupling: the share of the reward gain that response length
//     explains beyond training progress.
//   - truncation: clip_ratio (completions cut at the max length) climbing
//     toward 1.
//   - dead_component: a reward component ~0 for the whole run, or from some
//     step on.
//   - no_learning: the reward is the same number on every record, or stays
//     flat over the whole run (no later tenth significantly above the first
//     fifth); judged on the whole run, so a late take-off is learning.
//   - collapse: the reward falls from its best level and stays down (a
//     persistent drop against the run's own gain and noise, not a dip);
//     WARNING when it came back ("collapse and recovery").
//   - saturation: a batch-mean score pinned at its ceiling (>= 0.95 of the
//     max for 80% of the last half): an early warning, not hacking.
//   - length_explosion: response length jumps far above (or below) its
//     earlier level and stays there (policy logs only).
//   - preference: DPO/ORPO/KTO failure signs: accuracy pinned at 1 while the
//     margin explodes; the chosen reward falling while the margin grows.
//
// The full rule of each, with its thresholds, is on its Det* constant
// (go doc ./analysis DetCollapse). KindDetectors lists which kind runs which.
//
// Step-grain runs get windows scaled to their length (WindowFor).
//
// # Balance and alignment
//
// Balance and the streaming Monitor reproduce rewardguard's free tier: each
// component's share of the reward magnitude against the split the user
// designed, with severities and weight multipliers. The Aligner is the
// alignment monitor of rewardguard's paid tier: a baseline of component
// ratios, z-scores, an alignment score, drift velocity, starvation alerts
// and automatic weight correction, replayed over a Run or fed from a Go
// training loop with Step.
package analysis
