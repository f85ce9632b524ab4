package domain

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// Erasure (GDPR Art. 17) is not a step of the lifecycle: an administrator
// erases a signal's free text, or a reporter's identity, in whatever status
// the signal is. The events say so in the log; the data itself becomes
// unreadable because its data key is destroyed (crypto-shredding). The
// signal's classification stays, so aggregates do not change.

// Erasure command names.
const (
	CommandEraseContent  = "erase-content"
	CommandEraseReporter = "erase-reporter"
)

// Erasure event type names.
const (
	EventSignalContentErased    = "SignalContentErased"
	EventReporterIdentityErased = "ReporterIdentityErased"
)

// ErasureEventTypes lists the erasure events. They are not in EventTypes,
// which is the lifecycle's.
func ErasureEventTypes() []string {
	return []string{EventSignalContentErased, EventReporterIdentityErased}
}

// EraseContent erases the signal's free text.
type EraseContent struct {
	At time.Time
}

// CommandName implements Command.
func (EraseContent) CommandName() string { return CommandEraseContent }

// EraseReporter erases the identity of the signal's reporter.
type EraseReporter struct {
	At time.Time
}

// CommandName implements Command.
func (EraseReporter) CommandName() string { return CommandEraseReporter }

// SignalContentErased records that the signal's free text was erased.
type SignalContentErased struct {
	SignalID uuid.UUID `json:"signalId"`
	ErasedAt time.Time `json:"erasedAt"`
}

// EventType implements Event.
func (SignalContentErased) EventType() string { return EventSignalContentErased }

// ReporterIdentityErased records that the reporter's identity was erased.
type ReporterIdentityErased struct {
	SignalID uuid.UUID `json:"signalId"`
	ErasedAt time.Time `json:"erasedAt"`
}

// EventType implements Event.
func (ReporterIdentityErased) EventType() string { return EventReporterIdentityErased }

func decideEraseContent(s Signal, c EraseContent) ([]Event, error) {
	if !s.Exists() {
		return nil, &TransitionError{Command: c.CommandName(), Status: s.Status, Cause: ErrNotFound}
	}
	if s.ContentErased {
		return nil, refuse(s, c.CommandName(), "the content was erased already")
	}
	var fe fieldErrors
	validateAt(&fe, c.At)
	if err := fe.err(); err != nil {
		return nil, err
	}
	return []Event{SignalContentErased{SignalID: s.ID, ErasedAt: c.At.UTC()}}, nil
}

func decideEraseReporter(s Signal, c EraseReporter) ([]Event, error) {
	if !s.Exists() {
		return nil, &TransitionError{Command: c.CommandName(), Status: s.Status, Cause: ErrNotFound}
	}
	if s.Reporter == "" {
		return nil, refuse(s, c.CommandName(), "the signal names no reporter")
	}
	var fe fieldErrors
	validateAt(&fe, c.At)
	if err := fe.err(); err != nil {
		return nil, err
	}
	return []Event{ReporterIdentityErased{SignalID: s.ID, ErasedAt: c.At.UTC()}}, nil
}

// evolveErasure clears what an erasure removed, copying every slice it
// changes so that a state shared with others stays as it was.
func evolveErasure(s Signal, e Event) Signal {
	switch e := e.(type) {
	case SignalContentErased:
		s.ContentErased = true
		s.Description, s.ImmediateActions = "", ""
		s.Rejection.Text, s.Closure.Summary = "", ""
		fb := slices.Clone(s.Feedback)
		for i := range fb {
			fb[i].Message = ""
		}
		s.Feedback = fb
		qs := slices.Clone(s.Questions)
		for i := range qs {
			qs[i].Text, qs[i].Reply = "", ""
		}
		s.Questions = qs
		escs := slices.Clone(s.Escalations)
		for i := range escs {
			escs[i].Message, escs[i].Summary = "", ""
			recs := slices.Clone(escs[i].Receipts)
			for j := range recs {
				recs[j].Text = ""
			}
			escs[i].Receipts = recs
		}
		s.Escalations = escs
		s.UpdatedAt = e.ErasedAt
	case ReporterIdentityErased:
		s.ReporterErased = true
		s.Reporter = ""
		s.UpdatedAt = e.ErasedAt
	}
	return s
}
