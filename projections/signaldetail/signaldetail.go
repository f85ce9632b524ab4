// Package signaldetail is the read model of one signal with all its
// fields, status, version and timestamps, folded from the log.
package signaldetail

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"
	"time"

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
	// Triage returns one page of an organisation's triage board and the
	// number of rows that match the filter.
	Triage(ctx context.Context, org string, f TriageFilter, now time.Time) ([]TriageRow, int, error)
	// ReportedBy returns a named reporter's signals, newest first.
	ReportedBy(ctx context.Context, reporter string) ([]View, error)
	// EscalationsFor returns the escalations addressed to a recipient,
	// newest first.
	EscalationsFor(ctx context.Context, r domain.Recipient) ([]EscalationItem, error)
	// ServiceLevels returns an organisation's response times.
	ServiceLevels(ctx context.Context, org string) (ServiceLevels, error)
	// Due returns what needs a reminder: escalations still open that were
	// sent before escalatedBefore, and pending regulatory deadlines due
	// before dueBefore.
	Due(ctx context.Context, escalatedBefore, dueBefore time.Time) ([]DueItem, error)
	// Export yields an organisation's signals that match the filter,
	// oldest report first (ties by id), for a bulk export. It stops at the
	// first error, which it yields, and when the consumer stops. A store
	// that can page does, so that a large export is never held whole.
	Export(ctx context.Context, org string, f ExportFilter) iter.Seq2[View, error]
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

// Memory is the in-memory store, rebuilt from the log at every start. It
// keeps indexes for the queries of the triage board (by organisation), the
// reporters' own lists (by reporter) and the escalation inboxes (signals
// with escalations).
type Memory struct {
	mu         sync.RWMutex
	signals    map[uuid.UUID]View
	byOrg      map[string]map[uuid.UUID]struct{}
	byReporter map[string]map[uuid.UUID]struct{}
	escalated  map[uuid.UUID]struct{}
	deadlines  map[uuid.UUID]struct{}
	checkpoint uint64
}

// NewMemory returns an empty memory store.
func NewMemory() *Memory {
	return &Memory{
		signals:    map[uuid.UUID]View{},
		byOrg:      map[string]map[uuid.UUID]struct{}{},
		byReporter: map[string]map[uuid.UUID]struct{}{},
		escalated:  map[uuid.UUID]struct{}{},
		deadlines:  map[uuid.UUID]struct{}{},
	}
}

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
		old := m.signals[ids[i]]
		v := Fold(old, e)
		m.signals[ids[i]] = v
		if old.Reporter != "" && old.Reporter != v.Reporter {
			delete(m.byReporter[old.Reporter], v.ID)
		}
		index(m.byOrg, v.Organisation, v.ID)
		if v.Reporter != "" {
			index(m.byReporter, v.Reporter, v.ID)
		}
		if len(v.Escalations) > 0 {
			m.escalated[v.ID] = struct{}{}
		}
		if v.Regulatory.Pending() {
			m.deadlines[v.ID] = struct{}{}
		} else {
			delete(m.deadlines, v.ID)
		}
	}
	m.checkpoint = through
	return nil
}

func index(idx map[string]map[uuid.UUID]struct{}, key string, id uuid.UUID) {
	set, ok := idx[key]
	if !ok {
		set = map[uuid.UUID]struct{}{}
		idx[key] = set
	}
	set[id] = struct{}{}
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

// Triage implements Store.
func (m *Memory) Triage(_ context.Context, org string, f TriageFilter, now time.Time) ([]TriageRow, int, error) {
	m.mu.RLock()
	rows := make([]TriageRow, 0, len(m.byOrg[org]))
	for id := range m.byOrg[org] {
		if v := m.signals[id]; f.match(v, now) {
			rows = append(rows, TriageRowOf(v, now))
		}
	}
	m.mu.RUnlock()
	sortTriage(rows, f.Sort)
	total := len(rows)
	return page(rows, f.Offset, f.Limit), total, nil
}

// ReportedBy implements Store.
func (m *Memory) ReportedBy(_ context.Context, reporter string) ([]View, error) {
	m.mu.RLock()
	out := make([]View, 0, len(m.byReporter[reporter]))
	for id := range m.byReporter[reporter] {
		out = append(out, m.signals[id])
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b View) int { return b.ReportedAt.Compare(a.ReportedAt) })
	return out, nil
}

// EscalationsFor implements Store.
func (m *Memory) EscalationsFor(_ context.Context, r domain.Recipient) ([]EscalationItem, error) {
	m.mu.RLock()
	var out []EscalationItem
	for id := range m.escalated {
		out = append(out, EscalationsOf(m.signals[id], r)...)
	}
	m.mu.RUnlock()
	SortEscalations(out)
	return out, nil
}

