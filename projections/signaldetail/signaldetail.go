// Package signaldetail is the read model of one signal with all its
// fields, status, version and timestamps, folded from the log.
package signaldetail

import (
	"context"
	"sync"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections"
)

// Name is the projection's name.
const Name = "signal_detail"

// View is one signal as the read side shows it.
type View struct {
	domain.Signal
	// Sequence is the stream sequence of the last commit folded in.
	Sequence uint64
}

// Store holds the read model. A PostgreSQL store implements it too; the
// contract suite in signaldetailtest keeps them alike.
type Store interface {
	projections.Projection
	// Get returns the signal, or false when the read model does not hold it.
	Get(ctx context.Context, id uuid.UUID) (View, bool, error)
}

// Fold applies one event to the view of its signal. The detail view keeps
// the decider's own state, so the read side cannot drift from what
// commands are decided on.
func Fold(v View, e projections.Event) View {
	v.Signal = domain.Evolve(v.Signal, e.Data)
	v.Sequence = e.Sequence
	return v
}

// SignalID returns the id of the signal an event belongs to.
func SignalID(e projections.Event) (uuid.UUID, error) {
	return uuid.Parse(e.Envelope.AggregateID)
}

// Memory is the in-memory store, rebuilt from the log at every start.
type Memory struct {
	mu         sync.RWMutex
	signals    map[uuid.UUID]View
	checkpoint uint64
}

// NewMemory returns an empty memory store.
func NewMemory() *Memory { return &Memory{signals: map[uuid.UUID]View{}} }

// Name implements projections.Projection.
func (m *Memory) Name() string { return Name }

// Checkpoint implements projections.Projection.
func (m *Memory) Checkpoint(context.Context) (uint64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.checkpoint, nil
}

// Apply implements projections.Projection.
func (m *Memory) Apply(_ context.Context, batch []projections.Event, through uint64) error {
	// Parse ids before taking the lock, so a bad one changes nothing.
	ids := make([]uuid.UUID, len(batch))
	for i, e := range batch {
		if e.Envelope.AggregateType != projections.AggregateSignal {
			continue
		}
		id, err := SignalID(e)
		if err != nil {
			return err
		}
		ids[i] = id
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, e := range batch {
		if e.Envelope.AggregateType != projections.AggregateSignal {
			continue
		}
		m.signals[ids[i]] = Fold(m.signals[ids[i]], e)
	}
	m.checkpoint = through
	return nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, id uuid.UUID) (View, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.signals[id]
	return v, ok, nil
}

// Len is the number of signals held.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.signals)
}
