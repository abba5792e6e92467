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
// Balance and alignment (DESIGN §3) are separate entry points over the same
// Run.
package analysis
