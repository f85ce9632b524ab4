// Package projections builds Safesignal's read models from the event log
// alone: the codec between domain events and the log, the runner that feeds
// a read model from a durable consumer, and (in sub-packages) one package
// per read model with its memory store.
package projections

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
)

// AggregateSignal is the aggregate type of signals in the log.
const AggregateSignal = "signal"

// NewRegistry registers every domain event type at its current schema
// version, with the upcasters of older versions.
func NewRegistry() (*eventstore.Registry, error) {
	r := eventstore.NewRegistry()
	errs := []error{
		eventstore.Register[domain.SignalReported](r, domain.EventSignalReported, 1),
		eventstore.Register[domain.SignalAcknowledged](r, domain.EventSignalAcknowledged, 1),
		eventstore.Register[domain.SignalClassified](r, domain.EventSignalClassified, 1),
		eventstore.Register[domain.RegulatoryDeadlineSet](r, domain.EventRegulatoryDeadlineSet, 1),
		eventstore.Register[domain.SignalRejected](r, domain.EventSignalRejected, 1),
		eventstore.Register[domain.SignalMarkedDuplicate](r, domain.EventSignalMarkedDuplicate, 1),
		eventstore.Register[domain.SignalEscalated](r, domain.EventSignalEscalated, 1),
		eventstore.Register[domain.EscalationAcknowledged](r, domain.EventEscalationAcknowledged, 1),
		eventstore.Register[domain.EscalationResponded](r, domain.EventEscalationResponded, 1),
		eventstore.Register[domain.FeedbackSent](r, domain.EventFeedbackSent, 1),
		eventstore.Register[domain.SignalClosed](r, domain.EventSignalClosed, 1),
		eventstore.Register[domain.SignalReopened](r, domain.EventSignalReopened, 1),
		eventstore.Register[domain.RegulatorNotified](r, domain.EventRegulatorNotified, 1),
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("register domain events: %w", err)
	}
	return r, nil
}

// Event is one decoded event of the log with where it was stored.
type Event struct {
	// Sequence is the stream sequence of the commit holding the event.
	Sequence uint64
	Envelope eventstore.Envelope
	// Data is the decoded domain event.
	Data domain.Event
}

// Decode turns a commit into its domain events.
func Decode(r *eventstore.Registry, c eventstore.Commit) ([]Event, error) {
	out := make([]Event, 0, len(c.Events))
	for _, env := range c.Events {
		v, err := r.Decode(env)
		if err != nil {
			return nil, fmt.Errorf("commit %d: %w", c.Sequence, err)
		}
		e, ok := v.(domain.Event)
		if !ok {
			return nil, fmt.Errorf("commit %d: event %s of type %s is not a domain event", c.Sequence, env.ID, env.Type)
		}
		out = append(out, Event{Sequence: c.Sequence, Envelope: env, Data: e})
	}
	return out, nil
}

// Encode wraps domain events in envelopes, numbering them from the
// aggregate's current version.
func Encode(r *eventstore.Registry, meta eventstore.Envelope, version int, events []domain.Event) ([]eventstore.Envelope, error) {
	out := make([]eventstore.Envelope, 0, len(events))
	for i, e := range events {
		schema, ok := r.Version(e.EventType())
		if !ok {
			return nil, fmt.Errorf("encode %s: event type not registered", e.EventType())
		}
		data, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
		}
		env := meta
		env.Type = e.EventType()
		env.SchemaVersion = schema
		env.AggregateVersion = version + i + 1
		env.Data = data
		out = append(out, env)
	}
	return out, nil
}
