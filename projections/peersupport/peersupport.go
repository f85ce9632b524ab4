// Package peersupport is the read model of peer-support requests: the
// inbox of an organisation's peer-support contacts. It folds only the
// peer_support aggregate and is shown to no other role.
package peersupport

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections"
)

// Name is the projection's name.
const Name = "peer_support"

// View is one request as the read side holds it.
type View struct {
	domain.PeerSupportRequest
	// Sequence is the stream sequence of the last commit folded in.
	Sequence uint64
}

// Store holds the read model. Requests are confidential: a store answers
// no other query than these. The contract suite in peersupporttest keeps
// every implementation alike.
type Store interface {
	projections.Projection
	// Get returns a request, or false when the read model does not hold it.
	Get(ctx context.Context, id uuid.UUID) (View, bool, error)
	// Inbox returns an organisation's requests, newest first.
	Inbox(ctx context.Context, org string) ([]View, error)
	// ByRequester returns the ids of the requests a person made, newest
	// first, for their erasure; a request whose requester was erased
	// names no one and never matches.
	ByRequester(ctx context.Context, subject string) ([]uuid.UUID, error)
	// BySupporter returns the ids of the requests a person acknowledged
	// as supporter, newest first (not those whose supporter was erased),
	// for their erasure.
	BySupporter(ctx context.Context, subject string) ([]uuid.UUID, error)
}

// Memory is the in-memory store, rebuilt from the log at every start.
type Memory struct {
	mu         sync.RWMutex
	requests   map[uuid.UUID]View
	byOrg      map[string][]uuid.UUID
	checkpoint uint64
}

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{requests: map[uuid.UUID]View{}, byOrg: map[string][]uuid.UUID{}}
}

// Name implements projections.Projection.
func (m *Memory) Name() string { return Name }

// Checkpoint implements projections.Projection.
func (m *Memory) Checkpoint(context.Context) (uint64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.checkpoint, nil
}

// RequestID returns the id of the request an event belongs to.
func RequestID(e projections.Event) (uuid.UUID, error) {
	id, err := uuid.Parse(e.Envelope.AggregateID)
	if err != nil {
		return uuid.Nil, fmt.Errorf("peer support: sequence %d: aggregate id: %w", e.Sequence, err)
	}
	return id, nil
}

// Apply implements projections.Projection. Events at or below the
// checkpoint were folded in already (a redelivery) and are skipped.
func (m *Memory) Apply(_ context.Context, batch []projections.Event, through uint64) error {
	ids := make([]uuid.UUID, len(batch))
	for i, e := range batch {
		if e.Envelope.AggregateType != projections.AggregatePeerSupport {
			continue
		}
		id, err := RequestID(e)
		if err != nil {
			return err
		}
		ids[i] = id
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, e := range batch {
		if e.Envelope.AggregateType != projections.AggregatePeerSupport || e.Sequence <= m.checkpoint {
			continue
		}
		old, existed := m.requests[ids[i]]
		v := View{PeerSupportRequest: domain.EvolvePeerSupport(old.PeerSupportRequest, e.Data), Sequence: e.Sequence}
		m.requests[ids[i]] = v
		if !existed && v.Organisation != "" {
			m.byOrg[v.Organisation] = append(m.byOrg[v.Organisation], ids[i])
		}
	}
	m.checkpoint = max(m.checkpoint, through)
	return nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, id uuid.UUID) (View, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.requests[id]
	return v, ok, nil
}

// Inbox implements Store.
func (m *Memory) Inbox(_ context.Context, org string) ([]View, error) {
	m.mu.RLock()
	out := make([]View, 0, len(m.byOrg[org]))
	for _, id := range m.byOrg[org] {
		out = append(out, m.requests[id])
	}
	m.mu.RUnlock()
	SortNewestFirst(out)
	return out, nil
}

// ByRequester implements Store.
func (m *Memory) ByRequester(_ context.Context, subject string) ([]uuid.UUID, error) {
	return m.idsWhere(func(v View) bool { return subject != "" && v.Requester == subject && !v.RequesterErased }), nil
}

// BySupporter implements Store.
func (m *Memory) BySupporter(_ context.Context, subject string) ([]uuid.UUID, error) {
	return m.idsWhere(func(v View) bool { return subject != "" && v.AcknowledgedBy == subject && !v.SupporterErased }), nil
}

// idsWhere returns the ids of the requests that match, newest first.
func (m *Memory) idsWhere(match func(View) bool) []uuid.UUID {
	var vs []View
	m.mu.RLock()
	for _, v := range m.requests {
		if match(v) {
			vs = append(vs, v)
		}
	}
	m.mu.RUnlock()
	SortNewestFirst(vs)
	out := make([]uuid.UUID, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}

// SortNewestFirst orders requests as the inbox shows them: newest first,
// ties by id, descending.
func SortNewestFirst(vs []View) {
	slices.SortFunc(vs, func(a, b View) int {
		return cmp.Or(b.RequestedAt.Compare(a.RequestedAt), cmp.Compare(b.ID.String(), a.ID.String()))
	})
}
