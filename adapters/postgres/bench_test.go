package postgres_test

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/safesignal/safesignal/adapters/natsserver"
	"github.com/safesignal/safesignal/adapters/postgres"
	"github.com/safesignal/safesignal/adapters/postgres/pgtest"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/signaldetail"
	"github.com/safesignal/safesignal/projections/signaldetail/signaldetailtest"
	"go.uber.org/zap"
)

// benchSignals is how many signals the rebuild benchmark generates (about
// 3.3 events each); SAFESIGNAL_BENCH_SIGNALS overrides it (300000 gives
// about a million events).
func benchSignals(b *testing.B) int {
	if s := os.Getenv("SAFESIGNAL_BENCH_SIGNALS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("SAFESIGNAL_BENCH_SIGNALS=%q", s)
		}
		return n
	}
	return 30000
}

// BenchmarkRebuildVersusBareDrain measures, on one log in one run, a bare
// drain of the stream (fetch and ack every message, nothing else) and a
// full rebuild of the PostgreSQL signal-detail table, and reports both
// rates and their ratio; and, for comparison, a rebuild of the memory
// store.
func BenchmarkRebuildVersusBareDrain(b *testing.B) {
	ctx := context.Background()
	ns, err := natsserver.Start(natsserver.Options{StoreDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer ns.Shutdown()
	nc, err := ns.Connect()
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	log, err := eventstore.Open(ctx, js, eventstore.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	codec, err := projections.OpenCodec(ctx, js, bytes.Repeat([]byte{9}, 32), 1)
	if err != nil {
		b.Fatal(err)
	}
	h := signaldetailtest.Generate(b, benchSignals(b))
	events := len(h.Events())
	last := signaldetailtest.AppendHistory(b, log, codec, h, 32)
	h = signaldetailtest.History{} // the generator's copy would only burden the garbage collector
	runtime.GC()
	pool := pgtest.Pool(b)
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		b.Fatal(err)
	}
	store, err := postgres.OpenSignalDetail(ctx, pool)
	if err != nil {
		b.Fatal(err)
	}
	stream, err := js.Stream(ctx, eventstore.DefaultConfig().Stream)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var drain, rebuild, memory time.Duration
	for range b.N {
		start := time.Now()
		if err := bareDrain(ctx, stream, last); err != nil {
			b.Fatal(err)
		}
		drain += time.Since(start)
		start = time.Now()
		if _, err := store.Rebuild(ctx, log, codec, postgres.RebuildOptions{Force: true}); err != nil {
			b.Fatal(err)
		}
		rebuild += time.Since(start)
		start = time.Now()
		m := signaldetail.NewMemory()
		r := projections.NewRunner(log, codec, m, projections.RunnerOptions{ConsumerName: "memory_rebuild", BatchSize: 2000, InactiveThreshold: time.Minute}, zap.NewNop())
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- r.Run(rctx) }()
		if err := r.WaitFor(ctx, last); err != nil {
			b.Fatal(err)
		}
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		memory += time.Since(start)
	}
	n := float64(b.N)
	drainRate := float64(events) * n / drain.Seconds()
	rebuildRate := float64(events) * n / rebuild.Seconds()
	b.ReportMetric(drainRate, "drain-events/s")
	b.ReportMetric(rebuildRate, "rebuild-events/s")
	b.ReportMetric(rebuildRate/drainRate, "ratio")
	b.ReportMetric(float64(events)*n/memory.Seconds(), "memory-rebuild-events/s")
	b.ReportMetric(float64(events), "events")
}

// bareDrain reads the whole stream through a pull consumer, acking each
// batch, and does nothing with the messages.
func bareDrain(ctx context.Context, stream jetstream.Stream, last uint64) error {
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{AckPolicy: jetstream.AckAllPolicy, InactiveThreshold: time.Minute})
	if err != nil {
		return err
	}
	defer func() { _ = stream.DeleteConsumer(context.WithoutCancel(ctx), cons.CachedInfo().Name) }()
	it, err := cons.Messages(jetstream.PullMaxMessages(4000))
	if err != nil {
		return err
	}
	defer it.Stop()
	for n := 0; ; n++ {
		m, err := it.Next()
		if err != nil {
			return err
		}
		meta, err := m.Metadata()
		if err != nil {
			return err
		}
		done := meta.Sequence.Stream >= last
		if n%1000 == 999 || done {
			if err := m.Ack(); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
	}
}
