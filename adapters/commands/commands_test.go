package commands_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/safesignal/safesignal/adapters/commands"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/eventstore/jstest"
	"github.com/safesignal/safesignal/projections"
)

func report() domain.ReportSignal {
	return domain.ReportSignal{
		Organisation: "umc-utrecht", Region: "NL-UT", Specialty: "surgery", OccurredAt: time.Now().Add(-time.Hour),
		Kind: domain.KindNearMiss, Category: domain.CategoryClinicalProcess, Harm: domain.HarmNone,
		Description: "Wrong-side marking caught at the time-out.", Language: "en", Reporter: "alice",
	}
}

// TestTwoReplicasShareOneLog: two services (two replicas, each with its
// own cache) work on one signal. A stale cache never loses or interleaves
// a write: it costs a conflict and a reload.
func TestTwoReplicasShareOneLog(t *testing.T) {
	t.Parallel()
	srv := jstest.Start(t)
	_, js := srv.JetStream(t)
	ctx := context.Background()
	log, err := eventstore.Open(ctx, js, eventstore.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := projections.OpenCodec(ctx, js, bytes.Repeat([]byte{3}, 32), 1)
	if err != nil {
		t.Fatal(err)
	}
	secret := bytes.Repeat([]byte{3}, 32)
	a, err := commands.New(log, reg, commands.Options{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	b, err := commands.New(log, reg, commands.Options{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	meta := commands.Meta{Actor: "olga", Caller: "olga"}
	filed, err := a.Report(ctx, report(), commands.Meta{Actor: "alice", Caller: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	id := filed.ID
	// B acknowledges: A's cache still holds version 1.
	if _, err := b.Execute(ctx, id, nil, domain.AcknowledgeSignal{At: time.Now()}, meta); err != nil {
		t.Fatal(err)
	}
	// A decides on its stale state, loses the append race, reloads and
	// applies the feedback on the current state.
	res, err := a.Execute(ctx, id, nil, domain.SendFeedback{Message: "thanks", At: time.Now()}, meta)
	if err != nil || res.Version != 3 {
		t.Fatalf("feedback through a stale cache: %+v, %v", res, err)
	}
	// A client that saw version 3 (from A) sends through B, whose cache
	// is at 2: B reloads instead of refusing.
	v := 3
	if res, err := b.Execute(ctx, id, &v, domain.SendFeedback{Message: "more", At: time.Now()}, meta); err != nil || res.Version != 4 {
		t.Fatalf("If-Match newer than the cache: %+v, %v", res, err)
	}
	// A truly stale If-Match is refused by either.
	stale := 2
	if _, err := a.Execute(ctx, id, &stale, domain.SendFeedback{Message: "late", At: time.Now()}, meta); !errors.Is(err, commands.ErrVersionMismatch) {
		t.Fatalf("stale If-Match: %v", err)
	}
	s, err := a.State(ctx, id)
	if err != nil || s.Version != 4 || len(s.Feedback) != 2 {
		t.Fatalf("final state: version %d, %d feedback, %v", s.Version, len(s.Feedback), err)
	}
	history, err := a.History(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range history {
		if e.Envelope.AggregateVersion != i+1 {
			t.Fatalf("history has a gap or duplicate at %d: %d", i, e.Envelope.AggregateVersion)
		}
	}
}

func TestUnknownSignalAndInvalidCommand(t *testing.T) {
	t.Parallel()
	srv := jstest.Start(t)
	_, js := srv.JetStream(t)
	ctx := context.Background()
	log, _ := eventstore.Open(ctx, js, eventstore.DefaultConfig())
	reg, _ := projections.OpenCodec(ctx, js, bytes.Repeat([]byte{3}, 32), 1)
	svc, err := commands.New(log, reg, commands.Options{Secret: bytes.Repeat([]byte{3}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	filed, err := svc.Report(ctx, report(), commands.Meta{Caller: "alice", Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Execute(ctx, filed.ID, nil, domain.SendFeedback{At: time.Now()}, commands.Meta{Caller: "o"}); !errors.As(err, new(*domain.ValidationError)) {
		t.Fatalf("empty feedback: %v", err)
	}
	other := report()
	other.SignalID = filed.ID
	if _, err := svc.Report(ctx, other, commands.Meta{Caller: "alice"}); err == nil {
		t.Fatal("a second report on an existing id was accepted")
	}
	if _, err := commands.New(log, reg, commands.Options{Secret: []byte("short")}); err == nil {
		t.Fatal("a short secret was accepted")
	}
}

// TestReportRepeatedAfterTheDuplicateWindow: a report sent again with the
// same idempotency key after the log has forgotten its message id (an
// import run again the next day) is answered as replayed, not as a
// conflict, by a service that filed it and by one that did not.
func TestReportRepeatedAfterTheDuplicateWindow(t *testing.T) {
	t.Parallel()
	srv := jstest.Start(t)
	_, js := srv.JetStream(t)
	ctx := t.Context()
	cfg := eventstore.DefaultConfig()
	cfg.DuplicateWindow = 200 * time.Millisecond
	log, err := eventstore.Open(ctx, js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	secret := bytes.Repeat([]byte{3}, 32)
	reg, err := projections.OpenCodec(ctx, js, secret, 1)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := commands.New(log, reg, commands.Options{Secret: secret})
	b, _ := commands.New(log, reg, commands.Options{Secret: secret})
	meta := commands.Meta{Actor: "olga", Caller: "import:umc-utrecht", IdempotencyKey: "old-1"}
	first, err := a.Report(ctx, report(), meta)
	if err != nil || first.Replayed {
		t.Fatalf("first report: %+v %v", first, err)
	}
	time.Sleep(time.Second)
	for name, svc := range map[string]*commands.Service{"the same service": a, "another service": b} {
		again, err := svc.Report(ctx, report(), meta)
		if err != nil || !again.Replayed || again.ID != first.ID {
			t.Errorf("%s: %+v %v", name, again, err)
		}
	}
	other := meta
	other.IdempotencyKey = "old-2"
	if r, err := b.Report(ctx, report(), other); err != nil || r.Replayed {
		t.Errorf("another key: %+v %v", r, err)
	}
	if h, err := a.History(ctx, first.ID); err != nil || len(h) != 1 {
		t.Errorf("history: %d events, %v", len(h), err)
	}
}
