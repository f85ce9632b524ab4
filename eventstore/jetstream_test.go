package eventstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/eventstore/jstest"
	"github.com/safesignal/safesignal/eventstore/storetest"
)

func openStore(t *testing.T, storage jetstream.StorageType) *eventstore.JetStream {
	t.Helper()
	srv := jstest.Start(t)
	_, js := srv.JetStream(t)
	cfg := eventstore.DefaultConfig()
	cfg.Storage = storage
	s, err := eventstore.Open(context.Background(), js, cfg)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return s
}

func TestJetStreamContract(t *testing.T) {
	t.Parallel()
	for _, storage := range []jetstream.StorageType{jetstream.FileStorage, jetstream.MemoryStorage} {
		t.Run(storage.String(), func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) eventstore.Store { return openStore(t, storage) })
		})
	}
}

func TestOpenIsIdempotent(t *testing.T) {
	t.Parallel()
	srv := jstest.Start(t)
	_, js := srv.JetStream(t)
	for range 3 {
		if _, err := eventstore.Open(context.Background(), js, eventstore.DefaultConfig()); err != nil {
			t.Fatalf("open: %v", err)
		}
	}
	info, err := js.Stream(context.Background(), eventstore.DefaultConfig().Stream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := info.CachedInfo().Config
	if !cfg.DenyDelete || !cfg.DenyPurge || !cfg.AllowDirect || cfg.Duplicates == 0 {
		t.Fatalf("stream lacks its guarantees: %+v", cfg)
	}
}

func TestLogSurvivesServerRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := jstest.StartIn(t, dir)
	_, js := srv.JetStream(t)
	s, err := eventstore.Open(context.Background(), js, eventstore.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	a := eventstore.Aggregate{Type: "thing", ID: "restart"}
	if _, err := s.Append(context.Background(), eventstore.AppendRequest{Aggregate: a, Events: []eventstore.Envelope{{Type: "T", SchemaVersion: 1, Data: []byte(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	srv.Shutdown()
	srv.WaitForShutdown()

	srv2 := jstest.StartIn(t, dir)
	_, js2 := srv2.JetStream(t)
	s2, err := eventstore.Open(context.Background(), js2, eventstore.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	commits, err := s2.Load(context.Background(), a, 0)
	if err != nil || len(commits) != 1 {
		t.Fatalf("after restart: %d commits, %v", len(commits), err)
	}
}

func TestConsumeDeliversInBatchesFromCheckpointAndRetries(t *testing.T) {
	t.Parallel()
	s := openStore(t, jetstream.FileStorage)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var seqs []uint64
	for i := range 50 {
		a := eventstore.Aggregate{Type: "thing", ID: fmt.Sprint("c", i%7)}
		last, err := s.Last(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		var expected uint64
		if last != nil {
			expected = last.Sequence
		}
		res, err := s.Append(ctx, eventstore.AppendRequest{Aggregate: a, ExpectedSequence: expected, Events: []eventstore.Envelope{{Type: "T", SchemaVersion: 1, Data: []byte(`{}`)}}})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, res.Sequence)
	}

	// Start after the 10th commit; fail the first attempt of one batch.
	after := seqs[9]
	var got []uint64
	failed := false
	done := make(chan struct{})
	cctx, stop := context.WithCancel(ctx)
	go func() {
		defer close(done)
		err := s.Consume(cctx, eventstore.ConsumeOptions{Durable: "test-reader", After: after, BatchSize: 8}, func(_ context.Context, batch []eventstore.Commit) error {
			if len(batch) > 8 {
				t.Errorf("batch of %d exceeds the batch size", len(batch))
			}
			if !failed && len(got) > 0 {
				failed = true
				return fmt.Errorf("transient failure")
			}
			for _, c := range batch {
				got = append(got, c.Sequence)
			}
			if len(got) >= 40 {
				stop()
			}
			return nil
		})
		if err != nil {
			t.Errorf("consume: %v", err)
		}
	}()
	<-done
	if len(got) != 40 {
		t.Fatalf("got %d commits, want 40", len(got))
	}
	for i, seq := range got {
		if seq != seqs[10+i] {
			t.Fatalf("commit %d: sequence %d, want %d (no gap, no repeat)", i, seq, seqs[10+i])
		}
	}
}
