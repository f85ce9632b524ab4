// Package detect raises trend signals from the log: weekly counts per
// category and per category×specialty checked against c-chart limits and
// run rules, and category×specialty disproportionality (PRR, ROR) per
// 13-week window. It is a projection, so replaying the log raises the
// same signals; each is raised once.
package detect

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/trends"
	"github.com/safesignal/safesignal/projections/trends/stats"
)

// Name is the projection's name.
const Name = "trend_signals"

// RuleDisproportionality names a PRR/ROR signal.
const RuleDisproportionality stats.Rule = "disproportionality"

// Options tune detection; the zero value takes the defaults.
type Options struct {
	// BaselineWeeks is how many weeks before the tested points make the
	// control limits (default 13).
	BaselineWeeks int
	// MinBaselineMean skips control charts of series averaging fewer
	// signals a week than this in the baseline (default 1): a c-chart of
	// a nearly empty series alarms on every single signal.
	MinBaselineMean float64
	// WindowWeeks is the length of the disproportionality windows
	// (default 13, about a quarter).
	WindowWeeks int
	// Criteria of a disproportionality signal (default Evans 2001).
	Criteria stats.Criteria
	// FalseDiscoveryRate is the expected share of false alarms among the
	// signals raised in one evaluation (default 0.05): rule hits of one
	// week across every series, or disproportionalities of one window
	// across every cell, are kept only if their p-values pass the
	// Benjamini-Hochberg procedure at this rate. Negative: every rule hit
	// is raised, as the rules alone say.
	FalseDiscoveryRate float64
}

func (o Options) withDefaults() Options {
	if o.BaselineWeeks <= 0 {
		o.BaselineWeeks = 13
	}
	if o.MinBaselineMean <= 0 {
		o.MinBaselineMean = 1
	}
	if o.WindowWeeks <= 0 {
		o.WindowWeeks = 13
	}
	if o.Criteria == (stats.Criteria{}) {
		o.Criteria = stats.Evans()
	}
	if o.FalseDiscoveryRate == 0 {
		o.FalseDiscoveryRate = 0.05
	}
	return o
}

// Series is what a signal is about: a category, or a category within a
// specialty.
type Series struct {
	Category  domain.Category  `json:"category"`
	Specialty domain.Specialty `json:"specialty,omitempty"`
}

func (s Series) String() string {
	if s.Specialty == "" {
		return string(s.Category)
	}
	return string(s.Category) + "×" + string(s.Specialty)
}

// Signal is one detected trend signal.
type Signal struct {
	// Key is rule, series and window: the signal's identity.
	Key    string          `json:"key"`
	Rule   stats.Rule      `json:"rule"`
	Series Series          `json:"series"`
	Dir    stats.Direction `json:"direction,omitempty"`
	// From and To are the first and last day of the weeks the rule looked
	// at (the run, or the window).
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Points are the weekly counts of the run (control-chart rules).
	Points []int `json:"points,omitempty"`
	// Limits are the control limits from the baseline.
	Limits *stats.Limits `json:"limits,omitempty"`
	// Table and Measures are the 2×2 table and its measures
	// (disproportionality).
	Table    *stats.Table    `json:"table,omitempty"`
	Measures *stats.Measures `json:"measures,omitempty"`
	// PValue is the chance of a hit at least this strong when nothing
	// changed: the run against its baseline (control-chart rules) or the
	// χ² of the table (disproportionality). Tested tells how many series
	// or cells were checked with it; the signal passed the false
	// discovery rate among them.
	PValue float64 `json:"pValue"`
	Tested int     `json:"tested"`
	// DetectedAt is the recorded time of the event that completed the
	// week; Sequence its place in the log.
	DetectedAt time.Time `json:"detectedAt"`
	Sequence   uint64    `json:"sequence"`
}

// Store is the detector's read side.
type Store interface {
	projections.Projection
	// Signals returns the signals raised, newest first.
	Signals(ctx context.Context) ([]Signal, error)
}

// Detector is the projection, in memory.
type Detector struct {
	mu      sync.RWMutex
	opts    Options
	tracker *trends.Tracker
	// weekly counts per series, by the Monday of the reporting week.
	weekly map[Series]map[trends.Day]int
	// first is the first week seen; clock the week of the latest event.
	first, clock trends.Day
	// episodes: the last week a rule held for a series, and the key it
	// was raised under; a rule holding week after week is one signal.
	episodes   map[string]episode
	signals    map[string]Signal
	checkpoint uint64
}