// EscalationsOf returns the escalations of v addressed to r.
func EscalationsOf(v View, r domain.Recipient) []EscalationItem {
	var out []EscalationItem
	for _, e := range v.Escalations {
		if v.Addresses(e.ID, r) {
			out = append(out, EscalationItemOf(v, e, r))
		}
	}
	return out
}

// SortEscalations orders an inbox newest first.
func SortEscalations(items []EscalationItem) {
	slices.SortFunc(items, func(a, b EscalationItem) int {
		return cmp.Or(b.EscalatedAt.Compare(a.EscalatedAt), cmp.Compare(a.EscalationID.String(), b.EscalationID.String()))
	})
}

// ServiceLevels implements Store.
func (m *Memory) ServiceLevels(_ context.Context, org string) (ServiceLevels, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	sl := ServiceLevels{Organisation: org}
	var ack, fb []time.Duration
	for id := range m.byOrg[org] {
		v := m.signals[id]
		sl.Signals++
		if !v.AcknowledgedAt.IsZero() {
			ack = append(ack, v.AcknowledgedAt.Sub(v.ReportedAt))
		}
		if len(v.Feedback) > 0 {
			fb = append(fb, v.Feedback[0].SentAt.Sub(v.ReportedAt))
		}
	}
	sl.Acknowledged, sl.WithFeedback = len(ack), len(fb)
	sl.MedianSecondsToAcknowledge, sl.MedianSecondsToFirstFeedback = Median(ack), Median(fb)
	return sl, nil
}

// Export implements Store. It yields from a snapshot taken under the read
// lock, so that a slow consumer never holds up the projection.
func (m *Memory) Export(ctx context.Context, org string, f ExportFilter) iter.Seq2[View, error] {
	return func(yield func(View, error) bool) {
		m.mu.RLock()
		views := make([]View, 0, len(m.byOrg[org]))
		for id := range m.byOrg[org] {
			if v := m.signals[id]; f.match(v) {
				views = append(views, v)
			}
		}
		m.mu.RUnlock()
		slices.SortFunc(views, func(a, b View) int {
			return cmp.Or(a.ReportedAt.Compare(b.ReportedAt), bytes.Compare(a.ID[:], b.ID[:]))
		})
		for _, v := range views {
			if err := ctx.Err(); err != nil {
				yield(View{}, fmt.Errorf("export %s: %w", org, err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// Due implements Store.
func (m *Memory) Due(_ context.Context, escalatedBefore, dueBefore time.Time) ([]DueItem, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []DueItem
	for id := range m.escalated {
		out = append(out, DueOf(m.signals[id], escalatedBefore, dueBefore)...)
	}
	for id := range m.deadlines {
		if _, both := m.escalated[id]; !both {
			out = append(out, DueOf(m.signals[id], escalatedBefore, dueBefore)...)
		}
	}
	return out, nil
}

// DueOf returns the reminders due for v: escalations still open that were
// sent before escalatedBefore (unless the signal was rejected or is a
// duplicate), and a pending regulatory deadline due before dueBefore.
func DueOf(v View, escalatedBefore, dueBefore time.Time) []DueItem {
	var out []DueItem
	if v.Status != domain.StatusRejected && v.Status != domain.StatusDuplicate {
		for _, e := range v.Escalations {
			if e.State() == domain.EscalationStateOpen && e.EscalatedAt.Before(escalatedBefore) {
				out = append(out, DueItem{Kind: DueEscalation, Signal: v, Escalation: e})
			}
		}
	}
	if v.Regulatory.Pending() && v.Regulatory.DueAt.Before(dueBefore) {
		out = append(out, DueItem{Kind: DueDeadline, Signal: v})
	}
	return out
}

func page[T any](rows []T, offset, limit int) []T {
	if offset >= len(rows) {
		return []T{}
	}
	rows = rows[offset:]
	if limit > 0 && limit < len(rows) {
		rows = rows[:limit]
	}
	return rows
}

// EscalationItemOf is escalation e of signal v as recipient r sees it.
func EscalationItemOf(v View, e domain.Escalation, r domain.Recipient) EscalationItem {
	item := EscalationItem{
		SignalID: v.ID, Version: v.Version, EscalationID: e.ID, From: v.Organisation, FromRegion: v.Region,
		Specialty: v.Specialty, Kind: v.Kind, Category: v.Category, Harm: v.Harm,
		Message: e.Message, Summary: e.Summary, EscalatedAt: e.EscalatedAt, State: e.State(), Answers: len(e.Receipts),
	}
	if rec, ok := e.Receipt(r.Organisation); ok {
		item.Mine = &rec
	}
	return item
}
