package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config describes the stream that holds the log.
type Config struct {
	// Stream is the JetStream stream name.
	Stream string
	// SubjectPrefix is the first token(s) of every aggregate subject; the
	// stream holds SubjectPrefix.>.
	SubjectPrefix string
	// Replicas is the stream's replication factor (3 in a cluster).
	Replicas int
	// Storage is file (the default) or memory (tests only).
	Storage jetstream.StorageType
	// DuplicateWindow is how long the server remembers message ids.
	DuplicateWindow time.Duration
}

// DefaultConfig is the log of Safesignal's events on one node.
func DefaultConfig() Config {
	return Config{
		Stream:          "SAFESIGNAL_EVENTS",
		SubjectPrefix:   "safesignal.events",
		Replicas:        1,
		Storage:         jetstream.FileStorage,
		DuplicateWindow: 10 * time.Minute,
	}
}

// JetStream is the event log on a JetStream stream, one subject per
// aggregate: SubjectPrefix.<type>.<id>.
type JetStream struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	cfg    Config
}

// Open creates or updates the stream and returns the store.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*JetStream, error) {
	if cfg.Stream == "" || cfg.SubjectPrefix == "" {
		return nil, errors.New("open event store: stream name and subject prefix are required")
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	sc := jetstream.StreamConfig{
		Name:              cfg.Stream,
		Description:       "Safesignal event log: one subject per aggregate, one message per command",
		Subjects:          []string{cfg.SubjectPrefix + ".>"},
		Retention:         jetstream.LimitsPolicy,
		Storage:           cfg.Storage,
		Replicas:          cfg.Replicas,
		Discard:           jetstream.DiscardNew,
		MaxMsgs:           -1,
		MaxBytes:          -1,
		MaxAge:            0,
		MaxMsgsPerSubject: -1,
		Duplicates:        cfg.DuplicateWindow,
		DenyDelete:        true,
		DenyPurge:         true,
		AllowDirect:       true,
	}
	stream, err := js.CreateOrUpdateStream(ctx, sc)
	if err != nil {
		return nil, fmt.Errorf("create or update stream %s: %w", cfg.Stream, err)
	}
	return &JetStream{js: js, stream: stream, cfg: cfg}, nil
}

// Config returns the store's configuration.
func (s *JetStream) Config() Config { return s.cfg }

// Subject returns the subject of an aggregate.
func (s *JetStream) Subject(a Aggregate) string {
	return s.cfg.SubjectPrefix + "." + a.Type + "." + a.ID
}

// Append stores every event of one command as one message, provided the
// aggregate's last commit is still at req.ExpectedSequence. A lost race
// returns an error wrapping ErrConflict and writes nothing.
func (s *JetStream) Append(ctx context.Context, req AppendRequest) (AppendResult, error) {
	if err := req.Aggregate.validate(); err != nil {
		return AppendResult{}, fmt.Errorf("append: %w", err)
	}
	if len(req.Events) == 0 {
		return AppendResult{}, errors.New("append: no events")
	}
	body, digest, err := encodeCommit(req.Events)
	if err != nil {
		return AppendResult{}, fmt.Errorf("append to %s: %w", req.Aggregate, err)
	}
	msg := nats.NewMsg(s.Subject(req.Aggregate))
	msg.Data = body
	msg.Header.Set(HeaderDigest, digest)
	msg.Header.Set(HeaderAggregateType, req.Aggregate.Type)
	opts := []jetstream.PublishOpt{jetstream.WithExpectLastSequencePerSubject(req.ExpectedSequence)}
	if req.MsgID != "" {
		opts = append(opts, jetstream.WithMsgID(req.MsgID))
	}
	ack, err := s.js.PublishMsg(ctx, msg, opts...)
	if err != nil {
		if !IsConflict(err) {
			return AppendResult{}, fmt.Errorf("append to %s: %w", req.Aggregate, err)
		}
		// The server checks the expected sequence before its duplicate
		// window, and the window ends: a repeat of an append that went
		// through shows as a conflict. The original then stands after the
		// expected sequence with the same message id.
		if req.MsgID != "" {
			if seq, found, ferr := s.findMsgID(ctx, req.Aggregate, req.ExpectedSequence, req.MsgID); ferr != nil {
				return AppendResult{}, ferr
			} else if found {
				return AppendResult{Sequence: seq, Duplicate: true}, nil
			}
		}
		return AppendResult{}, fmt.Errorf("append to %s at sequence %d: %w", req.Aggregate, req.ExpectedSequence, ErrConflict)
	}
	return AppendResult{Sequence: ack.Sequence, Duplicate: ack.Duplicate}, nil
}

// findMsgID looks for a commit with message id msgID among the aggregate's
// commits after sequence after.
func (s *JetStream) findMsgID(ctx context.Context, a Aggregate, after uint64, msgID string) (uint64, bool, error) {
	subject := s.Subject(a)
	for seq := after + 1; ; {
		raw, err := s.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("look for message id on %s: %w", a, err)
		}
		if raw.Header.Get(jetstream.MsgIDHeader) == msgID {
			return raw.Sequence, true, nil
		}
		seq = raw.Sequence + 1
	}
}

// IsConflict reports whether err is JetStream's answer to a failed
// expected-last-sequence check: 10071, or 10164 on replicated streams.
func IsConflict(err error) bool {
	if errors.Is(err, ErrConflict) {
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
	}
	return false
}

// Load returns the aggregate's commits stored after sequence after, in
// order (after=0 loads them all). An aggregate that does not exist has none.
func (s *JetStream) Load(ctx context.Context, a Aggregate, after uint64) ([]Commit, error) {
	if err := a.validate(); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	subject := s.Subject(a)
	var commits []Commit
	for seq := after + 1; ; {
		raw, err := s.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return commits, nil
		}
		if err != nil {
			return nil, fmt.Errorf("load %s from sequence %d: %w", a, seq, err)
		}
		c, err := commitOf(raw.Subject, raw.Sequence, raw.Time, raw.Data, raw.Header.Get(HeaderDigest))
		if err != nil {
			return nil, err
		}
		commits = append(commits, c)
		seq = raw.Sequence + 1
	}
}

// Last returns the aggregate's last commit, or nil when it has none.
func (s *JetStream) Last(ctx context.Context, a Aggregate) (*Commit, error) {
	if err := a.validate(); err != nil {
		return nil, fmt.Errorf("load last: %w", err)
	}
	raw, err := s.stream.GetLastMsgForSubject(ctx, s.Subject(a))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load last commit of %s: %w", a, err)
	}
	c, err := commitOf(raw.Subject, raw.Sequence, raw.Time, raw.Data, raw.Header.Get(HeaderDigest))
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// LastSequence returns the stream's last sequence number: where a reader
// that has caught up stands.
func (s *JetStream) LastSequence(ctx context.Context) (uint64, error) {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream info %s: %w", s.cfg.Stream, err)
	}
	return info.State.LastSeq, nil
}

func commitOf(subject string, seq uint64, at time.Time, data []byte, digest string) (Commit, error) {
	events, err := DecodeCommit(data, digest)
	if err != nil {
		return Commit{}, fmt.Errorf("commit at sequence %d on %s: %w", seq, subject, err)
	}
	return Commit{Sequence: seq, Subject: subject, Published: at, Events: events}, nil
}
