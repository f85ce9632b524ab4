package domain

import (
	"time"

	"github.com/google/uuid"
)

// A peer-support request is an aggregate of its own, beside signals: a
// clinician asks the organisation's peer-support contacts for support after
// an incident. It names no signal, so that neither the signal's history nor
// anyone who reads it learns that support was asked for, and the request
// cannot tie a person to an anonymous signal.

// Peer-support event types.
const (
	EventPeerSupportRequestOpened       = "PeerSupportRequestOpened"
	EventPeerSupportRequestAcknowledged = "PeerSupportRequestAcknowledged"
	EventPeerSupportRequesterErased     = "PeerSupportRequesterErased"
	EventPeerSupportSupporterErased     = "PeerSupportSupporterErased"
)

// PeerSupportEventTypes lists the event types of peer-support requests.
func PeerSupportEventTypes() []string {
	return []string{EventPeerSupportRequestOpened, EventPeerSupportRequestAcknowledged, EventPeerSupportRequesterErased, EventPeerSupportSupporterErased}
}

// Peer-support command names.
const (
	CommandRequestPeerSupport     = "request-peer-support"
	CommandAcknowledgePeerSupport = "acknowledge-peer-support"
	CommandErasePeerSupport       = "erase-peer-support-requester"
	CommandErasePeerSupporter     = "erase-peer-supporter"
)

const peerSupportAggregate = "peer-support request"

// Peer-support sources: how the request was made.
const (
	PeerSupportAtFiling = "filing"
	PeerSupportDirect   = "direct"
)

// PeerSupportRequest is the state of one request.
type PeerSupportRequest struct {
	ID           uuid.UUID
	Version      int
	Organisation string
	Requester    string
	Contact      string
	Message      string
	Source       string
	RequestedAt  time.Time
	// AcknowledgedAt and AcknowledgedBy record the first contact.
	AcknowledgedAt time.Time
	AcknowledgedBy string
	// RequesterErased is set once the requester was erased (GDPR Art.
	// 17): Requester, Contact and Message are empty for good.
	RequesterErased bool
	// SupporterErased is set once the supporter who acknowledged the
	// request was erased: AcknowledgedBy is empty for good, the time of
	// the first contact stays.
	SupporterErased bool
}

// Exists reports whether the request was made.
func (r PeerSupportRequest) Exists() bool { return !r.RequestedAt.IsZero() }

// RequestPeerSupport opens a request.
type RequestPeerSupport struct {
	RequestID    uuid.UUID
	Organisation string
	Requester    string
	// Contact is how the requester wants to be reached (optional).
	Contact string
	// Message is what the requester wants to say (optional).
	Message string
	Source  string
	At      time.Time
}

// CommandName implements Command.
func (RequestPeerSupport) CommandName() string { return CommandRequestPeerSupport }

// AcknowledgePeerSupport records that a peer supporter took the request up
// (the first contact).
type AcknowledgePeerSupport struct {
	Supporter string
	At        time.Time
}

// CommandName implements Command.
func (AcknowledgePeerSupport) CommandName() string { return CommandAcknowledgePeerSupport }

// ErasePeerSupportRequester erases the requester from the request: their
// name, and the contact and message, which identify them too. The
// acknowledgement (who took it up, and when) stays.
type ErasePeerSupportRequester struct {
	At time.Time
}

// CommandName implements Command.
func (ErasePeerSupportRequester) CommandName() string { return CommandErasePeerSupport }

// ErasePeerSupporter erases the supporter who acknowledged the request:
// their name. When the first contact was made stays.
type ErasePeerSupporter struct {
	At time.Time
}

// CommandName implements Command.
func (ErasePeerSupporter) CommandName() string { return CommandErasePeerSupporter }

// PeerSupportRequestOpened records a request. Requester, contact and
// message are sealed: the first with the person's key, the others with the
// request's own key.
type PeerSupportRequestOpened struct {
	RequestID    uuid.UUID `json:"requestId"`
	Organisation string    `json:"organisation"`
	Requester    string    `json:"requester" sensitive:"reporter"`
	Contact      string    `json:"contact,omitempty" sensitive:"signal"`
	Message      string    `json:"message,omitempty" sensitive:"signal"`
	Source       string    `json:"source"`
	RequestedAt  time.Time `json:"requestedAt"`
}

// EventType implements Event.
func (PeerSupportRequestOpened) EventType() string { return EventPeerSupportRequestOpened }

// PeerSupportRequestAcknowledged records the first contact.
type PeerSupportRequestAcknowledged struct {
	RequestID      uuid.UUID `json:"requestId"`
	Supporter      string    `json:"supporter" sensitive:"reporter"`
	AcknowledgedAt time.Time `json:"acknowledgedAt"`
}

// EventType implements Event.
func (PeerSupportRequestAcknowledged) EventType() string {
	return EventPeerSupportRequestAcknowledged
}

// PeerSupportRequesterErased records that the requester was erased from
// the request. It carries nothing sensitive: the data itself becomes
// unreadable when the request's and the person's data keys are destroyed.
type PeerSupportRequesterErased struct {
	RequestID uuid.UUID `json:"requestId"`
	ErasedAt  time.Time `json:"erasedAt"`
}

// EventType implements Event.
func (PeerSupportRequesterErased) EventType() string { return EventPeerSupportRequesterErased }

// PeerSupportSupporterErased records that the supporter who acknowledged
// the request was erased. Their name becomes unreadable when their data
// key is destroyed.
type PeerSupportSupporterErased struct {
	RequestID uuid.UUID `json:"requestId"`
	ErasedAt  time.Time `json:"erasedAt"`
}

