// Package eventstore is Safesignal's event log: a typed envelope around every
// event, a registry of event types with upcasters, and a store on NATS
// JetStream that appends with optimistic concurrency and idempotency. It knows
// nothing of signals: aggregates are a type name and an id.
package eventstore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Envelope carries one event and what is known about it.
type Envelope struct {
	// ID identifies the event itself (UUIDv7, so ids sort by time).
	ID uuid.UUID `json:"id"`
	// Type is the registered event type name.
	Type string `json:"type"`
	// SchemaVersion is the version of Data's layout for Type.
	SchemaVersion int `json:"schemaVersion"`
	// AggregateType and AggregateID name the aggregate the event belongs to.
	AggregateType string `json:"aggregateType"`
	AggregateID   string `json:"aggregateId"`
	// AggregateVersion counts the aggregate's events: its first event is 1.
	AggregateVersion int `json:"aggregateVersion"`
	// OccurredAt is when the command that caused the event was received.
	OccurredAt time.Time `json:"occurredAt"`
	// RecordedAt is when the event was handed to the log.
	RecordedAt time.Time `json:"recordedAt"`
	// Actor is the pseudonymous id of whoever caused the event, if known.
	Actor string `json:"actor,omitempty"`
	// CorrelationID ties the event to the request or flow that caused it.
	CorrelationID string `json:"correlationId,omitempty"`
	// CausationID is the id of the event or command that caused this one.
	CausationID string `json:"causationId,omitempty"`
	// IdempotencyKey is the client's key of the command, if it sent one.
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	// Data is the event's own payload, as JSON.
	Data json.RawMessage `json:"data"`
}

// Commit is one message in the log: every event that one command caused,
// appended atomically.
type Commit struct {
	// Sequence is the stream sequence the commit was stored at.
	Sequence uint64
	// Subject is the aggregate's subject.
	Subject string
	// Published is the server's timestamp of the message.
	Published time.Time
	// Events are the commit's events in order.
	Events []Envelope
	// Pending is, for a commit delivered by Consume, how many messages
	// the consumer still had to deliver after it (the reader's lag).
	Pending uint64
}

// commitFormat is the layout version of a stored commit body.
const commitFormat = 1

type commitBody struct {
	Format int        `json:"format"`
	Events []Envelope `json:"events"`
}

// Header names on stored messages.
const (
	// HeaderDigest holds "sha256=<hex>" of the message body, so that the
	// log can be checked for bytes that changed after they were written.
	HeaderDigest = "Safesignal-Digest"
	// HeaderAggregateType is the aggregate type, for consumers that filter
	// without decoding the body.
	HeaderAggregateType = "Safesignal-Aggregate-Type"
)

// ErrCorrupt is wrapped by errors about stored bytes that do not decode or
// do not match their digest.
var ErrCorrupt = errors.New("corrupt commit")

func encodeCommit(events []Envelope) ([]byte, string, error) {
	body, err := json.Marshal(commitBody{Format: commitFormat, Events: events})
	if err != nil {
		return nil, "", fmt.Errorf("encode commit: %w", err)
	}
	return body, Digest(body), nil
}

// Digest is the value of HeaderDigest for a message body.
func Digest(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256=" + hex.EncodeToString(sum[:])
}

// DecodeCommit decodes a stored message body and checks it against its
// digest header (when one is given).
func DecodeCommit(body []byte, digest string) ([]Envelope, error) {
	if digest != "" && Digest(body) != digest {
		return nil, fmt.Errorf("%w: digest mismatch", ErrCorrupt)
	}
	var c commitBody
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if c.Format != commitFormat {
		return nil, fmt.Errorf("%w: unknown commit format %d", ErrCorrupt, c.Format)
	}
	if len(c.Events) == 0 {
		return nil, fmt.Errorf("%w: commit holds no events", ErrCorrupt)
	}
	return c.Events, nil
}
