// Package peersupport carries out peer-support commands: load the request
// from the log, decide, append. A request is an aggregate of its own
// (peer_support), never part of a signal's history.
package peersupport

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

// Service decides and appends peer-support commands.
type Service struct {
	log   eventstore.Store
	codec *projections.Codec
	now   func() time.Time
}

// New returns the service; now defaults to time.Now.
func New(log eventstore.Store, codec *projections.Codec, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{log: log, codec: codec, now: now}
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Result says where a command's events were stored.
type Result struct {
	ID       uuid.UUID
	Version  int
	Sequence uint64
}

const maxAttempts = 8

// Execute decides cmd on the request with the id and appends the events.
// actor is the person recorded with the events (sealed by the codec).
func (s *Service) Execute(ctx context.Context, id uuid.UUID, cmd domain.Command, actor, correlationID string) (Result, error) {
	agg := eventstore.Aggregate{Type: projections.AggregatePeerSupport, ID: id.String()}
	for range maxAttempts {
		commits, err := s.log.Load(ctx, agg, 0)
		if err != nil {
			return Result{}, fmt.Errorf("peer support %s: load: %w", id, err)
		}
		var state domain.PeerSupportRequest
		var seq uint64
		for _, c := range commits {
			events, err := s.codec.Decode(ctx, c)
			if err != nil {
				return Result{}, fmt.Errorf("peer support %s: decode: %w", id, err)
			}
			for _, e := range events {
				state = domain.EvolvePeerSupport(state, e.Data)
			}
			seq = c.Sequence
		}
		events, err := domain.DecidePeerSupport(state, cmd)
		if err != nil {
			return Result{}, err
		}
		now := s.now().UTC()
		envs, err := s.codec.Encode(ctx, eventstore.Envelope{
			AggregateType: agg.Type, AggregateID: agg.ID, OccurredAt: now, RecordedAt: now,
			Actor: actor, CorrelationID: correlationID,
		}, state.Version, events)
		if err != nil {
			return Result{}, fmt.Errorf("peer support %s: encode: %w", id, err)
		}
		for i := range envs {
			if envs[i].ID, err = uuid.NewV7(); err != nil {
				return Result{}, fmt.Errorf("peer support %s: event id: %w", id, err)
			}
		}
		res, err := s.log.Append(ctx, eventstore.AppendRequest{Aggregate: agg, ExpectedSequence: seq, Events: envs})
		if errors.Is(err, eventstore.ErrConflict) {
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("peer support %s: append: %w", id, err)
		}
		return Result{ID: id, Version: state.Version + len(events), Sequence: res.Sequence}, nil
	}
	return Result{}, fmt.Errorf("peer support %s: %w", id, eventstore.ErrConflict)
}
