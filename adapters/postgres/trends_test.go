package postgres_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/safesignal/safesignal/adapters/postgres"
	"github.com/safesignal/safesignal/adapters/postgres/pgtest"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/signaldetail/signaldetailtest"
	"github.com/safesignal/safesignal/projections/trends"
	"github.com/safesignal/safesignal/projections/trends/trendstest"
)

func TestTrendsContract(t *testing.T) {
	t.Parallel()
	trendstest.Run(t, func(t *testing.T) trends.Store {
		ctx := context.Background()
		pool := pgtest.Pool(t)
		if _, err := postgres.Migrate(ctx, pool); err != nil {
			t.Fatal(err)
		}
		s, err := postgres.OpenTrends(ctx, pool)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestTrendsRebuild(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	h := signaldetailtest.Generate(t, 200)
	last := signaldetailtest.AppendHistory(t, w.log, w.codec, h, 4)
	pool := pgtest.Pool(t)
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store, err := postgres.OpenTrends(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, follow(t, w, store, "trends_live"), last)
	mem := trends.NewMemory()
	waitFor(t, follow(t, w, mem, "trends_memory"), last)
	q := trends.Query{GroupBy: []trends.Dimension{trends.DimCategory, trends.DimPeriod}, Basis: trends.BasisOccurred, Period: trends.PeriodMonth}
	want, err := mem.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // twice: the second works on swapped-in tables
		res, err := store.Rebuild(ctx, w.log, w.codec, postgres.RebuildOptions{Force: true})
		if err != nil || !res.Rebuilt || res.Through != last {
			t.Fatalf("rebuild %d = %+v, %v", i, res, err)
		}
		got, err := store.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) || got.Total == 0 {
			t.Fatalf("after rebuild %d: %+v\nwant %+v", i, got, want)
		}
	}
}

// TestTrendsTablesDoNotDependOnBatching feeds one history in batches of
// one commit and in one batch: the tables must hold the same rows (changes
// that cancel out leave no row behind).
func TestTrendsTablesDoNotDependOnBatching(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := signaldetailtest.Generate(t, 150)
	rowsOf := func(size int) []string {
		pool := pgtest.Pool(t)
		if _, err := postgres.Migrate(ctx, pool); err != nil {
			t.Fatal(err)
		}
		s, err := postgres.OpenTrends(ctx, pool)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(h.Commits); i += size {
			end := min(i+size, len(h.Commits))
			var batch []projections.Event
			for _, c := range h.Commits[i:end] {
				batch = append(batch, c...)
			}
			if err := s.Apply(ctx, batch, uint64(end)); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := pool.Query(ctx, "SELECT t::text FROM trends_changes t ORDER BY 1")
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	one, all := rowsOf(1), rowsOf(len(h.Commits))
	if len(one) == 0 || !reflect.DeepEqual(one, all) {
		t.Fatalf("batches of one commit left %d rows, one batch %d", len(one), len(all))
	}
}
