package analysis

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strconv"
)

// pyFloat marshals like Python's json.dumps of a float (repr: "1.1",
// "0.0", "2.2204460492503132e-17"); NaN and infinities become null.
type pyFloat float64

func (f pyFloat) MarshalJSON() ([]byte, error) {
	x := float64(f)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return []byte("null"), nil
	}
	return []byte(PyRepr(x)), nil
}

// stepNum marshals a run step: an integer when it is one ("29"), else the
// Python repr; NaN becomes null.
type stepNum float64

func (f stepNum) MarshalJSON() ([]byte, error) {
	x := float64(f)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return []byte("null"), nil
	}
	if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
		return []byte(strconv.FormatInt(int64(x), 10)), nil
	}
	return []byte(PyRepr(x)), nil
}

type jsonEvidence struct {
	FromStep   stepNum            `json:"from_step"`
	ToStep     stepNum            `json:"to_step"`
	FromRecord int                `json:"from_record"`
	ToRecord   int                `json:"to_record"`
	Numbers    map[string]pyFloat `json:"numbers,omitempty"`
	Reason     string             `json:"reason"`
}

func toJSONEvidence(e *Evidence) *jsonEvidence {
	if e == nil {
		return nil
	}
	j := &jsonEvidence{FromStep: stepNum(e.FromStep), ToStep: stepNum(e.ToStep),
		FromRecord: e.FromRecord, ToRecord: e.ToRecord, Reason: e.Reason}
	if len(e.Numbers) > 0 {
		j.Numbers = make(map[string]pyFloat, len(e.Numbers))
		for k, v := range e.Numbers {
			j.Numbers[k] = pyFloat(v)
		}
	}
	return j
}

type jsonDetector struct {
	Status   Status        `json:"status"`
	Message  string        `json:"message"`
	Severity string        `json:"severity"`
	Class    Class         `json:"class,omitempty"`
	Evidence *jsonEvidence `json:"evidence,omitempty"`
}

// jsonDetectors is the "detectors" object, keys in report order.
type jsonDetectors []NamedResult

