// Package commands applies commands to signals: load the signal's events
// (or its cached state), decide, append with the expected last sequence.
// It is where the domain meets the event log.
package commands

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
)

// ErrVersionMismatch is returned when the caller's expected version (its
// If-Match) is not the signal's current version. Nothing was written.
var ErrVersionMismatch = errors.New("version mismatch")

// idNamespace is the UUIDv5 namespace of signal ids derived from an
// idempotency key.
func idNamespace() uuid.UUID { return uuid.MustParse("6f1c1f43-3a0c-5b8e-9d3e-5a1e6a7c0001") }

// maxAttempts bounds the load-decide-append loop when appends race.
const maxAttempts = 8

// Meta says who sent a command and how to recognise it when sent again.
type Meta struct {
	// Actor is the pseudonymous id recorded with the events ("" when the
	// reporter is anonymous).
	Actor string
	// Caller scopes the idempotency key: two callers may use the same key.
	// It is not stored in the log.
	Caller string
	// CorrelationID ties the events to the request.
	CorrelationID string
	// IdempotencyKey is the client's key for this command, if any.
	IdempotencyKey string
	// BeforeAppend, when set, runs after the events are encoded (a new
	// signal's data key is stored by then) and before they are appended;
	// an error stops the append and is returned. The HTTP API writes the
	// audit record while the key is stored and waits for it here, so no
	// event is appended without its audit record and the two fsyncs
	// overlap.
	BeforeAppend func(ctx context.Context) error
}

// Result is the outcome of a command.
type Result struct {
	ID       uuid.UUID
	Version  int
	Sequence uint64
	// Replayed is true when the command had been applied before under the
	// same idempotency key and nothing new was written.
	Replayed bool
	// State is the signal after the command, when known.
	State domain.Signal
}

type cached struct {
	state domain.Signal
	seq   uint64
	// keys maps idempotency key fingerprints to the version they produced.
	keys map[string]int
}

// Service decides and appends commands.
type Service struct {
	secret  []byte
	log     eventstore.Store
	codec   *projections.Codec
	observe func(time.Duration, bool)
	cache   *lru.Cache[uuid.UUID, cached]
	now     func() time.Time
}

// Options tune the service.
type Options struct {
	// CacheSize is how many signals' decided state is kept (default 65536).
	CacheSize int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// ObserveAppend, when set, is told how long each append took and
	// whether it lost an optimistic-concurrency race (for metrics).
	ObserveAppend func(took time.Duration, conflict bool)
	// Secret keys the fingerprints of idempotency keys and the ids derived
	// from them, so that nobody reading the log can link an anonymous
	// signal to a caller by trying callers and keys. At least 32 bytes.
	Secret []byte
}