// EventType implements Event.
func (PeerSupportSupporterErased) EventType() string { return EventPeerSupportSupporterErased }

// DecidePeerSupport decides a command on a request.
func DecidePeerSupport(r PeerSupportRequest, c Command) ([]Event, error) {
	switch c := c.(type) {
	case RequestPeerSupport:
		if r.Exists() {
			return nil, &TransitionError{Command: c.CommandName(), Reason: "the request was already made", Aggregate: peerSupportAggregate}
		}
		var fe fieldErrors
		validateAt(&fe, c.At)
		if c.RequestID == uuid.Nil {
			fe.add("id", "required", "a request id is required")
		}
		validateIdentifier(&fe, "organisation", c.Organisation, MaxOrganisationLength)
		switch {
		case c.Requester == "":
			fe.add("requester", "required", "peer support is asked for by name: the supporter must be able to reach the requester")
		case len(c.Requester) > MaxReporterLength:
			fe.add("requester", "too_long", "requester is longer than %d bytes", MaxReporterLength)
		}
		validateText(&fe, "contact", c.Contact, false, 200)
		validateText(&fe, "message", c.Message, false, MaxMessageLength)
		if c.Source != PeerSupportAtFiling && c.Source != PeerSupportDirect {
			fe.add("source", "invalid", "source must be %s or %s", PeerSupportAtFiling, PeerSupportDirect)
		}
		if err := fe.err(); err != nil {
			return nil, err
		}
		return []Event{PeerSupportRequestOpened{
			RequestID: c.RequestID, Organisation: c.Organisation, Requester: c.Requester, Contact: c.Contact,
			Message: c.Message, Source: c.Source, RequestedAt: c.At.UTC(),
		}}, nil
	case AcknowledgePeerSupport:
		if !r.Exists() {
			return nil, &TransitionError{Command: c.CommandName(), Cause: ErrNotFound, Aggregate: peerSupportAggregate}
		}
		if !r.AcknowledgedAt.IsZero() {
			return nil, &TransitionError{Command: c.CommandName(), Reason: "the request was already acknowledged", Aggregate: peerSupportAggregate}
		}
		var fe fieldErrors
		validateAt(&fe, c.At)
		if c.Supporter == "" {
			fe.add("supporter", "required", "the supporter is required")
		}
		if err := fe.err(); err != nil {
			return nil, err
		}
		return []Event{PeerSupportRequestAcknowledged{RequestID: r.ID, Supporter: c.Supporter, AcknowledgedAt: c.At.UTC()}}, nil
	case ErasePeerSupportRequester:
		if !r.Exists() {
			return nil, &TransitionError{Command: c.CommandName(), Cause: ErrNotFound, Aggregate: peerSupportAggregate}
		}
		if r.RequesterErased {
			return nil, &TransitionError{Command: c.CommandName(), Reason: "the requester was erased already", Aggregate: peerSupportAggregate}
		}
		var fe fieldErrors
		validateAt(&fe, c.At)
		if err := fe.err(); err != nil {
			return nil, err
		}
		return []Event{PeerSupportRequesterErased{RequestID: r.ID, ErasedAt: c.At.UTC()}}, nil
	case ErasePeerSupporter:
		switch {
		case !r.Exists():
			return nil, &TransitionError{Command: c.CommandName(), Cause: ErrNotFound, Aggregate: peerSupportAggregate}
		case r.AcknowledgedAt.IsZero():
			return nil, &TransitionError{Command: c.CommandName(), Reason: "no supporter acknowledged the request", Aggregate: peerSupportAggregate}
		case r.SupporterErased:
			return nil, &TransitionError{Command: c.CommandName(), Reason: "the supporter was erased already", Aggregate: peerSupportAggregate}
		}
		var fe fieldErrors
		validateAt(&fe, c.At)
		if err := fe.err(); err != nil {
			return nil, err
		}
		return []Event{PeerSupportSupporterErased{RequestID: r.ID, ErasedAt: c.At.UTC()}}, nil
	default:
		return nil, &TransitionError{Command: c.CommandName(), Reason: "not a peer-support command", Aggregate: peerSupportAggregate}
	}
}

// EvolvePeerSupport applies one event to a request.
func EvolvePeerSupport(r PeerSupportRequest, e Event) PeerSupportRequest {
	switch e := e.(type) {
	case PeerSupportRequestOpened:
		r = PeerSupportRequest{
			ID: e.RequestID, Organisation: e.Organisation, Requester: e.Requester, Contact: e.Contact,
			Message: e.Message, Source: e.Source, RequestedAt: e.RequestedAt,
		}
	case PeerSupportRequestAcknowledged:
		r.AcknowledgedAt, r.AcknowledgedBy = e.AcknowledgedAt, e.Supporter
	case PeerSupportRequesterErased:
		r.RequesterErased = true
		r.Requester, r.Contact, r.Message = "", "", ""
	case PeerSupportSupporterErased:
		r.SupporterErased = true
		r.AcknowledgedBy = ""
	default:
		return r
	}
	r.Version++
	return r
}

// TimeToFirstContact is how long the request waited for a supporter, or
// zero while it waits.
func (r PeerSupportRequest) TimeToFirstContact() time.Duration {
	if r.AcknowledgedAt.IsZero() {
		return 0
	}
	return r.AcknowledgedAt.Sub(r.RequestedAt)
}
