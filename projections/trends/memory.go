package trends

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/projections"
)

// Memory is the in-memory cube, rebuilt from the log at every start. It
// keeps the current counts per cell and, for AsOf, every change with the
// time its event was recorded.
type Memory struct {
	mu         sync.RWMutex
	tracker    *Tracker
	counts     map[Fact]int
	changes    []Change
	checkpoint uint64
}

// NewMemory returns an empty cube.
func NewMemory() *Memory {
	return &Memory{tracker: NewTracker(), counts: map[Fact]int{}}
}

var _ Store = (*Memory)(nil)

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
	// Check ids before taking the lock, so that a bad batch changes nothing.
	for _, e := range batch {
		if e.Envelope.AggregateType != projections.AggregateSignal {
			continue
		}
		if _, err := uuid.Parse(e.Envelope.AggregateID); err != nil {
			return fmt.Errorf("trends: sequence %d: aggregate id: %w", e.Sequence, err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range batch {
		changes, err := m.tracker.Apply(e)
		if err != nil {
			return err
		}
		for _, c := range changes {
			m.counts[c.Fact] += c.Delta
			if m.counts[c.Fact] == 0 {
				delete(m.counts, c.Fact)
			}
		}
		m.changes = append(m.changes, changes...)
	}
	m.checkpoint = through
	return nil
}

// Query implements Store.
func (m *Memory) Query(ctx context.Context, q Query) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if q.AsOf == 0 {
		return Aggregate(q, m.counts), nil
	}
	end := (q.AsOf + 1).Time()
	counts := map[Fact]int{}
	for _, c := range m.changes {
		if !c.At.Before(end) {
			// Changes are in log order, and the log's recorded times
			// only grow (up to clock steps between replicas; a change
			// recorded out of order is still skipped, not counted).
			continue
		}
		counts[c.Fact] += c.Delta
	}
	return Aggregate(q, counts), nil
}
