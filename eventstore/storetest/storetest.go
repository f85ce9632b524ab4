// Package storetest is the contract test suite for eventstore.Store: every
// implementation and configuration runs the same tests.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/eventstore"
)

// Run runs the contract against stores made by newStore. Each subtest gets
// a store of its own.
func Run(t *testing.T, newStore func(t *testing.T) eventstore.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s eventstore.Store)
	}{
		{"append to a new aggregate and load it back", testAppendAndLoad},
		{"a new aggregate must not exist yet", testCreateConflict},
		{"a stale expected sequence is a conflict and writes nothing", testStaleConflict},
		{"concurrent appends at one version: exactly one wins", testConcurrentAppends},
		{"a repeated message id is stored once", testDuplicateMsgID},
		{"load returns only the aggregate's commits, in order", testInterleaved},
		{"load after a sequence returns only later commits", testLoadAfter},
		{"last of an unknown aggregate is nil", testLastUnknown},
		{"aggregate names that are not subject tokens are refused", testInvalidAggregate},
		{"an empty append is refused", testEmptyAppend},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func newAggregate() eventstore.Aggregate {
	return eventstore.Aggregate{Type: "thing", ID: uuid.NewString()}
}

// event builds an envelope with every field set, so that a round trip that
// drops one shows.
func event(a eventstore.Aggregate, version int, payload string) eventstore.Envelope {
	data, _ := json.Marshal(map[string]string{"payload": payload})
	return eventstore.Envelope{
		ID:               uuid.Must(uuid.NewV7()),
		Type:             "ThingHappened",
		SchemaVersion:    1,
		AggregateType:    a.Type,
		AggregateID:      a.ID,
		AggregateVersion: version,
		OccurredAt:       time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
		RecordedAt:       time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC),
		Actor:            "actor-1",
		CorrelationID:    "corr-1",
		CausationID:      "cause-1",
		IdempotencyKey:   "key-" + payload,
		Data:             data,
	}
}

func mustAppend(t *testing.T, s eventstore.Store, a eventstore.Aggregate, expected uint64, events ...eventstore.Envelope) uint64 {
	t.Helper()
	res, err := s.Append(ctx(t), eventstore.AppendRequest{Aggregate: a, ExpectedSequence: expected, Events: events})
	if err != nil {
		t.Fatalf("append to %s at %d: %v", a, expected, err)
	}
	if res.Sequence == 0 {
		t.Fatalf("append to %s returned sequence 0", a)
	}
	return res.Sequence
}

func mustLoad(t *testing.T, s eventstore.Store, a eventstore.Aggregate, after uint64) []eventstore.Commit {
	t.Helper()
	commits, err := s.Load(ctx(t), a, after)
	if err != nil {
		t.Fatalf("load %s: %v", a, err)
	}
	return commits
}

func testAppendAndLoad(t *testing.T, s eventstore.Store) {
	a := newAggregate()
	e1, e2 := event(a, 1, "one"), event(a, 2, "two")
	seq := mustAppend(t, s, a, 0, e1, e2)
	commits := mustLoad(t, s, a, 0)
	if len(commits) != 1 {
		t.Fatalf("want 1 commit, got %d", len(commits))
	}
	c := commits[0]
	if c.Sequence != seq {
		t.Errorf("commit sequence %d, append said %d", c.Sequence, seq)
	}
	if c.Published.IsZero() || c.Subject == "" {
		t.Errorf("commit lacks publish time or subject: %+v", c)
	}
	if !reflect.DeepEqual(c.Events, []eventstore.Envelope{e1, e2}) {
		t.Errorf("events changed on the way through the log\n got %+v\nwant %+v", c.Events, []eventstore.Envelope{e1, e2})
	}
	last, err := s.Last(ctx(t), a)
	if err != nil || last == nil || last.Sequence != seq {
		t.Fatalf("last commit: %+v, %v; want sequence %d", last, err, seq)
	}
}

func testCreateConflict(t *testing.T, s eventstore.Store) {
	a := newAggregate()
	mustAppend(t, s, a, 0, event(a, 1, "first"))
	_, err := s.Append(ctx(t), eventstore.AppendRequest{Aggregate: a, ExpectedSequence: 0, Events: []eventstore.Envelope{event(a, 1, "again")}})
	if !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("second create: want ErrConflict, got %v", err)
	}
	if n := len(mustLoad(t, s, a, 0)); n != 1 {
		t.Fatalf("want 1 commit after refused create, got %d", n)
	}
}

func testStaleConflict(t *testing.T, s eventstore.Store) {
	a := newAggregate()
	first := mustAppend(t, s, a, 0, event(a, 1, "one"))
	mustAppend(t, s, a, first, event(a, 2, "two"))
	_, err := s.Append(ctx(t), eventstore.AppendRequest{Aggregate: a, ExpectedSequence: first, Events: []eventstore.Envelope{event(a, 2, "stale")}})
	if !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("stale append: want ErrConflict, got %v", err)
	}
	if n := len(mustLoad(t, s, a, 0)); n != 2 {
		t.Fatalf("want 2 commits, got %d", n)
	}
}

