package plots

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

var nan = math.NaN()

// Kinds lists the figure kinds in report order, as accepted by
// `reportgen plot --figure`.
var Kinds = []string{"timeline", "components", "balance", "session", "length", "group", "divergence"}

// FigureOf draws one figure by kind (one of Kinds). bal and ses may be nil
// for the kinds that do not need them; a nil one for balance or session
// gives ErrNotApplicable.
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
	return nil, fmt.Errorf("unknown figure kind %q (want %s)", kind, strings.Join(Kinds, ", "))
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
