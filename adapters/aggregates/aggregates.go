// Package aggregates carries out commands on the aggregates that sit
// beside signals (peer-support requests, lessons): load the aggregate's
// commits from the log, fold, decide, append with the expected sequence,
// and on a lost race load and decide again. Signals have their own
// service (adapters/commands) with a state cache and idempotency keys.
package aggregates

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
)

// Kind describes one aggregate type to the service.
type Kind[S any] struct {
	// Type is the aggregate type in the log.
	Type    string
	Decide  func(S, domain.Command) ([]domain.Event, error)
	Evolve  func(S, domain.Event) S
	Version func(S) int
}

// Service decides and appends commands on aggregates of one kind.
type Service[S any] struct {
	log   eventstore.Store
	codec *projections.Codec
	now   func() time.Time
	kind  Kind[S]
}

// New returns the service; now defaults to time.Now.
func New[S any](log eventstore.Store, codec *projections.Codec, now func() time.Time, kind Kind[S]) *Service[S] {
	if now == nil {
		now = time.Now
	}
	return &Service[S]{log: log, codec: codec, now: now, kind: kind}
}

// Now is the service's clock.
func (s *Service[S]) Now() time.Time { return s.now() }

// Keyring is the keyring of the data keys that seal the aggregates'
// sensitive fields; an erasure destroys keys in it.
func (s *Service[S]) Keyring() eventstore.Keyring { return s.codec.Keyring() }

// Result says where a command's events were stored.
type Result struct {
	ID       uuid.UUID
	Version  int
	Sequence uint64
}

const maxAttempts = 8

// Load returns the aggregate's state and the sequence of its last commit.
func (s *Service[S]) Load(ctx context.Context, id uuid.UUID) (S, uint64, error) {
	var state S
	commits, err := s.log.Load(ctx, eventstore.Aggregate{Type: s.kind.Type, ID: id.String()}, 0)
	if err != nil {
		return state, 0, fmt.Errorf("%s %s: load: %w", s.kind.Type, id, err)
	}
	var seq uint64
	for _, c := range commits {
		events, err := s.codec.Decode(ctx, c)
		if err != nil {
			return state, 0, fmt.Errorf("%s %s: decode: %w", s.kind.Type, id, err)
		}
		for _, e := range events {
			state = s.kind.Evolve(state, e.Data)
		}
		seq = c.Sequence
	}
	return state, seq, nil
}

// Execute decides cmd on the aggregate with the id and appends the events.
// actor is the person recorded with them (sealed by the codec).
func (s *Service[S]) Execute(ctx context.Context, id uuid.UUID, cmd domain.Command, actor, correlationID string) (Result, error) {
	agg := eventstore.Aggregate{Type: s.kind.Type, ID: id.String()}
	for range maxAttempts {
		state, seq, err := s.Load(ctx, id)
		if err != nil {
			return Result{}, err
		}
		events, err := s.kind.Decide(state, cmd)
		if err != nil {
			return Result{}, err
		}
		version := s.kind.Version(state)
		now := s.now().UTC()
		envs, err := s.codec.Encode(ctx, eventstore.Envelope{
			AggregateType: agg.Type, AggregateID: agg.ID, OccurredAt: now, RecordedAt: now,
			Actor: actor, CorrelationID: correlationID,
		}, version, events)
		if err != nil {
			return Result{}, fmt.Errorf("%s %s: encode: %w", agg.Type, id, err)
		}
		for i := range envs {
			if envs[i].ID, err = uuid.NewV7(); err != nil {
				return Result{}, fmt.Errorf("%s %s: event id: %w", agg.Type, id, err)
			}
		}
		res, err := s.log.Append(ctx, eventstore.AppendRequest{Aggregate: agg, ExpectedSequence: seq, Events: envs})
		if errors.Is(err, eventstore.ErrConflict) {
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("%s %s: append: %w", agg.Type, id, err)
		}
		return Result{ID: id, Version: version + len(events), Sequence: res.Sequence}, nil
	}
	return Result{}, fmt.Errorf("%s %s: %w", agg.Type, id, eventstore.ErrConflict)
}