type episode struct {
	last trends.Day
	key  string
}

// New returns an empty detector.
func New(o Options) *Detector {
	return &Detector{
		opts: o.withDefaults(), tracker: trends.NewTracker(),
		weekly: map[Series]map[trends.Day]int{}, episodes: map[string]episode{}, signals: map[string]Signal{},
	}
}

var _ Store = (*Detector)(nil)

// Name implements projections.Projection.
func (d *Detector) Name() string { return Name }

// Checkpoint implements projections.Projection.
func (d *Detector) Checkpoint(context.Context) (uint64, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.checkpoint, nil
}

// Signals implements Store.
func (d *Detector) Signals(context.Context) ([]Signal, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := slices.Collect(maps.Values(d.signals))
	slices.SortFunc(out, func(a, b Signal) int {
		return cmp.Or(cmp.Compare(b.Sequence, a.Sequence), cmp.Compare(a.Key, b.Key))
	})
	return out, nil
}

// Apply implements projections.Projection. A week is evaluated when the
// first event recorded in a later week arrives, before that event is
// folded, so the result does not depend on how the log is batched.
func (d *Detector) Apply(_ context.Context, batch []projections.Event, through uint64) error {
	for _, e := range batch {
		if e.Envelope.AggregateType != projections.AggregateSignal {
			continue
		}
		if _, err := uuid.Parse(e.Envelope.AggregateID); err != nil {
			return fmt.Errorf("detect: sequence %d: aggregate id: %w", e.Sequence, err)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range batch {
		if e.Envelope.AggregateType != projections.AggregateSignal {
			continue
		}
		at := e.Envelope.RecordedAt
		if at.IsZero() {
			at = e.Envelope.OccurredAt
		}
		week := trends.PeriodStart(trends.PeriodWeek, trends.DayOf(at))
		switch {
		case d.clock == 0:
			d.first, d.clock = week, week
		case week > d.clock:
			for w := d.clock; w < week; w += 7 {
				d.evaluate(w, at, e.Sequence)
			}
			d.clock = week
		}
		changes, err := d.tracker.Apply(e)
		if err != nil {
			return err
		}
		for _, c := range changes {
			w := trends.PeriodStart(trends.PeriodWeek, c.Fact.Reported)
			d.add(Series{Category: c.Fact.Category}, w, c.Delta)
			d.add(Series{Category: c.Fact.Category, Specialty: c.Fact.Specialty}, w, c.Delta)
		}
	}
	d.checkpoint = through
	return nil
}

func (d *Detector) add(s Series, week trends.Day, delta int) {
	m := d.weekly[s]
	if m == nil {
		m = map[trends.Day]int{}
		d.weekly[s] = m
	}
	m[week] += delta
	if m[week] == 0 {
		delete(m, week)
	}
}

// evaluate checks the complete week w.
func (d *Detector) evaluate(w trends.Day, at time.Time, seq uint64) {
	d.control(w, at, seq)
	// Windows of WindowWeeks weeks counted from the first week seen; one
	// is checked when its last week is complete.
	span := trends.Day(7 * d.opts.WindowWeeks)
	if (w-d.first+7)%span == 0 {
		d.disproportion(w+7-span, w, at, seq)
	}
}

// control applies the run rules to the last ShiftRun weeks up to w of
// every series, against c-chart limits from the BaselineWeeks before them.
func (d *Detector) control(w trends.Day, at time.Time, seq uint64) {
	n := stats.ShiftRun
	start := w - trends.Day(7*(n-1))
	base := start - trends.Day(7*d.opts.BaselineWeeks)
	if base < d.first {
		return
	}
	var hits []Signal
	tested := 0
	for _, s := range d.sortedSeries() {
		counts := d.weekly[s]
		baseline := make([]float64, d.opts.BaselineWeeks)
		baseSum := 0
		for i := range baseline {
			c := counts[base+trends.Day(7*i)]
			baseline[i] = float64(c)
			baseSum += c
		}
		lim, ok := stats.CLimits(baseline)
		if !ok || lim.Centre < d.opts.MinBaselineMean {
			continue
		}
		tested++
		points := make([]float64, n)
		ints := make([]int, n)
		for i := range points {
			ints[i] = counts[start+trends.Day(7*i)]
			points[i] = float64(ints[i])
		}
		for _, v := range stats.Check(points, lim) {
			// Only rises are raised, and only rules the newest week
			// completes; falls are good news for the inbox.
			if v.End != n-1 || v.Direction != stats.Up {
				continue
			}
			run := 0
			for _, c := range ints[v.Start:] {
				run += c
			}
			from := start + trends.Day(7*v.Start)
			hits = append(hits, Signal{
				Rule: v.Rule, Series: s, Dir: v.Direction,
				From: from.Time(), To: (w + 6).Time(), Points: ints[v.Start:], Limits: &lim,
				PValue:     stats.RateRatioPValue(run, n-v.Start, baseSum, d.opts.BaselineWeeks),
				DetectedAt: at, Sequence: seq,
			})
		}
	}
	d.raiseDiscoveries(hits, tested, w)
}

// raiseDiscoveries raises the hits whose p-values pass the false
// discovery rate among tested hypotheses (one per series or cell: a
// series with hits of several rules counts once, with its smallest
// p-value). Hits of series that stay below the rate are dropped; a series
// crossing it later raises then.
func (d *Detector) raiseDiscoveries(hits []Signal, tested int, week trends.Day) {
	if d.opts.FalseDiscoveryRate < 0 {
		for _, h := range hits {
			h.Tested = tested
			d.raise(h, week)
		}
		return
	}
	best := map[Series]float64{}
	for _, h := range hits {
		if p, ok := best[h.Series]; !ok || h.PValue < p {
			best[h.Series] = h.PValue
		}
	}
	series := slices.SortedFunc(maps.Keys(best), compareSeries)
	ps := make([]float64, len(series))
	for i, s := range series {
		ps[i] = best[s]
	}
	keep := stats.BenjaminiHochberg(ps, tested, d.opts.FalseDiscoveryRate)
	threshold := -1.0
	for i, k := range keep {
		if k {
			threshold = max(threshold, ps[i])
		}
	}
	for _, h := range hits {
		if h.PValue <= threshold {
			h.Tested = tested
			d.raise(h, week)
		}
	}
}

// disproportion checks every category×specialty in the window from..to
// (Mondays of its first and last week).
func (d *Detector) disproportion(from, to trends.Day, at time.Time, seq uint64) {
	sum := func(s Series) int {
		n := 0
		for w, c := range d.weekly[s] {
			if w >= from && w <= to {
				n += c
			}
		}
		return n
	}
	bySpecialty := map[domain.Specialty]int{}
	byCategory := map[domain.Category]int{}
	cells := map[Series]int{}
	total := 0
	for _, s := range d.sortedSeries() {
		if s.Specialty == "" {
			continue
		}
		n := sum(s)
		if n == 0 {
			continue
		}
		cells[s] = n
		bySpecialty[s.Specialty] += n
		byCategory[s.Category] += n
		total += n
	}
	var hits []Signal
	for _, s := range slices.SortedFunc(maps.Keys(cells), compareSeries) {
		a := cells[s]
		b := bySpecialty[s.Specialty] - a
		c := byCategory[s.Category] - a
		t := stats.Table{A: a, B: b, C: c, D: total - a - b - c}
		m := stats.Disproportionality(t)
		if !d.opts.Criteria.Signal(m) {
			continue
		}
		hits = append(hits, Signal{
			Rule: RuleDisproportionality, Series: s, Dir: stats.Up,
			From: from.Time(), To: (to + 6).Time(), Table: &t, Measures: &m,
			PValue:     stats.ChiSquarePValue(m.ChiSquare),
			DetectedAt: at, Sequence: seq,
		})
	}
	d.raiseDiscoveries(hits, len(cells), to)
}

// raise records a signal unless the same rule held for the same series
// the week before (one episode, one signal) or it was raised already.
func (d *Detector) raise(s Signal, week trends.Day) {
	ep := string(s.Rule) + "|" + s.Series.String()
	step := trends.Day(7)
	if s.Rule == RuleDisproportionality {
		step = trends.Day(7 * d.opts.WindowWeeks)
	}
	if prev, ok := d.episodes[ep]; ok && prev.last == week-step {
		d.episodes[ep] = episode{last: week, key: prev.key}
		return
	}
	s.Key = ep + "|" + s.From.Format(time.DateOnly)
	d.episodes[ep] = episode{last: week, key: s.Key}
	if _, ok := d.signals[s.Key]; !ok {
		d.signals[s.Key] = s
	}
}

func (d *Detector) sortedSeries() []Series {
	return slices.SortedFunc(maps.Keys(d.weekly), compareSeries)
}

func compareSeries(a, b Series) int {
	return cmp.Or(cmp.Compare(a.Category, b.Category), cmp.Compare(a.Specialty, b.Specialty))
}
