// Package analysis runs hack detectors and balance analysis over an
// ingest.Run and returns findings; it never draws and never prints.
//
// Data flow: Audit(run, cfg) replays the run through the five
// rewardspy-compatible streaming detectors (variance, slope, component,
// ceiling, length; DESIGN §2.1, bit-compatible with rewardspy), then runs
// every registered batch Detector that applies to the run's columns (group
// collapse, divergence, length coupling, truncation, dead component), and
// folds all final statuses and alerts into a Report with a verdict, an exit
// code, rewardspy's diagnosis sentence and summary statistics.
//
// Batch detectors (one file each, registered in init): group (GRPO group
// collapse, DESIGN §2.2), divergence (train reward up while a held-out
// metric falls or stays flat), length_coupling (reward gain that rides on
// response length), truncation (answers pinned at the max length) and
// dead_component (a component ~0 for the run or from some step on). Each
// result carries Evidence: the step range, the numbers and one sentence.
// Step-grain runs get windows scaled to their length (WindowFor).
//
// Balance and alignment (DESIGN §3) are separate entry points over the same
// Run: Balance and the streaming Monitor (rewardguard's free tier), and the
// Aligner (its paid tier's alignment score, drift, starvation alerts and
// weight correction), which replays a Run or takes Step calls from a Go
// training loop.
package analysis
