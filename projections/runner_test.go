package projections_test

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/eventstore/jstest"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/signaldetail"
	"go.uber.org/zap"
)

func report(id uuid.UUID, i int) domain.Event {
	return domain.SignalReported{
		SignalID: id, Organisation: "org", Region: "NL-UT", Specialty: "surgery",
		OccurredAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Kind: domain.KindNearMiss,
		Category: domain.CategoryMedication, Harm: domain.HarmNone,
		Description: fmt.Sprint("signal ", i), Language: "en", Anonymous: true,
		ReportedAt: time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC),
	}
}

func appendReports(t *testing.T, log *eventstore.JetStream, reg *projections.Codec, n int) ([]uuid.UUID, uint64) {
	t.Helper()
	ids := make([]uuid.UUID, n)
	var last uint64
	for i := range ids {
		ids[i] = uuid.New()
		envs, err := reg.Encode(context.Background(), eventstore.Envelope{ID: uuid.New(), AggregateType: projections.AggregateSignal, AggregateID: ids[i].String()}, 0, []domain.Event{report(ids[i], i)})
		if err != nil {
			t.Fatal(err)
		}
		res, err := log.Append(context.Background(), eventstore.AppendRequest{Aggregate: eventstore.Aggregate{Type: projections.AggregateSignal, ID: ids[i].String()}, Events: envs})
		if err != nil {
			t.Fatal(err)
		}
		last = res.Sequence
	}
	return ids, last
}

// run starts a runner and returns a function that stops it.
func run(t *testing.T, r *projections.Runner) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runner: %v", err)
		}
	}
}

func TestRunnerRebuildsFromTheLogAndFollowsIt(t *testing.T) {
	t.Parallel()
	srv := jstest.Start(t)
	_, js := srv.JetStream(t)
	log, err := eventstore.Open(context.Background(), js, eventstore.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := projections.OpenCodec(context.Background(), js, bytes.Repeat([]byte{5}, 32), 1)
	if err != nil {
		t.Fatal(err)
	}
	ids, last := appendReports(t, log, reg, 1200)

	// A fresh memory model catches up from sequence 1 and says when.
	first := signaldetail.NewMemory()
	r1 := projections.NewRunner(log, reg, first, projections.RunnerOptions{ConsumerName: "detail_a", BatchSize: 100}, zap.NewNop())
	stop := run(t, r1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r1.WaitFor(ctx, last); err != nil {
		t.Fatal(err)
	}
	if !r1.Ready() || first.Len() != len(ids) {
		t.Fatalf("ready=%v, %d signals, want %d", r1.Ready(), first.Len(), len(ids))
	}
	// It follows new events.
	more, last2 := appendReports(t, log, reg, 10)
	if err := r1.WaitFor(ctx, last2); err != nil {
		t.Fatal(err)
	}
	v, ok, _ := first.Get(ctx, more[9])
	if !ok || v.Description != "signal 9" || v.Sequence != last2 {
		t.Fatalf("new event not applied: %+v", v)
	}
	stop()

	// A restart with an empty model (a new process) rebuilds the same state,
	// reusing the consumer name: the consumer is reset to the checkpoint.
	second := signaldetail.NewMemory()
	r2 := projections.NewRunner(log, reg, second, projections.RunnerOptions{ConsumerName: "detail_a"}, zap.NewNop())
	stop2 := run(t, r2)
	defer stop2()
	if err := r2.WaitFor(ctx, last2); err != nil {
		t.Fatal(err)
	}
	if second.Len() != first.Len() {
		t.Fatalf("rebuild holds %d signals, want %d", second.Len(), first.Len())
	}
	for _, id := range append(ids, more...) {
		a, _, _ := first.Get(ctx, id)
		b, _, _ := second.Get(ctx, id)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("rebuild differs for %s:\n%+v\n%+v", id, a, b)
		}
	}
}

// flaky fails its first Apply calls, to show a failed batch is retried and
// never skipped.
type flaky struct {
	*signaldetail.Memory
	failures int
}

func (f *flaky) Apply(ctx context.Context, batch []projections.Event, through uint64) error {
	if f.failures > 0 {
		f.failures--
		return fmt.Errorf("injected failure")
	}
	return f.Memory.Apply(ctx, batch, through)
}

func TestRunnerRetriesAFailedBatch(t *testing.T) {
	t.Parallel()
	srv := jstest.Start(t)
	_, js := srv.JetStream(t)
	log, err := eventstore.Open(context.Background(), js, eventstore.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := projections.OpenCodec(context.Background(), js, bytes.Repeat([]byte{5}, 32), 1)
	if err != nil {
		t.Fatal(err)
	}
	ids, last := appendReports(t, log, reg, 50)
	store := &flaky{Memory: signaldetail.NewMemory(), failures: 2}
	r := projections.NewRunner(log, reg, store, projections.RunnerOptions{ConsumerName: "flaky"}, zap.NewNop())
	stop := run(t, r)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, last); err != nil {
		t.Fatal(err)
	}
	if store.Len() != len(ids) {
		t.Fatalf("%d signals after retries, want %d", store.Len(), len(ids))
	}
}

// ordered records the sequences it is given, to show that decoding a
// batch on several goroutines still applies events in stream order.
type ordered struct {
	*signaldetail.Memory
	seqs []uint64
}

func (o *ordered) Apply(ctx context.Context, batch []projections.Event, through uint64) error {
	for _, e := range batch {
		o.seqs = append(o.seqs, e.Sequence)
	}
	return o.Memory.Apply(ctx, batch, through)
}

func TestRunnerDecodesInParallelAndAppliesInOrder(t *testing.T) {
	t.Parallel()
	srv := jstest.Start(t)
	_, js := srv.JetStream(t)
	log, err := eventstore.Open(context.Background(), js, eventstore.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := projections.OpenCodec(context.Background(), js, bytes.Repeat([]byte{5}, 32), 1)
	if err != nil {
		t.Fatal(err)
	}
	ids, last := appendReports(t, log, reg, 700)
	// A fresh codec: a cold key cache, as in a rebuild at start.
	cold, err := projections.OpenCodec(context.Background(), js, bytes.Repeat([]byte{5}, 32), 1)
	if err != nil {
		t.Fatal(err)
	}
	store := &ordered{Memory: signaldetail.NewMemory()}
	r := projections.NewRunner(log, cold, store, projections.RunnerOptions{ConsumerName: "parallel", BatchSize: 250, DecodeWorkers: 7}, zap.NewNop())
	stop := run(t, r)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, last); err != nil {
		t.Fatal(err)
	}
	if len(store.seqs) != len(ids) {
		t.Fatalf("%d events applied, want %d", len(store.seqs), len(ids))
	}
	for i := 1; i < len(store.seqs); i++ {
		if store.seqs[i] <= store.seqs[i-1] {
			t.Fatalf("event %d at sequence %d applied after sequence %d", i, store.seqs[i], store.seqs[i-1])
		}
	}
	for i, id := range ids {
		v, ok, _ := store.Get(ctx, id)
		if !ok || v.Description != fmt.Sprint("signal ", i) {
			t.Fatalf("signal %d: %+v", i, v)
		}
	}
}
