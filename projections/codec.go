// Package projections builds Safesignal's read models from the event log
// alone: the codec between domain events and the log, the runner that feeds
// a read model from a durable consumer, and (in sub-packages) one package
// per read model with its memory store.
package projections

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
)

// AggregateSignal is the aggregate type of signals in the log.
const AggregateSignal = "signal"

// AggregateTrendSignal is the aggregate type of detected trend signals.
const AggregateTrendSignal = "trend_signal"

// AggregatePeerSupport is the aggregate type of peer-support requests.
const AggregatePeerSupport = "peer_support"

// AggregateLesson is the aggregate type of lessons and good practices.
const AggregateLesson = "lesson"

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
		eventstore.Register[domain.QuestionAsked](r, domain.EventQuestionAsked, 1),
		eventstore.Register[domain.ReporterReplied](r, domain.EventReporterReplied, 1),
		eventstore.Register[domain.SignalContentErased](r, domain.EventSignalContentErased, 1),
		eventstore.Register[domain.ReporterIdentityErased](r, domain.EventReporterIdentityErased, 1),
		eventstore.Register[domain.TrendSignalDetected](r, domain.EventTrendSignalDetected, 1),
		eventstore.Register[domain.PeerSupportRequestOpened](r, domain.EventPeerSupportRequestOpened, 1),
		eventstore.Register[domain.PeerSupportRequestAcknowledged](r, domain.EventPeerSupportRequestAcknowledged, 1),
		eventstore.Register[domain.PeerSupportRequesterErased](r, domain.EventPeerSupportRequesterErased, 1),
		eventstore.Register[domain.PeerSupportSupporterErased](r, domain.EventPeerSupportSupporterErased, 1),
		eventstore.Register[domain.LessonPublished](r, domain.EventLessonPublished, 1),
		eventstore.Register[domain.LessonTranslated](r, domain.EventLessonTranslated, 1),
		eventstore.Register[domain.LessonApplied](r, domain.EventLessonApplied, 1),
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
	// Envelope is the event's envelope, its actor opened.
	Envelope eventstore.Envelope
	// Data is the decoded domain event, its sensitive fields opened.
	Data domain.Event
	// Erased lists the scopes ("signal", "reporter") whose data key was
	// destroyed: those fields are empty for good.
	Erased []string
}

// Scopes of data keys.
const (
	ScopeSignal   = "signal"
	ScopeReporter = "reporter"
)

// Codec turns domain events into envelopes and back, sealing every field
// the domain tags sensitive with the signal's or the person's data key,
// and the envelope's actor with the person's key. Destroying a key
// (crypto-shredding) leaves those fields empty.
type Codec struct {
	registry *eventstore.Registry
	keyring  eventstore.Keyring
	secret   []byte
}

// NewCodec returns the codec. secret keys the ids of persons' data keys,
// so that a key's name does not give away whose it is.
func NewCodec(registry *eventstore.Registry, keyring eventstore.Keyring, secret []byte) (*Codec, error) {
	if len(secret) < 32 {
		return nil, errors.New("codec: the secret must be at least 32 bytes")
	}
	return &Codec{registry: registry, keyring: keyring, secret: secret}, nil
}

// OpenCodec registers the domain's events and opens the keyring on js.
func OpenCodec(ctx context.Context, js jetstream.JetStream, secret []byte, replicas int) (*Codec, error) {
	reg, err := NewRegistry()
	if err != nil {
		return nil, err
	}
	kr, err := eventstore.OpenKeyring(ctx, js, replicas)
	if err != nil {
		return nil, err
	}
	return NewCodec(reg, kr, secret)
}

// Registry returns the event-type registry.
func (c *Codec) Registry() *eventstore.Registry { return c.registry }

// Keyring returns the keyring.
func (c *Codec) Keyring() eventstore.Keyring { return c.keyring }

// PersonKeyID is the name of a person's data key.
func (c *Codec) PersonKeyID(subject string) string {
	mac := hmac.New(sha256.New, c.secret)
	mac.Write([]byte("person\x00" + subject))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

func (c *Codec) keyIDs(aggregateID string) eventstore.KeyIDs {
	return func(scope, plain string) (string, bool) {
		switch scope {
		case ScopeSignal:
			return aggregateID, true
		case ScopeReporter:
			return c.PersonKeyID(plain), true
		}
		return "", false
	}
}

// Encode wraps domain events in envelopes, numbering them from the
// aggregate's current version, and seals their sensitive fields.
func (c *Codec) Encode(ctx context.Context, meta eventstore.Envelope, version int, events []domain.Event) ([]eventstore.Envelope, error) {
	ids := c.keyIDs(meta.AggregateID)
	actor, err := eventstore.SealString(ctx, c.keyring, ScopeReporter, meta.Actor, ids)
	if err != nil {
		return nil, fmt.Errorf("encode actor: %w", err)
	}
	meta.Actor = actor
	out := make([]eventstore.Envelope, 0, len(events))
	for i, e := range events {
		schema, ok := c.registry.Version(e.EventType())
		if !ok {
			return nil, fmt.Errorf("encode %s: event type not registered", e.EventType())
		}
		// Seal a copy made through JSON, so that nothing the caller holds
		// (slices shared with the decided state) is changed.
		plain, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
		}
		copyPtr := reflect.New(reflect.TypeOf(e))
		if err := json.Unmarshal(plain, copyPtr.Interface()); err != nil {
			return nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
		}
		if err := eventstore.Seal(ctx, c.keyring, copyPtr.Interface(), ids); err != nil {
			return nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
		}
		data, err := json.Marshal(copyPtr.Interface())
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

// Decode turns a commit into its domain events with their sensitive fields
// opened (or empty, where the key was destroyed).
func (c *Codec) Decode(ctx context.Context, commit eventstore.Commit) ([]Event, error) {
	out := make([]Event, 0, len(commit.Events))
	for _, env := range commit.Events {
		v, err := c.registry.Decode(env)
		if err != nil {
			return nil, fmt.Errorf("commit %d: %w", commit.Sequence, err)
		}
		ptr := reflect.New(reflect.TypeOf(v))
		ptr.Elem().Set(reflect.ValueOf(v))
		opened, err := eventstore.Unseal(ctx, c.keyring, ptr.Interface())
		if err != nil {
			return nil, fmt.Errorf("commit %d, event %s: %w", commit.Sequence, env.ID, err)
		}
		e, ok := ptr.Elem().Interface().(domain.Event)
		if !ok {
			return nil, fmt.Errorf("commit %d: event %s of type %s is not a domain event", commit.Sequence, env.ID, env.Type)
		}
		actor, erased, err := eventstore.UnsealString(ctx, c.keyring, env.Actor)
		if err != nil {
			return nil, fmt.Errorf("commit %d, actor of event %s: %w", commit.Sequence, env.ID, err)
		}
		env.Actor = actor
		if erased && !slices.Contains(opened.Erased, ScopeReporter) {
			opened.Erased = append(opened.Erased, ScopeReporter)
		}
		out = append(out, Event{Sequence: commit.Sequence, Envelope: env, Data: e, Erased: opened.Erased})
	}
	return out, nil
}
