// Package trends is the read model of the national trend views: a cube of
// signal counts by period, kind, category, harm, specialty, region and
// organisation, folded from the log with the latest classification of
// every signal. It holds no signal id, reporter or free text in its
// answers; disclosure control (disclosure.go) sits on top of Query.
package trends

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections"
)

// Name is the projection's name.
const Name = "trends"

// Dimension is an axis of the cube.
type Dimension string

// Dimensions.
const (
	DimPeriod       Dimension = "period"
	DimKind         Dimension = "kind"
	DimCategory     Dimension = "category"
	DimHarm         Dimension = "harm"
	DimSpecialty    Dimension = "specialty"
	DimRegion       Dimension = "region"
	DimOrganisation Dimension = "organisation"
)

// Dimensions lists every dimension; FilterDimensions those a query may
// filter on (the period is filtered by From and To).
func Dimensions() []Dimension {
	return []Dimension{DimPeriod, DimKind, DimCategory, DimHarm, DimSpecialty, DimRegion, DimOrganisation}
}

// FilterDimensions lists the dimensions a query may filter on.
func FilterDimensions() []Dimension {
	return []Dimension{DimKind, DimCategory, DimHarm, DimSpecialty, DimRegion, DimOrganisation}
}

// Basis is the date a signal is counted at.
type Basis string

// Bases.
const (
	// BasisOccurred counts a signal in the period its incident occurred.
	BasisOccurred Basis = "occurred"
	// BasisReported counts it in the period it was reported.
	BasisReported Basis = "reported"
)

// Period is the length of a period.
type Period string

// Periods.
const (
	PeriodWeek  Period = "week"  // ISO 8601 week, labelled 2026-W14
	PeriodMonth Period = "month" // calendar month, labelled 2026-04
)

// Fact is what the cube knows of one counted signal: its cell. Dates are
// UTC calendar days.
type Fact struct {
	Kind         domain.Kind
	Category     domain.Category
	Harm         domain.Harm
	Specialty    domain.Specialty
	Region       string
	Organisation string
	Occurred     Day
	Reported     Day
}

// Day is a UTC calendar date as days since 1970-01-01.
type Day int32

// DayOf returns the UTC calendar day of t.
func DayOf(t time.Time) Day {
	y, m, d := t.UTC().Date()
	return Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Time returns midnight UTC of the day.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// Value returns the fact's value on a dimension other than the period.
func (f Fact) Value(d Dimension) string {
	switch d {
	case DimKind:
		return string(f.Kind)
	case DimCategory:
		return string(f.Category)
	case DimHarm:
		return string(f.Harm)
	case DimSpecialty:
		return string(f.Specialty)
	case DimRegion:
		return f.Region
	case DimOrganisation:
		return f.Organisation
	}
	return ""
}

// Day returns the day the fact is counted at on a basis.
func (f Fact) Day(b Basis) Day {
	if b == BasisReported {
		return f.Reported
	}
	return f.Occurred
}

// PeriodStart returns the first day of the period holding day.
func PeriodStart(p Period, day Day) Day {
	t := day.Time()
	if p == PeriodMonth {
		return DayOf(time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC))
	}
	wd := (int(t.Weekday()) + 6) % 7 // Monday 0
	return day - Day(wd)
}

// PeriodEnd returns the last day of the period holding day.
func PeriodEnd(p Period, day Day) Day {
	if p == PeriodMonth {
		t := PeriodStart(p, day).Time()
		return DayOf(t.AddDate(0, 1, -1))
	}
	return PeriodStart(p, day) + 6
}