// New returns a service appending to log.
func New(log eventstore.Store, codec *projections.Codec, opts Options) (*Service, error) {
	if opts.CacheSize <= 0 {
		opts.CacheSize = 1 << 16
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if len(opts.Secret) < 32 {
		return nil, errors.New("command service: the secret must be at least 32 bytes")
	}
	cache, err := lru.New[uuid.UUID, cached](opts.CacheSize)
	if err != nil {
		return nil, fmt.Errorf("state cache: %w", err)
	}
	if opts.ObserveAppend == nil {
		opts.ObserveAppend = func(time.Duration, bool) {}
	}
	return &Service{secret: opts.Secret, log: log, codec: codec, cache: cache, now: opts.Now, observe: opts.ObserveAppend}, nil
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

func aggregate(id uuid.UUID) eventstore.Aggregate {
	return eventstore.Aggregate{Type: projections.AggregateSignal, ID: id.String()}
}

// fingerprint scopes an idempotency key to its caller, keyed with the
// service's secret.
func (s *Service) fingerprint(caller, key string) string {
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte(caller))
	mac.Write([]byte{0})
	mac.Write([]byte(key))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

// NewSignalID returns the id a new signal gets: derived from the caller and
// idempotency key when there is one (so a late retry lands on the same
// subject and is recognised), otherwise a fresh UUIDv7.
func (s *Service) NewSignalID(caller, key string) (uuid.UUID, error) {
	if key == "" {
		return uuid.NewV7()
	}
	return uuid.NewSHA1(idNamespace(), []byte(s.fingerprint(caller, key))), nil
}

// Report files a new signal. cmd.At is set here, and cmd.SignalID when the
// caller left it empty (callers that must know the id first, e.g. to audit
// the filing, take it from NewSignalID).
func (s *Service) Report(ctx context.Context, cmd domain.ReportSignal, meta Meta) (Result, error) {
	id := cmd.SignalID
	if id == uuid.Nil {
		var err error
		if id, err = s.NewSignalID(meta.Caller, meta.IdempotencyKey); err != nil {
			return Result{}, fmt.Errorf("report: new id: %w", err)
		}
	}
	cmd.SignalID, cmd.At = id, s.now().UTC()
	events, err := domain.Decide(domain.Signal{}, cmd)
	if err != nil {
		return Result{}, err
	}
	var msgID string
	if meta.IdempotencyKey != "" {
		msgID = "report:" + id.String()
	}
	res, state, err := s.append(ctx, id, cached{}, events, meta, msgID)
	if err != nil {
		if errors.Is(err, eventstore.ErrConflict) {
			// The id is taken by a report that was not this one: only a
			// key-derived id can collide, with a different message id.
			return Result{}, fmt.Errorf("report %s: %w", id, err)
		}
		return Result{}, err
	}
	if res.Duplicate {
		return Result{ID: id, Version: 1, Sequence: res.Sequence, Replayed: true}, nil
	}
	return Result{ID: id, Version: state.Version, Sequence: res.Sequence, State: state}, nil
}

// Execute applies cmd to the signal id. ifMatch, when not nil, is the
// version the caller saw: any other current version is ErrVersionMismatch.
// A command sent again with the same idempotency key is answered as the
// first time and writes nothing.
func (s *Service) Execute(ctx context.Context, id uuid.UUID, ifMatch *int, cmd domain.Command, meta Meta) (Result, error) {
	fresh := false
	for range maxAttempts {
		c, err := s.load(ctx, id, fresh)
		if err != nil {
			return Result{}, err
		}
		if !c.state.Exists() {
			return Result{}, fmt.Errorf("%s %s: %w", cmd.CommandName(), id, domain.ErrNotFound)
		}
		var fp string
		if meta.IdempotencyKey != "" {
			fp = s.fingerprint(meta.Caller, meta.IdempotencyKey)
			if v, ok := c.keys[fp]; ok {
				return Result{ID: id, Version: v, Sequence: c.seq, Replayed: true, State: c.state}, nil
			}
		}
		if ifMatch != nil && *ifMatch != c.state.Version {
			if !fresh {
				fresh = true // the cache may be behind another replica
				continue
			}
			return Result{}, fmt.Errorf("%s %s: expected version %d, current %d: %w", cmd.CommandName(), id, *ifMatch, c.state.Version, ErrVersionMismatch)
		}
		events, err := domain.Decide(c.state, cmd)
		if err != nil {
			return Result{}, err
		}
		var msgID string
		if fp != "" {
			msgID = "cmd:" + id.String() + ":" + fp
		}
		res, state, err := s.append(ctx, id, c, events, meta, msgID)
		if errors.Is(err, eventstore.ErrConflict) {
			s.cache.Remove(id)
			fresh = true
			continue
		}
		if err != nil {
			return Result{}, err
		}
		if res.Duplicate {
			s.cache.Remove(id)
			return Result{ID: id, Version: c.state.Version + len(events), Sequence: res.Sequence, Replayed: true}, nil
		}
		return Result{ID: id, Version: state.Version, Sequence: res.Sequence, State: state}, nil
	}
	return Result{}, fmt.Errorf("%s %s: gave up after %d conflicting attempts: %w", cmd.CommandName(), id, maxAttempts, eventstore.ErrConflict)
}

// append encodes and appends events decided on c, and caches the result.
func (s *Service) append(ctx context.Context, id uuid.UUID, c cached, events []domain.Event, meta Meta, msgID string) (eventstore.AppendResult, domain.Signal, error) {
	now := s.now().UTC()
	eventID, err := uuid.NewV7()
	if err != nil {
		return eventstore.AppendResult{}, domain.Signal{}, fmt.Errorf("new event id: %w", err)
	}
	base := eventstore.Envelope{
		AggregateType:  projections.AggregateSignal,
		AggregateID:    id.String(),
		OccurredAt:     now,
		RecordedAt:     now,
		Actor:          meta.Actor,
		CorrelationID:  meta.CorrelationID,
		IdempotencyKey: s.idempotencyRecord(meta),
	}
	envs, err := s.codec.Encode(ctx, base, c.state.Version, events)
	if err != nil {
		return eventstore.AppendResult{}, domain.Signal{}, err
	}
	if meta.BeforeAppend != nil {
		if err := meta.BeforeAppend(ctx); err != nil {
			return eventstore.AppendResult{}, domain.Signal{}, err
		}
	}
	for i := range envs {
		if i > 0 {
			if eventID, err = uuid.NewV7(); err != nil {
				return eventstore.AppendResult{}, domain.Signal{}, fmt.Errorf("new event id: %w", err)
			}
		}
		envs[i].ID = eventID
	}
	started := time.Now()
	res, err := s.log.Append(ctx, eventstore.AppendRequest{Aggregate: aggregate(id), ExpectedSequence: c.seq, MsgID: msgID, Events: envs})
	s.observe(time.Since(started), errors.Is(err, eventstore.ErrConflict))
	if err != nil {
		return res, domain.Signal{}, err
	}
	if res.Duplicate {
		return res, domain.Signal{}, nil
	}
	state := c.state
	for _, e := range events {
		state = domain.Evolve(state, e)
	}
	keys := make(map[string]int, len(c.keys)+1)
	for k, v := range c.keys {
		keys[k] = v
	}
	if meta.IdempotencyKey != "" {
		keys[s.fingerprint(meta.Caller, meta.IdempotencyKey)] = state.Version
	}
	s.cache.Add(id, cached{state: state, seq: res.Sequence, keys: keys})
	return res, state, nil
}

// idempotencyRecord is what the log keeps of a command's key: its
// fingerprint with the caller, never the caller itself.
func (s *Service) idempotencyRecord(meta Meta) string {
	if meta.IdempotencyKey == "" {
		return ""
	}
	return s.fingerprint(meta.Caller, meta.IdempotencyKey)
}

// load returns the signal's decided state, from the cache unless fresh.
// A stale cache entry is safe: the append's expected sequence catches it.
func (s *Service) load(ctx context.Context, id uuid.UUID, fresh bool) (cached, error) {
	if !fresh {
		if c, ok := s.cache.Get(id); ok {
			return c, nil
		}
	}
	commits, err := s.log.Load(ctx, aggregate(id), 0)
	if err != nil {
		return cached{}, fmt.Errorf("load signal %s: %w", id, err)
	}
	c := cached{keys: map[string]int{}}
	for _, commit := range commits {
		events, err := s.codec.Decode(ctx, commit)
		if err != nil {
			return cached{}, fmt.Errorf("load signal %s: %w", id, err)
		}
		for _, e := range events {
			c.state = domain.Evolve(c.state, e.Data)
			if e.Envelope.IdempotencyKey != "" {
				c.keys[e.Envelope.IdempotencyKey] = c.state.Version
			}
		}
		c.seq = commit.Sequence
	}
	if c.state.Exists() {
		s.cache.Add(id, c)
	}
	return c, nil
}

// State returns the signal's current decided state, read from the log
// (not the cache: reactions must see what the log holds).
func (s *Service) State(ctx context.Context, id uuid.UUID) (domain.Signal, error) {
	c, err := s.load(ctx, id, true)
	if err != nil {
		return domain.Signal{}, err
	}
	return c.state, nil
}

// History returns the signal's events in order.
func (s *Service) History(ctx context.Context, id uuid.UUID) ([]projections.Event, error) {
	commits, err := s.log.Load(ctx, aggregate(id), 0)
	if err != nil {
		return nil, fmt.Errorf("history of signal %s: %w", id, err)
	}
	var out []projections.Event
	for _, c := range commits {
		events, err := s.codec.Decode(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("history of signal %s: %w", id, err)
		}
		out = append(out, events...)
	}
	return out, nil
}