func testConcurrentAppends(t *testing.T, s eventstore.Store) {
	a := newAggregate()
	base := mustAppend(t, s, a, 0, event(a, 1, "base"))
	const writers = 20
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Append(ctx(t), eventstore.AppendRequest{Aggregate: a, ExpectedSequence: base, Events: []eventstore.Envelope{event(a, 2, fmt.Sprint(i))}})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, eventstore.ErrConflict):
			t.Errorf("loser got %v, want ErrConflict", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent appends at one version succeeded, want exactly 1", won)
	}
	if n := len(mustLoad(t, s, a, 0)); n != 2 {
		t.Fatalf("want 2 commits, got %d", n)
	}
}

func testDuplicateMsgID(t *testing.T, s eventstore.Store) {
	a := newAggregate()
	req := eventstore.AppendRequest{Aggregate: a, ExpectedSequence: 0, MsgID: "msg-" + a.ID, Events: []eventstore.Envelope{event(a, 1, "once")}}
	first, err := s.Append(ctx(t), req)
	if err != nil {
		t.Fatalf("first append: %v", err)
	}
	again, err := s.Append(ctx(t), req)
	if err != nil {
		t.Fatalf("repeated append: %v", err)
	}
	if !again.Duplicate || again.Sequence != first.Sequence {
		t.Fatalf("repeat: got %+v, want duplicate of sequence %d", again, first.Sequence)
	}
	if n := len(mustLoad(t, s, a, 0)); n != 1 {
		t.Fatalf("want 1 commit, got %d", n)
	}
	// Once the aggregate has moved on, a late repeat still finds the
	// original and writes nothing, whether or not the server's duplicate
	// window still holds the id.
	mustAppend(t, s, a, first.Sequence, event(a, 2, "later"))
	late, err := s.Append(ctx(t), req)
	if err != nil {
		t.Fatalf("late repeat: %v", err)
	}
	if !late.Duplicate || late.Sequence != first.Sequence {
		t.Fatalf("late repeat: got %+v, want duplicate of sequence %d", late, first.Sequence)
	}
	if n := len(mustLoad(t, s, a, 0)); n != 2 {
		t.Fatalf("want 2 commits, got %d", n)
	}
}

func testInterleaved(t *testing.T, s eventstore.Store) {
	a, b := newAggregate(), newAggregate()
	var lastA, lastB uint64
	for i := 1; i <= 5; i++ {
		lastA = mustAppend(t, s, a, lastA, event(a, i, fmt.Sprint("a", i)))
		lastB = mustAppend(t, s, b, lastB, event(b, i, fmt.Sprint("b", i)))
	}
	commits := mustLoad(t, s, a, 0)
	if len(commits) != 5 {
		t.Fatalf("want 5 commits of a, got %d", len(commits))
	}
	for i, c := range commits {
		if c.Events[0].AggregateID != a.ID || c.Events[0].AggregateVersion != i+1 {
			t.Fatalf("commit %d is %s v%d", i, c.Events[0].AggregateID, c.Events[0].AggregateVersion)
		}
		if i > 0 && c.Sequence <= commits[i-1].Sequence {
			t.Fatalf("commits out of order: %d after %d", c.Sequence, commits[i-1].Sequence)
		}
	}
}

func testLoadAfter(t *testing.T, s eventstore.Store) {
	a := newAggregate()
	s1 := mustAppend(t, s, a, 0, event(a, 1, "one"))
	s2 := mustAppend(t, s, a, s1, event(a, 2, "two"))
	commits := mustLoad(t, s, a, s1)
	if len(commits) != 1 || commits[0].Sequence != s2 {
		t.Fatalf("load after %d: got %+v, want only sequence %d", s1, commits, s2)
	}
	if rest := mustLoad(t, s, a, s2); len(rest) != 0 {
		t.Fatalf("load after the last: got %d commits", len(rest))
	}
}

func testLastUnknown(t *testing.T, s eventstore.Store) {
	last, err := s.Last(ctx(t), newAggregate())
	if err != nil || last != nil {
		t.Fatalf("last of unknown aggregate: %+v, %v", last, err)
	}
	if commits := mustLoad(t, s, newAggregate(), 0); len(commits) != 0 {
		t.Fatalf("load of unknown aggregate: %d commits", len(commits))
	}
}

func testInvalidAggregate(t *testing.T, s eventstore.Store) {
	for _, a := range []eventstore.Aggregate{{Type: "thing", ID: "a.b"}, {Type: "thing", ID: "*"}, {Type: "thing", ID: ">"}, {Type: "", ID: "x"}, {Type: "thing", ID: "a b"}} {
		if _, err := s.Append(ctx(t), eventstore.AppendRequest{Aggregate: a, Events: []eventstore.Envelope{event(a, 1, "x")}}); err == nil {
			t.Errorf("append to %q was accepted", a)
		}
		if _, err := s.Load(ctx(t), a, 0); err == nil {
			t.Errorf("load of %q was accepted", a)
		}
	}
}

func testEmptyAppend(t *testing.T, s eventstore.Store) {
	if _, err := s.Append(ctx(t), eventstore.AppendRequest{Aggregate: newAggregate()}); err == nil {
		t.Fatal("an append without events was accepted")
	}
}
