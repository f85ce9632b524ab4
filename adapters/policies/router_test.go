package policies_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/safesignal/safesignal/adapters/policies"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/eventstore/jstest"
	"go.uber.org/zap"
)

func setup(t *testing.T, n int) (jetstream.JetStream, jetstream.Stream, []uint64) {
	t.Helper()
	srv := jstest.Start(t)
	_, js := srv.JetStream(t)
	ctx := context.Background()
	log, err := eventstore.Open(ctx, js, eventstore.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for i := range n {
		a := eventstore.Aggregate{Type: "thing", ID: fmt.Sprint("t", i)}
		res, err := log.Append(ctx, eventstore.AppendRequest{Aggregate: a, Events: []eventstore.Envelope{{Type: "T", SchemaVersion: 1, CorrelationID: fmt.Sprint("corr-", i), Data: []byte(`{}`)}}})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, res.Sequence)
	}
	stream, err := js.Stream(ctx, eventstore.DefaultConfig().Stream)
	if err != nil {
		t.Fatal(err)
	}
	return js, stream, seqs
}

type recorder struct {
	mu   sync.Mutex
	seen map[uint64]int
	corr map[uint64]string
}

func (r *recorder) record(msg *message.Message) uint64 {
	seq, _ := strconv.ParseUint(msg.Metadata.Get(policies.MetaSequence), 10, 64)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[seq]++
	r.corr[seq] = msg.Metadata.Get("correlation_id")
	return seq
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

func runRouter(t *testing.T, ctx context.Context, js jetstream.JetStream, stream jetstream.Stream, h policies.Handler) chan error {
	t.Helper()
	r, err := policies.NewRouter(ctx, js, stream, policies.RouterConfig{MaxRetries: 2, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond}, zap.NewNop(), h)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	return done
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestConsumersAreDurable: a router stopped half-way and started again (a
// new subscriber, as after a restart) resumes where the first one was
// acknowledged: nothing is lost and nothing acknowledged comes twice.
func TestConsumersAreDurable(t *testing.T) {
	t.Parallel()
	js, stream, seqs := setup(t, 40)
	rec := &recorder{seen: map[uint64]int{}, corr: map[uint64]string{}}
	ctx1, stop1 := context.WithCancel(context.Background())
	handled := make(chan struct{}, len(seqs))
	done1 := runRouter(t, ctx1, js, stream, policies.Handler{Name: "durable_test", Handle: func(msg *message.Message) error {
		rec.record(msg)
		handled <- struct{}{}
		return nil
	}})
	for range 15 {
		<-handled
	}
	stop1()
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	first := rec.count()
	if first >= len(seqs) {
		t.Fatalf("the first run handled everything (%d); nothing left to resume", first)
	}
	info, err := stream.Consumer(context.Background(), "durable_test")
	if err != nil {
		t.Fatalf("the consumer did not survive its router: %v", err)
	}
	if info.CachedInfo().Config.Durable != "durable_test" {
		t.Fatalf("consumer is not durable: %+v", info.CachedInfo().Config)
	}

	ctx2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	done2 := runRouter(t, ctx2, js, stream, policies.Handler{Name: "durable_test", Handle: func(msg *message.Message) error {
		rec.record(msg)
		return nil
	}})
	deadline := time.Now().Add(30 * time.Second)
	for rec.count() != len(seqs) {
		if time.Now().After(deadline) {
			c, _ := stream.Consumer(context.Background(), "durable_test")
			ci, _ := c.Info(context.Background())
			t.Fatalf("second run stuck at %d/%d: ackPending=%d pending=%d redelivered=%d waiting=%d delivered=%+v ackfloor=%+v", rec.count(), len(seqs), ci.NumAckPending, ci.NumPending, ci.NumRedelivered, ci.NumWaiting, ci.Delivered, ci.AckFloor)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop2()
	if err := <-done2; err != nil {
		t.Fatal(err)
	}
	twice := 0
	for _, seq := range seqs {
		switch rec.seen[seq] {
		case 1:
		case 2:
			twice++ // only a message in flight when the first router stopped
		default:
			t.Fatalf("sequence %d handled %d times", seq, rec.seen[seq])
		}
		if rec.corr[seq] == "" {
			t.Fatalf("sequence %d lost its correlation id", seq)
		}
	}
	if twice > 1 {
		t.Fatalf("%d messages handled twice; at most the one in flight may be", twice)
	}
}

// TestFailingMessageGoesToThePoisonQueue: a message that fails every retry
// is parked in the poison stream and the handler moves on.
func TestFailingMessageGoesToThePoisonQueue(t *testing.T) {
	t.Parallel()
	js, stream, seqs := setup(t, 5)
	rec := &recorder{seen: map[uint64]int{}, corr: map[uint64]string{}}
	bad := seqs[1]
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := runRouter(t, ctx, js, stream, policies.Handler{Name: "poison_test", Handle: func(msg *message.Message) error {
		if seq := rec.record(msg); seq == bad {
			if seq%2 == 0 {
				panic("handler bug")
			}
			return fmt.Errorf("cannot handle %d", seq)
		}
		return nil
	}})
	waitFor(t, "all messages", func() bool { return rec.count() == len(seqs) })
	poison, err := js.Stream(context.Background(), policies.PoisonStream)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the poison queue", func() bool {
		info, err := poison.Info(context.Background())
		return err == nil && info.State.Msgs == 1
	})
	msg, err := poison.GetMsg(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Wm-"+policies.MetaSequence) != strconv.FormatUint(bad, 10) || msg.Header.Get("Wm-reason_poisoned") == "" {
		t.Fatalf("poison message lacks its origin or reason: %v", msg.Header)
	}
	if rec.seen[bad] != 3 {
		t.Fatalf("the bad message was tried %d times, want 1 + 2 retries", rec.seen[bad])
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
