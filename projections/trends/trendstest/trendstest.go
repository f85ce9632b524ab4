// Package trendstest is the contract suite every trends.Store runs: the
// memory store today, a PostgreSQL store when it lands.
package trendstest

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/trends"
	"github.com/safesignal/safesignal/projections/trends/synth"
)

// Run runs the suite; newStore returns an empty store.
func Run(t *testing.T, newStore func(t *testing.T) trends.Store) {
	t.Run("counts by dimension and period", func(t *testing.T) { t.Parallel(); testCounts(t, newStore(t)) })
	t.Run("latest classification", func(t *testing.T) { t.Parallel(); testReclassify(t, newStore(t)) })
	t.Run("rejection, duplicate and reopen", func(t *testing.T) { t.Parallel(); testLifecycle(t, newStore(t)) })
	t.Run("basis and date range", func(t *testing.T) { t.Parallel(); testBasis(t, newStore(t)) })
	t.Run("ISO week across a year end", func(t *testing.T) { t.Parallel(); testYearEnd(t, newStore(t)) })
	t.Run("as of", func(t *testing.T) { t.Parallel(); testAsOf(t, newStore(t)) })
	t.Run("batches and checkpoint", func(t *testing.T) { t.Parallel(); testBatches(t, newStore) })
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 0, 0, 0, time.UTC) }

func file(t *testing.T, l *synth.Log, f synth.Filing) uuid.UUID {
	t.Helper()
	id, err := l.Report(f)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func apply(t *testing.T, s trends.Store, l *synth.Log) {
	t.Helper()
	ok(t, s.Apply(context.Background(), l.Events(), l.Last()))
}

func query(t *testing.T, s trends.Store, q trends.Query) trends.Result {
	t.Helper()
	if q.Basis == "" {
		q.Basis = trends.BasisOccurred
	}
	if q.Period == "" {
		q.Period = trends.PeriodWeek
	}
	res, err := s.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func rows(pairs ...any) []trends.Row {
	var out []trends.Row
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, trends.Row{Key: pairs[i].([]string), Count: pairs[i+1].(int)})
	}
	return out
}

func k(v ...string) []string { return v }

func expect(t *testing.T, got trends.Result, total int, want []trends.Row) {
	t.Helper()
	if got.Total != total || !sameRows(got.Rows, want) {
		t.Fatalf("got total %d rows %v, want total %d rows %v", got.Total, got.Rows, total, want)
	}
}

// sameRows compares rows, an empty key or list the same as a nil one.
func sameRows(a, b []trends.Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Count != b[i].Count || !slices.Equal(a[i].Key, b[i].Key) {
			return false
		}
	}
	return true
}

func testCounts(t *testing.T, s trends.Store) {
	l := synth.New()
	// 2026-03-30 is the Monday of ISO week 14; 2026-04-06 of week 15.
	for range 3 {
		file(t, l, synth.Filing{Category: domain.CategoryMedication, ReportedAt: day(2026, 3, 31)})
	}
	file(t, l, synth.Filing{Category: domain.CategoryBlood, Specialty: "surgery", ReportedAt: day(2026, 4, 7)})
	file(t, l, synth.Filing{Category: domain.CategoryMedication, Region: "NO-46", Organisation: "haukeland", ReportedAt: day(2026, 4, 8),
		Kind: domain.KindHarmfulIncident, Harm: domain.HarmSevere})
	apply(t, s, l)

	expect(t, query(t, s, trends.Query{}), 5, rows(k(), 5))
	expect(t, query(t, s, trends.Query{GroupBy: []trends.Dimension{trends.DimCategory}}), 5,
		rows(k("blood"), 1, k("medication"), 4))
	expect(t, query(t, s, trends.Query{GroupBy: []trends.Dimension{trends.DimCategory, trends.DimPeriod}}), 5,
		rows(k("blood", "2026-W15"), 1, k("medication", "2026-W14"), 3, k("medication", "2026-W15"), 1))
	expect(t, query(t, s, trends.Query{GroupBy: []trends.Dimension{trends.DimPeriod}, Period: trends.PeriodMonth}), 5,
		rows(k("2026-03"), 3, k("2026-04"), 2))
	expect(t, query(t, s, trends.Query{GroupBy: []trends.Dimension{trends.DimRegion, trends.DimHarm}}), 5,
		rows(k("NL-UT", "none"), 4, k("NO-46", "severe"), 1))
	expect(t, query(t, s, trends.Query{Filter: map[trends.Dimension][]string{trends.DimCategory: {"medication"}, trends.DimRegion: {"NL-UT", "SE-AB"}},
		GroupBy: []trends.Dimension{trends.DimSpecialty}}), 3, rows(k("anaesthesiology"), 3))
	expect(t, query(t, s, trends.Query{Filter: map[trends.Dimension][]string{trends.DimOrganisation: {"haukeland"}},
		GroupBy: []trends.Dimension{trends.DimKind}}), 1, rows(k("harmful_incident"), 1))
}

