package trends_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections/trends"
	"github.com/safesignal/safesignal/projections/trends/synth"
)

const k = trends.DefaultK

// smallCube is a data set with many small cells: 600 signals over 4
// regions, 3 organisations each, 32 specialties, 13 categories, 4 kinds
// and 12 weeks, a tenth rejected, some duplicates and reclassifications.
func smallCube(t *testing.T) *trends.Memory {
	t.Helper()
	l := synth.New()
	if err := l.Random(synth.Options{Seed: 42, Signals: 600, RejectShare: 0.1, DuplicateShare: 0.05, ReclassifyShare: 0.2}); err != nil {
		t.Fatal(err)
	}
	m := trends.NewMemory()
	if err := m.Apply(context.Background(), l.Events(), l.Last()); err != nil {
		t.Fatal(err)
	}
	return m
}

// queries is a spread of queries: every grouping of up to two
// dimensions, with and without filters and dates.
func queries() []trends.Query {
	dims := trends.Dimensions()
	var groupings [][]trends.Dimension
	groupings = append(groupings, nil)
	for i, a := range dims {
		groupings = append(groupings, []trends.Dimension{a})
		for _, b := range dims[i+1:] {
			groupings = append(groupings, []trends.Dimension{a, b})
		}
	}
	filters := []map[trends.Dimension][]string{
		nil,
		{trends.DimCategory: {"medication"}},
		{trends.DimCategory: {"medication", "blood"}},
		{trends.DimRegion: {"NL-UT"}},
		{trends.DimRegion: {"NL-UT"}, trends.DimKind: {"near_miss"}},
		{trends.DimKind: {"near_miss", "harmful_incident"}},
		{trends.DimOrganisation: {"org-NL-UT-0"}},
		{trends.DimSpecialty: {"surgery"}},
		{trends.DimHarm: {"none"}},
	}
	from := trends.DayOf(time.Date(2026, 1, 19, 0, 0, 0, 0, time.UTC))
	to := trends.DayOf(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	var out []trends.Query
	for _, g := range groupings {
		for _, f := range filters {
			for _, period := range []trends.Period{trends.PeriodWeek, trends.PeriodMonth} {
				out = append(out,
					trends.Query{GroupBy: g, Filter: f, Basis: trends.BasisOccurred, Period: period},
					trends.Query{GroupBy: g, Filter: f, Basis: trends.BasisReported, Period: period, From: from, To: to},
				)
			}
		}
	}
	return out
}

func TestProtectNeverShowsSmallCounts(t *testing.T) {
	t.Parallel()
	m := smallCube(t)
	ctx := context.Background()
	var answered, refused, suppressed int
	for _, q := range queries() {
		p, err := trends.Protect(ctx, m, q, k)
		var re *trends.RefusedError
		if errors.As(err, &re) {
			refused++
			if len(re.Params) == 0 {
				t.Fatalf("%+v: refusal names no parameter", q)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		answered++
		if !p.TotalSuppressed && p.Total > 0 && p.Total < k {
			t.Fatalf("%+v: total %d shown", q, p.Total)
		}
		lone := map[string]int{}
		for _, c := range p.Cells {
			if c.Suppressed {
				suppressed++
				if c.Count != 0 {
					t.Fatalf("%+v: suppressed cell carries %d", q, c.Count)
				}
				for i, v := range c.Key {
					lone[fmt.Sprint(i, v)]++
				}
				if len(c.Key) == 1 {
					lone["all"]++
				}
				if len(c.Key) > 0 && q.GroupBy[0] == trends.DimOrganisation || len(c.Key) > 1 && q.GroupBy[1] == trends.DimOrganisation {
					t.Fatalf("%+v: suppressed organisation cell listed", q)
				}
				continue
			}
			if c.Count > 0 && c.Count < k {
				t.Fatalf("%+v: cell %v shows %d", q, c.Key, c.Count)
			}
		}
		// Complementary suppression: no line (the whole list for one
		// dimension, a row or a column for two) with a lone suppressed
		// cell that has other cells.
		if len(q.GroupBy) == 1 && lone["all"] == 1 && len(p.Cells) > 1 {
			t.Fatalf("%+v: one suppressed cell alone in the list", q)
		}
		if len(q.GroupBy) == 2 && p.Omitted == 0 {
			for i := range 2 {
				for _, c := range p.Cells {
					if !c.Suppressed || lone[fmt.Sprint(i, c.Key[i])] != 1 {
						continue
					}
					for _, o := range p.Cells {
						if o.Key[i] == c.Key[i] && !o.Suppressed {
							t.Fatalf("%+v: cell %v is the only suppressed one of its line", q, c.Key)
						}
					}
				}
			}
		}
	}
	if answered == 0 || refused == 0 || suppressed == 0 {
		t.Fatalf("the data set does not exercise the rules: %d answered, %d refused, %d suppressed cells", answered, refused, suppressed)
	}
	t.Logf("%d answered, %d refused, %d suppressed cells", answered, refused, suppressed)
}

// TestProtectDifferencing asks pairs of queries that differ by one filter,
// one filter value or one end period and checks that no group of 1..k−1
// signals can be had by subtracting one answer from the other.
func TestProtectDifferencing(t *testing.T) {
	t.Parallel()
	m := smallCube(t)
	ctx := context.Background()
	pairs := 0
	for _, q := range queries() {
		a, errA := trends.Protect(ctx, m, q, k)
		if errA != nil {
			continue
		}
		for _, n := range widen(q) {
			b, errB := trends.Protect(ctx, m, n, k)
			if errB != nil {
				continue
			}
			pairs++
			if !a.TotalSuppressed && !b.TotalSuppressed {
				if d := b.Total - a.Total; d > 0 && d < k || -d > 0 && -d < k {
					t.Fatalf("totals %d and %d of\n%+v\n%+v", a.Total, b.Total, q, n)
				}
			}
			shown := map[string]int{}
			for _, c := range b.Cells {
				if !c.Suppressed {
					shown[fmt.Sprint(c.Key)] = c.Count
				}
			}
			for _, c := range a.Cells {
				o, ok := shown[fmt.Sprint(c.Key)]
				if c.Suppressed || !ok {
					continue
				}
				if d := o - c.Count; d > 0 && d < k || -d > 0 && -d < k {
					t.Fatalf("cell %v: %d and %d in\n%+v\n%+v", c.Key, c.Count, o, q, n)
				}
			}
		}
	}
	if pairs < 100 {
		t.Fatalf("only %d answered pairs", pairs)
	}
}

// widen returns the queries one filter, one filter value or one end
// period wider than q, as an attacker would pair them.
func widen(q trends.Query) []trends.Query {
	var out []trends.Query
	for d, vals := range q.Filter {
		n := q.Clone()
		delete(n.Filter, d)
		out = append(out, n)
		for _, v := range domainValues(d) {
			n := q.Clone()
			n.Filter[d] = append(n.Filter[d], v)
			if len(n.Filter[d]) > len(vals) && !contains(vals, v) {
				out = append(out, n)
			}
		}
	}
	// Date ranges widened by one to four weeks at either end or both.
	if q.From != 0 {
		for i := 1; i <= 4; i++ {
			n := q
			n.From -= trends.Day(7 * i)
			out = append(out, n)
			n.To += trends.Day(7 * i)
			out = append(out, n)
			n = q
			n.To += trends.Day(7 * i)
			out = append(out, n)
		}
		n := q
		n.From, n.To = 0, 0
		out = append(out, n)
	}
	return out
}

func domainValues(d trends.Dimension) []string {
	switch d {
	case trends.DimKind:
		return strs(domain.Kinds())
	case trends.DimCategory:
		return strs(domain.Categories())
	case trends.DimHarm:
		return strs(domain.Harms())
	}
	return nil
}

func strs[T ~string](v []T) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = string(x)
	}
	return out
}

func contains(v []string, s string) bool {
	for _, x := range v {
		if x == s {
			return true
		}
	}
	return false
}

func TestProtectRefusesSmallPopulations(t *testing.T) {
	t.Parallel()
	l := synth.New()
	for range 20 {
		if _, err := l.Report(synth.Filing{Category: domain.CategoryMedication}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := l.Report(synth.Filing{Category: domain.CategoryBlood}); err != nil {
			t.Fatal(err)
		}
	}
	m := trends.NewMemory()
	if err := m.Apply(context.Background(), l.Events(), l.Last()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		filter map[trends.Dimension][]string
		params []string
	}{
		// 3 blood signals: the population itself is small.
		{"small population", map[trends.Dimension][]string{trends.DimCategory: {"blood"}}, []string{"category"}},
		// 20 medication signals, but the 23 without the filter differ by 3.
		{"small complement", map[trends.Dimension][]string{trends.DimCategory: {"medication"}}, []string{"category"}},
		// medication,blood = 23; without blood 20: the value isolates 3.
		{"small value", map[trends.Dimension][]string{trends.DimCategory: {"medication", "blood"}, trends.DimRegion: {"NL-UT"}}, []string{"category"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := trends.Protect(context.Background(), m, trends.Query{Filter: tt.filter, Basis: trends.BasisOccurred, Period: trends.PeriodWeek}, k)
			var re *trends.RefusedError
			if !errors.As(err, &re) || fmt.Sprint(re.Params) != fmt.Sprint(tt.params) {
				t.Fatalf("got %v, want a refusal naming %v", err, tt.params)
			}
		})
	}
	// Unfiltered, grouped by category: blood is suppressed, and as the
	// only suppressed cell of the list, medication too (the total, 23,
	// would give it away).
	p, err := trends.Protect(context.Background(), m, trends.Query{GroupBy: []trends.Dimension{trends.DimCategory}, Basis: trends.BasisOccurred, Period: trends.PeriodWeek}, k)
	if err != nil {
		t.Fatal(err)
	}
	want := []trends.Cell{{Key: []string{"blood"}, Suppressed: true}, {Key: []string{"medication"}, Suppressed: true}}
	if fmt.Sprint(p.Cells) != fmt.Sprint(want) || p.Total != 23 {
		t.Fatalf("got %+v total %d, want %+v total 23", p.Cells, p.Total, want)
	}
}

// TestProtectDateRanges: 2 signals in ISO week 13, 20 in week 14 and 3 in
// week 16. A range starting in week 14 differs from one starting in week
// 13 (or open) by 2; a range ending in week 14 or 15 differs from one
// ending in week 16 by 3, and both together by 5 (allowed).
func TestProtectDateRanges(t *testing.T) {
	t.Parallel()
	l := synth.New()
	file := func(n int, at time.Time) {
		for range n {
			if _, err := l.Report(synth.Filing{ReportedAt: at}); err != nil {
				t.Fatal(err)
			}
		}
	}
	file(2, time.Date(2026, 3, 25, 9, 0, 0, 0, time.UTC)) // W13
	file(20, time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)) // W14
	file(3, time.Date(2026, 4, 15, 9, 0, 0, 0, time.UTC)) // W16
	m := trends.NewMemory()
	if err := m.Apply(context.Background(), l.Events(), l.Last()); err != nil {
		t.Fatal(err)
	}
	day := func(m time.Month, d int) trends.Day { return trends.DayOf(time.Date(2026, m, d, 0, 0, 0, 0, time.UTC)) }
	tests := []struct {
		name     string
		from, to trends.Day
		refused  []string
	}{
		{"open", 0, 0, nil},
		{"from week 13", day(3, 23), 0, nil},
		{"from week 14: week 13 holds 2", day(3, 30), 0, []string{"from"}},
		{"from week 14 (mid-week, widened)", day(4, 2), 0, []string{"from"}},
		{"to week 15: week 16 holds 3", 0, day(4, 12), []string{"to"}},
		{"to week 16", 0, day(4, 19), nil},
		// Weeks 13 and 16 are outside; widening at both ends adds 2, 3
		// or 5: 2 and 3 are small.
		{"weeks 14 to 15", day(3, 30), day(4, 12), []string{"from", "to"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := trends.Protect(context.Background(), m, trends.Query{From: tt.from, To: tt.to, Basis: trends.BasisReported, Period: trends.PeriodWeek}, k)
			var re *trends.RefusedError
			switch {
			case tt.refused == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.refused != nil && (!errors.As(err, &re) || fmt.Sprint(re.Params) != fmt.Sprint(tt.refused)):
				t.Fatalf("got %v, want a refusal naming %v", err, tt.refused)
			}
		})
	}
	// Grouped by category (one cell), a range from week 14 on is refused
	// as a whole; grouped by period, it would be too (the total is the
	// same) — cells of a period grouping are whole periods and need no
	// edge check of their own.
	_, err := trends.Protect(context.Background(), m, trends.Query{From: day(3, 30), GroupBy: []trends.Dimension{trends.DimPeriod}, Basis: trends.BasisReported, Period: trends.PeriodWeek}, k)
	if err == nil {
		t.Fatal("a range one small week short of the data was answered")
	}
}
