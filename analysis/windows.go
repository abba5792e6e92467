package analysis

import (
	"github.com/goodhart-rl/goodhart/ingest"
)

// DefaultWindow is rewardspy's rolling window W, used for call, sample and
// episode grains.
const DefaultWindow = 100

// Windows are the record counts the streaming detectors wait for.
type Windows struct {
	W            int // rolling window (variance, ceiling rate, length halves)
	SlopeMin     int // slope: insufficient while count < SlopeMin (rewardspy: 20)
	ComponentMin int // component: insufficient while count < ComponentMin (rewardspy: 30)
	CeilingMin   int // ceiling: insufficient while count < CeilingMin (rewardspy: 50)
}

// WindowFor returns the windows for a run.
//
// An explicit cfg.Window is used as given, with rewardspy's minimum counts.
// Call, sample and episode grains (and any run of rewardspy's format) get
// rewardspy's defaults: W = 100, minimums 20/30/50, so conformance holds.
//
// Step-grain runs (one row per logged trainer step: TRL, verl) are short, so
// W scales with the number of rows n:
//
//	W = clamp(n/5, 10, 100)
//
// and the minimum counts scale with it: slope min(20, W), component
// min(30, W), ceiling min(50, W). A 40-row TRL log gets W = 10; a 1,119-step
// verl log gets W = 100.
func WindowFor(run *ingest.Run, cfg Config) Windows {
	def := Windows{W: DefaultWindow, SlopeMin: 20, ComponentMin: 30, CeilingMin: 50}
	if cfg.Window > 0 {
		def.W = cfg.Window
		return def
	}
	if run == nil || run.Grain != ingest.GrainStep {
		return def
	}
	w := run.Len() / 5
	if w < 10 {
		w = 10
	}
	if w > DefaultWindow {
		w = DefaultWindow
	}
	return Windows{W: w, SlopeMin: min(20, w), ComponentMin: min(30, w), CeilingMin: min(50, w)}
}