func (d jsonDetectors) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, r := range d {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := marshalRaw(r.Name)
		b.Write(k)
		b.WriteByte(':')
		v, err := marshalRaw(jsonDetector{Status: r.Status, Message: r.Message,
			Severity: r.Severity, Class: r.Class, Evidence: toJSONEvidence(r.Evidence)})
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type jsonAlert struct {
	Step     int           `json:"step"`
	RunStep  stepNum       `json:"run_step"`
	Detector string        `json:"detector"`
	Status   Status        `json:"status"`
	Severity string        `json:"severity"`
	Message  string        `json:"message"`
	Detail   string        `json:"detail"`
	Evidence *jsonEvidence `json:"evidence,omitempty"`
}

type jsonSummary struct {
	Mean pyFloat `json:"mean"`
	Std  pyFloat `json:"std"`
	Min  pyFloat `json:"min"`
	Max  pyFloat `json:"max"`
	P50  pyFloat `json:"p50"`
	P95  pyFloat `json:"p95"`
}

type jsonReport struct {
	Kind      Kind          `json:"kind"`
	Class     Class         `json:"class"`
	Headline  string        `json:"headline"`
	Records   int           `json:"records"`
	Verdict   string        `json:"verdict"`
	Overall   Status        `json:"overall,omitempty"`
	ExitCode  int           `json:"exit_code"`
	Window    int           `json:"window"`
	Detectors jsonDetectors `json:"detectors"`
	Alerts    []jsonAlert   `json:"alerts"`
	Diagnosis string        `json:"diagnosis"`
	Summary   *jsonSummary  `json:"summary,omitempty"`
	Sampled   *jsonSampled  `json:"sampled,omitempty"`
}

type jsonSampled struct {
	Rows  int `json:"rows"`
	Of    int `json:"of"`
	Every int `json:"every"`
}

// MarshalJSON encodes the report as `reportgen audit --format json` prints
// it: kind, class (reward_hacking, training_pathology, early_warning or
// healthy), headline, then the fields of rewardspy's audit JSON, unchanged
// in shape and meaning: records, verdict, overall (rewardspy's
// worst status; absent for an empty run), exit_code, window, detectors
// {name: {status, message, severity[, class][, evidence]}} in report order, alerts
// [{step, run_step, detector, status, severity, message, detail[,
// evidence]}], diagnosis and summary {mean, std, min, max, p50, p95}
// (absent for an empty run), then sampled {rows, of, every} when the batch
// detectors judged a sample of a long stream (absent otherwise). Floats are written as Python's repr writes
// them; a missing run_step is null.
func (r *Report) MarshalJSON() ([]byte, error) {
	j := jsonReport{Kind: r.Kind, Class: r.Class, Headline: r.Headline,
		Records: r.Records, Verdict: r.Verdict, ExitCode: r.ExitCode,
		Window: r.Window, Detectors: jsonDetectors(r.Detectors), Diagnosis: r.Diagnosis,
		Alerts: make([]jsonAlert, 0, len(r.Alerts))}
	if r.Records > 0 {
		j.Overall = Overall(r.Detectors)
	}
	for _, a := range r.Alerts {
		j.Alerts = append(j.Alerts, jsonAlert{Step: a.Step, RunStep: stepNum(a.RunStep),
			Detector: a.Detector, Status: a.Status, Severity: a.Severity, Message: a.Message,
			Detail: a.Detail, Evidence: toJSONEvidence(a.Evidence)})
	}
	if s := r.Summary; s != nil {
		j.Summary = &jsonSummary{pyFloat(s.Mean), pyFloat(s.Std), pyFloat(s.Min),
			pyFloat(s.Max), pyFloat(s.P50), pyFloat(s.P95)}
	}
	if s := r.Sampled; s != nil {
		j.Sampled = &jsonSampled{Rows: s.Rows, Of: s.Of, Every: s.Every}
	}
	return marshalRaw(j)
}

// marshalRaw is json.Marshal without HTML escaping ("<" stays "<", as in
// Python's json.dumps).
func marshalRaw(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// WriteJSON writes the report as indented JSON (see MarshalJSON) and a
// final newline.
func (r *Report) WriteJSON(w io.Writer) error {
	raw, err := r.MarshalJSON()
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err = w.Write(b.Bytes())
	return err
}

type jsonSummaryReport struct {
	Kind      Kind          `json:"kind"`
	Class     Class         `json:"class"`
	Headline  string        `json:"headline"`
	Records   int           `json:"records"`
	Verdict   string        `json:"verdict"`
	Window    int           `json:"window"`
	Summary   *jsonSummary  `json:"summary"`
	Detectors jsonDetectors `json:"detectors"`
	Diagnosis string        `json:"diagnosis"`
	Sampled   *jsonSampled  `json:"sampled,omitempty"`
}

// WriteSummaryJSON writes what `reportgen summary --format json` prints:
// {records, verdict, window, summary {mean, std, min, max, p50, p95} (null
// for an empty run), detectors {name: {status, message, severity}},
// diagnosis[, sampled {rows, of, every} when a long stream's batch
// detectors judged a sample]}, indented, with a final newline.
func (r *Report) WriteSummaryJSON(w io.Writer) error {
	j := jsonSummaryReport{Kind: r.Kind, Class: r.Class, Headline: r.Headline, Records: r.Records, Verdict: r.Verdict, Window: r.Window,
		Detectors: jsonDetectors(r.Detectors), Diagnosis: r.Diagnosis}
	if s := r.Summary; s != nil {
		j.Summary = &jsonSummary{pyFloat(s.Mean), pyFloat(s.Std), pyFloat(s.Min),
			pyFloat(s.Max), pyFloat(s.P50), pyFloat(s.P95)}
	}
	if s := r.Sampled; s != nil {
		j.Sampled = &jsonSampled{Rows: s.Rows, Of: s.Of, Every: s.Every}
	}
	raw, err := marshalRaw(j)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err = w.Write(b.Bytes())
	return err
}
