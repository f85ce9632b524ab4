// Package audit keeps the trail of every access to signal data and every
// command (NEN 7510/7513 style: who, in which role, on whose behalf, did
// what to which signal, when, in which request) in an append-only
// JetStream stream, and answers queries per signal and per actor.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Stream and subjects of the trail.
const (
	Stream        = "SAFESIGNAL_AUDIT"
	SubjectPrefix = "safesignal.audit"
	// noSignal stands in the subject of records that concern no one signal.
	noSignal = "none"
)

// Record is one audited access.
type Record struct {
	ID           uuid.UUID `json:"id"`
	Time         time.Time `json:"time"`
	Actor        string    `json:"actor"`
	Role         string    `json:"role"`
	Organisation string    `json:"organisation,omitempty"`
	OnBehalfOf   string    `json:"onBehalfOf,omitempty"`
	Action       string    `json:"action"`
	SignalID     string    `json:"signalId,omitempty"`
	// Query is what a read of many signals selected, as URL query
	// parameters (an export's format and filter).
	Query         string `json:"query,omitempty"`
	CorrelationID string `json:"correlationId,omitempty"`
	// Sequence is the record's position in the trail (set when read).
	Sequence uint64 `json:"sequence,omitempty"`
}

// Trail writes and reads audit records.
type Trail struct {
	js     jetstream.JetStream
	stream jetstream.Stream
}

// Open creates or updates the audit stream: file storage, no deletes, no
// purges, records kept for good (retention is a legal decision, made by
// configuring the stream, not by this code).
func Open(ctx context.Context, js jetstream.JetStream, replicas int) (*Trail, error) {
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        Stream,
		Description: "Safesignal audit trail: every read of signal data and every command",
		Subjects:    []string{SubjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
		DenyDelete:  true,
		DenyPurge:   true,
		AllowDirect: true,
		Duplicates:  2 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("audit stream: %w", err)
	}
	return &Trail{js: js, stream: s}, nil
}

// actorToken is the subject token of an actor: a hash, so that any actor
// id is a valid token and the subject does not spell out who it was.
func actorToken(actor string) string {
	sum := sha256.Sum256([]byte(actor))
	return hex.EncodeToString(sum[:16])
}

func signalToken(id string) string {
	if id == "" {
		return noSignal
	}
	if _, err := uuid.Parse(id); err != nil {
		return noSignal
	}
	return id
}

// Write stores r durably before it returns. An error means the access
// must not go ahead.
func (t *Trail) Write(ctx context.Context, r Record) error {
	if r.Actor == "" || r.Action == "" {
		return errors.New("audit: a record needs an actor and an action")
	}
	if r.ID == uuid.Nil {
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		r.ID = id
	}
	if r.Time.IsZero() {
		r.Time = time.Now().UTC()
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	msg := nats.NewMsg(SubjectPrefix + "." + signalToken(r.SignalID) + "." + actorToken(r.Actor))
	msg.Data = data
	if _, err := t.js.PublishMsg(ctx, msg, jetstream.WithMsgID(r.ID.String()), jetstream.WithExpectStream(Stream)); err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	return nil
}

// Query selects records by signal, by actor, or both.
type Query struct {
	SignalID string
	Actor    string
	// After skips records up to and including this sequence (paging).
	After uint64
	// Limit caps the answer (default and maximum 1000).
	Limit int
}

// Find returns the matching records in the order they were written.
func (t *Trail) Find(ctx context.Context, q Query) ([]Record, error) {
	if q.SignalID == "" && q.Actor == "" {
		return nil, errors.New("audit: query by signal or actor")
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 1000
	}
	sig, act := "*", "*"
	if q.SignalID != "" {
		sig = signalToken(q.SignalID)
	}
	if q.Actor != "" {
		act = actorToken(q.Actor)
	}
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{SubjectPrefix + "." + sig + "." + act},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	}
	if q.After > 0 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = q.After + 1
	}
	cons, err := t.stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("audit: query: %w", err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: query: %w", err)
	}
	pending := int(info.NumPending)
	out := make([]Record, 0, min(pending, q.Limit))
	for len(out) < pending && len(out) < q.Limit {
		batch, err := cons.Fetch(min(pending, q.Limit)-len(out), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, fmt.Errorf("audit: query: %w", err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			var r Record
			if err := json.Unmarshal(m.Data(), &r); err != nil {
				return nil, fmt.Errorf("audit: record on %s: %w", m.Subject(), err)
			}
			if meta, err := m.Metadata(); err == nil {
				r.Sequence = meta.Sequence.Stream
			}
			out = append(out, r)
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("audit: query: %w", err)
		}
		if n == 0 {
			break
		}
	}
	return out, nil
}
