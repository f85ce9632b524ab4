package postgres_test

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/safesignal/safesignal/adapters/postgres"
	"github.com/safesignal/safesignal/adapters/postgres/pgtest"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections/trends"
	"github.com/safesignal/safesignal/projections/trends/synth"
)

// BenchmarkTrendQueryPostgres builds the PostgreSQL trend cube from a
// synthetic history (SAFESIGNAL_BENCH_TREND_SIGNALS signals, default
// 100,000) and measures random queries: one or two filters, a grouping by
// one dimension or by a dimension and the month. It reports p50 and p99.
func BenchmarkTrendQueryPostgres(b *testing.B) {
	n := 100_000
	if s := os.Getenv("SAFESIGNAL_BENCH_TREND_SIGNALS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("SAFESIGNAL_BENCH_TREND_SIGNALS=%q", s)
		}
		n = v
	}
	ctx := context.Background()
	l := synth.New()
	if err := l.Random(synth.Options{Seed: 3, Signals: n, Weeks: 104, Organisations: 12,
		Regions:     []string{"NL-UT", "NL-NH", "NL-ZH", "NO-46", "NO-03", "SE-AB", "SE-O", "DK-84", "DK-82"},
		RejectShare: 0.03, DuplicateShare: 0.02, ReclassifyShare: 0.1}); err != nil {
		b.Fatal(err)
	}
	pool := pgtest.Pool(b)
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		b.Fatal(err)
	}
	store, err := postgres.OpenTrends(ctx, pool)
	if err != nil {
		b.Fatal(err)
	}
	events := l.Events()
	for i := 0; i < len(events); i += 20000 {
		batch := events[i:min(i+20000, len(events))]
		if err := store.Apply(ctx, batch, batch[len(batch)-1].Sequence); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	dims := trends.FilterDimensions()
	values := map[trends.Dimension][]string{
		trends.DimKind: strs(domain.Kinds()), trends.DimCategory: strs(domain.Categories()), trends.DimHarm: strs(domain.Harms()),
		trends.DimSpecialty: strs(domain.Specialties()), trends.DimRegion: {"NL-UT", "NO-46", "SE-AB", "DK-84"},
		trends.DimOrganisation: {"org-NL-UT-1", "org-SE-AB-3"},
	}
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		q := trends.Query{Filter: map[trends.Dimension][]string{}, Basis: trends.BasisOccurred, Period: trends.PeriodMonth}
		for range 1 + r.IntN(2) {
			d := dims[r.IntN(len(dims))]
			q.Filter[d] = []string{values[d][r.IntN(len(values[d]))]}
		}
		g := dims[r.IntN(len(dims))]
		q.GroupBy = []trends.Dimension{g}
		if r.IntN(2) == 0 {
			q.GroupBy = append(q.GroupBy, trends.DimPeriod)
		}
		start := time.Now()
		if _, err := store.Query(ctx, q); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(events)), "events")
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