// PeriodLabel names the period holding day: 2026-W14 or 2026-04.
func PeriodLabel(p Period, day Day) string {
	t := day.Time()
	if p == PeriodMonth {
		return t.Format("2006-01")
	}
	y, w := t.ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// Query selects and groups cells. Values within a dimension are OR-ed,
// dimensions AND-ed.
type Query struct {
	Filter map[Dimension][]string
	// From and To bound the basis date, both inclusive; zero is open.
	From, To Day
	Basis    Basis
	Period   Period
	// GroupBy is zero, one or two dimensions.
	GroupBy []Dimension
	// AsOf, when not zero, answers as the statistics stood at the end of
	// that day: only events recorded up to then are counted.
	AsOf Day
}

// Clone returns a deep copy of the query.
func (q Query) Clone() Query {
	c := q
	c.Filter = make(map[Dimension][]string, len(q.Filter))
	for d, v := range q.Filter {
		c.Filter[d] = slices.Clone(v)
	}
	c.GroupBy = slices.Clone(q.GroupBy)
	return c
}

// Matches reports whether a fact falls within the query's filters and
// dates.
func (q Query) Matches(f Fact) bool {
	day := f.Day(q.Basis)
	if (q.From != 0 && day < q.From) || (q.To != 0 && day > q.To) {
		return false
	}
	for d, vals := range q.Filter {
		if len(vals) > 0 && !slices.Contains(vals, f.Value(d)) {
			return false
		}
	}
	return true
}

// Key returns the fact's group key under the query's grouping.
func (q Query) Key(f Fact) []string {
	key := make([]string, len(q.GroupBy))
	for i, d := range q.GroupBy {
		if d == DimPeriod {
			key[i] = PeriodLabel(q.Period, f.Day(q.Basis))
		} else {
			key[i] = f.Value(d)
		}
	}
	return key
}

// Row is one group and its count.
type Row struct {
	Key   []string
	Count int
}

// Result is a query's answer: the non-empty groups ordered by key, and
// the total over them.
type Result struct {
	Rows  []Row
	Total int
}

// Aggregate groups counted facts by the query.
func Aggregate(q Query, counts map[Fact]int) Result {
	groups := map[string]*Row{}
	var res Result
	for f, n := range counts {
		if n <= 0 || !q.Matches(f) {
			continue
		}
		key := q.Key(f)
		id := strings.Join(key, "\x00")
		r, ok := groups[id]
		if !ok {
			r = &Row{Key: key}
			groups[id] = r
		}
		r.Count += n
		res.Total += n
	}
	res.Rows = make([]Row, 0, len(groups))
	for _, r := range groups {
		res.Rows = append(res.Rows, *r)
	}
	slices.SortFunc(res.Rows, func(a, b Row) int { return slices.Compare(a.Key, b.Key) })
	return res
}

// Store holds the cube. A PostgreSQL store implements it too; the contract
// suite in trendstest keeps them alike.
type Store interface {
	projections.Projection
	// Query answers raw counts: no disclosure control (see Protect).
	Query(ctx context.Context, q Query) (Result, error)
}

// Change is one move of a signal in the cube: Delta +1 into a cell, −1
// out of it, at the time the event was recorded.
type Change struct {
	At    time.Time
	Fact  Fact
	Delta int
}

// Tracker follows each signal's current cell through its events, with the
// domain's own Evolve, keeping no free text.
type Tracker struct {
	signals map[uuid.UUID]domain.Signal
}

// NewTracker returns an empty tracker.
func NewTracker() *Tracker { return &Tracker{signals: map[uuid.UUID]domain.Signal{}} }

// Counted reports whether a signal in this state is counted: reported and
// neither rejected nor a duplicate (closed signals count).
func Counted(s domain.Signal) bool {
	return s.Exists() && s.Status != domain.StatusRejected && s.Status != domain.StatusDuplicate
}

// FactOf returns the cell of a signal.
func FactOf(s domain.Signal) Fact {
	return Fact{
		Kind: s.Kind, Category: s.Category, Harm: s.Harm, Specialty: s.Specialty,
		Region: s.Region, Organisation: s.Organisation,
		Occurred: DayOf(s.OccurredAt), Reported: DayOf(s.ReportedAt),
	}
}

// slim keeps what the cube needs of a state and what Evolve reads to move
// the status (reopen goes back to acknowledged or reported).
func slim(s domain.Signal) domain.Signal {
	return domain.Signal{
		ID: s.ID, Version: s.Version, Status: s.Status, Organisation: s.Organisation, Region: s.Region,
		Specialty: s.Specialty, OccurredAt: s.OccurredAt, Kind: s.Kind, Category: s.Category, Harm: s.Harm,
		ReportedAt: s.ReportedAt, AcknowledgedAt: s.AcknowledgedAt,
	}
}

// Apply folds one event and returns the changes it makes to the cube (none,
// one in or out, or one out and one in for a reclassification).
func (t *Tracker) Apply(e projections.Event) ([]Change, error) {
	if e.Envelope.AggregateType != projections.AggregateSignal {
		return nil, nil
	}
	id, err := uuid.Parse(e.Envelope.AggregateID)
	if err != nil {
		return nil, fmt.Errorf("trends: event %s at sequence %d: aggregate id: %w", e.Envelope.Type, e.Sequence, err)
	}
	at := e.Envelope.RecordedAt
	if at.IsZero() {
		at = e.Envelope.OccurredAt
	}
	old := t.signals[id]
	s := slim(domain.Evolve(old, e.Data))
	t.signals[id] = s
	oldIn, newIn := Counted(old), Counted(s)
	of, nf := FactOf(old), FactOf(s)
	var out []Change
	if oldIn && (!newIn || of != nf) {
		out = append(out, Change{At: at, Fact: of, Delta: -1})
	}
	if newIn && (!oldIn || of != nf) {
		out = append(out, Change{At: at, Fact: nf, Delta: +1})
	}
	return out, nil
}

// Seed sets the state the tracker holds for a signal, for a store that
// keeps the states elsewhere and loads those a batch touches.
func (t *Tracker) Seed(id uuid.UUID, s domain.Signal) { t.signals[id] = slim(s) }

// State returns the state the tracker holds for a signal.
func (t *Tracker) State(id uuid.UUID) (domain.Signal, bool) {
	s, ok := t.signals[id]
	return s, ok
}