func testReclassify(t *testing.T, s trends.Store) {
	l := synth.New()
	a := file(t, l, synth.Filing{Category: domain.CategoryMedication})
	file(t, l, synth.Filing{Category: domain.CategoryMedication})
	ok(t, l.Classify(a, domain.KindHarmfulIncident, domain.CategoryMedicalDevice, domain.HarmMild, day(2026, 4, 2)))
	// Confirming a classification unchanged moves nothing.
	ok(t, l.Classify(a, domain.KindHarmfulIncident, domain.CategoryMedicalDevice, domain.HarmMild, day(2026, 4, 3)))
	apply(t, s, l)
	expect(t, query(t, s, trends.Query{GroupBy: []trends.Dimension{trends.DimCategory, trends.DimHarm}}), 2,
		rows(k("medical_device", "mild"), 1, k("medication", "none"), 1))
}

func testLifecycle(t *testing.T, s trends.Store) {
	l := synth.New()
	var ids []uuid.UUID
	for range 4 {
		ids = append(ids, file(t, l, synth.Filing{}))
	}
	ok(t, l.Reject(ids[0], day(2026, 4, 2)))
	ok(t, l.Duplicate(ids[1], ids[3], day(2026, 4, 2)))
	ok(t, l.Duplicate(ids[2], ids[3], day(2026, 4, 2)))
	ok(t, l.Reopen(ids[2], day(2026, 4, 3)))
	// Closed signals still count.
	closed := file(t, l, synth.Filing{})
	ok(t, l.Close(closed, day(2026, 4, 3)))
	apply(t, s, l)
	// 5 filed, one rejected, one still a duplicate: 3 counted.
	expect(t, query(t, s, trends.Query{}), 3, rows(k(), 3))
}

func testBasis(t *testing.T, s trends.Store) {
	l := synth.New()
	// Occurred on Sunday 2026-03-29 (week 13, March), reported Wednesday
	// 2026-04-01 (week 14, April).
	file(t, l, synth.Filing{OccurredAt: day(2026, 3, 29), ReportedAt: day(2026, 4, 1)})
	apply(t, s, l)
	expect(t, query(t, s, trends.Query{GroupBy: []trends.Dimension{trends.DimPeriod}}), 1, rows(k("2026-W13"), 1))
	expect(t, query(t, s, trends.Query{GroupBy: []trends.Dimension{trends.DimPeriod}, Basis: trends.BasisReported}), 1, rows(k("2026-W14"), 1))
	expect(t, query(t, s, trends.Query{GroupBy: []trends.Dimension{trends.DimPeriod}, Period: trends.PeriodMonth}), 1, rows(k("2026-03"), 1))
	from := trends.DayOf(day(2026, 3, 30))
	expect(t, query(t, s, trends.Query{From: from}), 0, rows())
	expect(t, query(t, s, trends.Query{From: from, Basis: trends.BasisReported}), 1, rows(k(), 1))
	expect(t, query(t, s, trends.Query{To: trends.DayOf(day(2026, 3, 29))}), 1, rows(k(), 1))
}

