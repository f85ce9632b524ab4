package trends_test

import (
	"context"
	"testing"

	"github.com/safesignal/safesignal/projections/trends"
	"github.com/safesignal/safesignal/projections/trends/synth"
)

// BenchmarkProtect answers a filtered, two-dimension query under
// disclosure control over 50,000 signals (52 weeks).
func BenchmarkProtect(b *testing.B) {
	l := synth.New()
	if err := l.Random(synth.Options{Seed: 1, Signals: 50_000, Weeks: 52, RejectShare: 0.05, ReclassifyShare: 0.1}); err != nil {
		b.Fatal(err)
	}
	m := trends.NewMemory()
	if err := m.Apply(context.Background(), l.Events(), l.Last()); err != nil {
		b.Fatal(err)
	}
	q := trends.Query{
		Filter:  map[trends.Dimension][]string{trends.DimRegion: {"NL-UT", "NL-NH"}, trends.DimKind: {"near_miss"}},
		GroupBy: []trends.Dimension{trends.DimCategory, trends.DimPeriod}, Basis: trends.BasisReported, Period: trends.PeriodMonth,
		From: trends.DayOf(l.Events()[0].Envelope.RecordedAt), To: trends.DayOf(l.Events()[len(l.Events())-1].Envelope.RecordedAt),
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := trends.Protect(context.Background(), m, q, trends.DefaultK); err != nil {
			b.Fatal(err)
		}
	}
}
