package plots

import (
	"errors"
	"math"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

var nan = math.NaN()

// Kinds lists the figure kinds in report order, as accepted by
// `reportgen plot --kind`.
var Kinds = []string{"timeline", "components", "balance", "session", "length", "group", "divergence"}

// Figure draws one figure by kind. bal and ses may be nil for the kinds
// that do not need them.
func FigureOf(kind string, run *ingest.Run, rep *analysis.Report, bal *BalanceView, ses *SessionView, opt Options) (*Figure, error) {
	switch kind {
	case "timeline":
		return Timeline(run, rep, opt)
	case "components":
		return Components(run, opt)
	case "balance":
		return Balance(bal)
	case "session":
		return Session(ses)
	case "length":
		return Length(run, rep, opt)
	case "group":
		return GroupCollapse(run, rep, opt)
	case "divergence":
		return Divergence(run, rep, opt)
	}
	return nil, errors.New("unknown figure kind " + quote(kind) + " (want timeline, components, balance, session, length, group or divergence)")
}

// AllFigures draws every figure that applies, in Kinds order. Figures that
// do not apply (ErrNotApplicable) are left out silently; any other failure
// is returned in errs and the other figures are still drawn.
func AllFigures(run *ingest.Run, rep *analysis.Report, bal *BalanceView, ses *SessionView, opt Options) (figs []*Figure, errs []error) {
	for _, k := range Kinds {
		f, err := FigureOf(k, run, rep, bal, ses, opt)
		if err != nil {
			if !errors.Is(err, ErrNotApplicable) {
				errs = append(errs, err)
			}
			continue
		}
		figs = append(figs, f)
	}
	return figs, errs
}

func quote(s string) string { return "\"" + s + "\"" }