func testYearEnd(t *testing.T, s trends.Store) {
	// 2027-01-01 is a Friday of ISO week 2026-W53.
	l := synth.New()
	file(t, l, synth.Filing{OccurredAt: day(2027, 1, 1), ReportedAt: day(2027, 1, 1).Add(time.Hour)})
	apply(t, s, l)
	expect(t, query(t, s, trends.Query{GroupBy: []trends.Dimension{trends.DimPeriod}, From: trends.DayOf(day(2027, 1, 1))}), 1, rows(k("2026-W53"), 1))
}

func testAsOf(t *testing.T, s trends.Store) {
	l := synth.New()
	a := file(t, l, synth.Filing{Category: domain.CategoryMedication, ReportedAt: day(2026, 4, 1)})
	file(t, l, synth.Filing{Category: domain.CategoryMedication, ReportedAt: day(2026, 4, 3)})
	ok(t, l.Classify(a, domain.KindNearMiss, domain.CategoryBlood, domain.HarmNone, day(2026, 4, 5)))
	apply(t, s, l)
	by := []trends.Dimension{trends.DimCategory}
	expect(t, query(t, s, trends.Query{GroupBy: by, AsOf: trends.DayOf(day(2026, 3, 31))}), 0, rows())
	expect(t, query(t, s, trends.Query{GroupBy: by, AsOf: trends.DayOf(day(2026, 4, 1))}), 1, rows(k("medication"), 1))
	expect(t, query(t, s, trends.Query{GroupBy: by, AsOf: trends.DayOf(day(2026, 4, 4))}), 2, rows(k("medication"), 2))
	expect(t, query(t, s, trends.Query{GroupBy: by, AsOf: trends.DayOf(day(2026, 4, 5))}), 2, rows(k("blood"), 1, k("medication"), 1))
	expect(t, query(t, s, trends.Query{GroupBy: by}), 2, rows(k("blood"), 1, k("medication"), 1))
}

func testBatches(t *testing.T, newStore func(t *testing.T) trends.Store) {
	l := synth.New()
	ok(t, l.Random(synth.Options{Seed: 7, Signals: 300, RejectShare: 0.1, DuplicateShare: 0.05, ReclassifyShare: 0.2}))
	whole := newStore(t)
	apply(t, whole, l)
	split := newStore(t)
	ctx := context.Background()
	events := l.Events()
	for i := 0; i < len(events); i += 37 {
		batch := events[i:min(i+37, len(events))]
		ok(t, split.Apply(ctx, batch, batch[len(batch)-1].Sequence))
	}
	if cp, err := split.Checkpoint(ctx); err != nil || cp != l.Last() {
		t.Fatalf("checkpoint %d, want %d", cp, l.Last())
	}
	q := trends.Query{GroupBy: []trends.Dimension{trends.DimCategory, trends.DimPeriod}, Basis: trends.BasisReported, Period: trends.PeriodWeek}
	a, b := query(t, whole, q), query(t, split, q)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("one batch and many batches disagree")
	}
	// Every filed signal counts but those rejected or duplicated.
	want, out := len(l.IDs()), 0
	for _, e := range events {
		switch e.Data.(type) {
		case domain.SignalRejected, domain.SignalMarkedDuplicate:
			out++
		}
	}
	if a.Total != want-out {
		t.Fatalf("total %d, want %d filed − %d out", a.Total, want, out)
	}
	// A bad aggregate id fails the batch and changes nothing.
	bad := events[0]
	bad.Envelope.AggregateID = "not-a-uuid"
	if err := split.Apply(ctx, []projections.Event{bad}, l.Last()+1); err == nil {
		t.Fatal("a bad aggregate id was accepted")
	}
}
