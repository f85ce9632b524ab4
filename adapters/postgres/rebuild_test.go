package postgres_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/safesignal/safesignal/adapters/postgres"
	"github.com/safesignal/safesignal/adapters/postgres/pgtest"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/eventstore/jstest"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/signaldetail"
	"github.com/safesignal/safesignal/projections/signaldetail/signaldetailtest"
	"go.uber.org/zap"
)

type world struct {
	log   *eventstore.JetStream
	codec *projections.Codec
}

func newWorld(t *testing.T) world {
	t.Helper()
	srv := jstest.Start(t)
	_, js := srv.JetStream(t)
	ctx := context.Background()
	log, err := eventstore.Open(ctx, js, eventstore.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	codec, err := projections.OpenCodec(ctx, js, bytes.Repeat([]byte{7}, 32), 1)
	if err != nil {
		t.Fatal(err)
	}
	return world{log: log, codec: codec}
}

// follow runs a live runner on store until the test ends.
func follow(t *testing.T, w world, store projections.Projection, consumer string) *projections.Runner {
	t.Helper()
	r := projections.NewRunner(w.log, w.codec, store, projections.RunnerOptions{ConsumerName: consumer, BatchSize: 100}, zap.NewNop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runner %s: %v", consumer, err)
		}
	})
	return r
}

func waitFor(t *testing.T, r *projections.Runner, seq uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := r.WaitFor(ctx, seq); err != nil {
		t.Fatal(err)
	}
}

func TestRebuildSwapsInAFreshTableWhileTheLiveOneFollows(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	h := signaldetailtest.Generate(t, 300)
	first := signaldetailtest.History{Commits: h.Commits[:len(h.Commits)/2]}
	rest := signaldetailtest.History{Commits: h.Commits[len(h.Commits)/2:]}
	last := signaldetailtest.AppendHistory(t, w.log, w.codec, first, 4)

	pool := pgtest.Pool(t)
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store, err := postgres.OpenSignalDetail(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	live := follow(t, w, store, "live")
	waitFor(t, live, last)

	// Events keep arriving during the rebuild; the live table follows
	// them, and the swap happens only once the new table has them all.
	var wg sync.WaitGroup
	wg.Add(1)
	var end uint64
	go func() {
		defer wg.Done()
		end = signaldetailtest.AppendHistory(t, w.log, w.codec, rest, 1)
	}()
	var calls int
	res, err := store.Rebuild(ctx, w.log, w.codec, postgres.RebuildOptions{Force: true, BatchSize: 50, Progress: func(p postgres.Progress) {
		calls++
		if p.Done > p.Total {
			t.Errorf("progress %d of %d", p.Done, p.Total)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rebuilt || res.Through < last || calls == 0 {
		t.Fatalf("rebuild = %+v after %d progress reports; want rebuilt through at least %d", res, calls, last)
	}
	wg.Wait()
	waitFor(t, live, end)
	signaldetailtest.Compare(t, store, reference(t, w, end), h, time.Now())

	// A second rebuild works on the swapped-in table (index names and
	// all), and a rebuild of a current table does nothing.
	if res, err := store.Rebuild(ctx, w.log, w.codec, postgres.RebuildOptions{Force: true}); err != nil || res.Through != end {
		t.Fatalf("second rebuild = %+v, %v; want through %d", res, err, end)
	}
	if res, err := store.Rebuild(ctx, w.log, w.codec, postgres.RebuildOptions{}); err != nil || res.Rebuilt {
		t.Fatalf("rebuild of a current table = %+v, %v; want nothing done", res, err)
	}
	signaldetailtest.Compare(t, store, reference(t, w, end), h, time.Now())
}

func TestStaleVersionIsRebuiltOnceByReplicasStartingTogether(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	h := signaldetailtest.Generate(t, 100)
	end := signaldetailtest.AppendHistory(t, w.log, w.codec, h, 4)
	_, url := pgtest.Schema(t)

	// The tables of an older version of the code.
	pool := open(t, url)
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store, err := postgres.OpenSignalDetail(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "UPDATE projection_checkpoints SET version = version - 1 WHERE name = 'signal_detail'"); err != nil {
		t.Fatal(err)
	}
	if stale, err := store.Stale(ctx); err != nil || !stale {
		t.Fatalf("Stale = %v, %v; want true", stale, err)
	}

	// Two replicas start at once, each with its own pool.
	results := make([]postgres.RebuildResult, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			p := open(t, url)
			if _, err := postgres.Migrate(ctx, p); err != nil {
				errs[i] = err
				return
			}
			s, err := postgres.OpenSignalDetail(ctx, p)
			if err != nil {
				errs[i] = err
				return
			}
			results[i], errs[i] = s.Rebuild(ctx, w.log, w.codec, postgres.RebuildOptions{})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if results[0].Rebuilt == results[1].Rebuilt {
		t.Fatalf("rebuilt by replica 0: %v, by replica 1: %v; want exactly one", results[0].Rebuilt, results[1].Rebuilt)
	}
	if stale, err := store.Stale(ctx); err != nil || stale {
		t.Fatalf("Stale after rebuild = %v, %v", stale, err)
	}
	signaldetailtest.Compare(t, store, reference(t, w, end), h, time.Now())
}

func open(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// reference is the memory store fed from the same log.
func reference(t *testing.T, w world, through uint64) *signaldetail.Memory {
	t.Helper()
	m := signaldetail.NewMemory()
	r := follow(t, w, m, "reference_"+strings.ReplaceAll(uuid.NewString(), "-", ""))
	waitFor(t, r, through)
	return m
}
