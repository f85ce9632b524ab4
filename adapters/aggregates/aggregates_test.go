package aggregates_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/adapters/lessons"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/eventstore/jstest"
	"github.com/safesignal/safesignal/projections"
)

// TestConcurrentCommands: commands racing on one aggregate on a real
// JetStream all land, each decided on the state the other left (the loser
// of a race loads again), and a refusal stores nothing.
func TestConcurrentCommands(t *testing.T) {
	t.Parallel()
	srv := jstest.Start(t)
	_, js := srv.JetStream(t)
	ctx := context.Background()
	log, err := eventstore.Open(ctx, js, eventstore.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	codec, err := projections.OpenCodec(ctx, js, bytes.Repeat([]byte{3}, 32), 1)
	if err != nil {
		t.Fatal(err)
	}
	svc := lessons.New(log, codec, func() time.Time { return time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC) })
	id := uuid.New()
	publish := domain.PublishLesson{LessonID: id, Kind: domain.LessonGoodPractice, Organisation: "umc-utrecht", Language: "en", At: svc.Now(),
		Text: domain.LessonText{Title: "t", WhatHappened: "w", WhatWasLearned: "l"}}
	if res, err := svc.Execute(ctx, id, publish, "olga", "c1"); err != nil || res.Version != 1 {
		t.Fatalf("publish: %+v %v", res, err)
	}
	if _, err := svc.Execute(ctx, id, publish, "olga", "c2"); !errors.Is(err, domain.ErrIllegalTransition) {
		t.Fatalf("publish again: %v", err)
	}
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = svc.Execute(ctx, id, domain.MarkLessonApplied{Organisation: fmt.Sprintf("org-%d", i), At: svc.Now()}, "cora", "c3")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("applied by org-%d: %v", i, err)
		}
	}
	state, _, err := svc.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if state.Version != n+1 || len(state.AppliedBy) != n {
		t.Fatalf("state after the race: version %d, applied by %v", state.Version, state.AppliedBy)
	}
	commits, err := log.Load(ctx, eventstore.Aggregate{Type: projections.AggregateLesson, ID: id.String()}, 0)
	if err != nil || len(commits) != n+1 {
		t.Fatalf("%d commits, want %d (%v)", len(commits), n+1, err)
	}
	for i, c := range commits {
		if c.Events[0].AggregateVersion != i+1 {
			t.Errorf("commit %d holds version %d", i, c.Events[0].AggregateVersion)
		}
	}
}
