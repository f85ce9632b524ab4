// Package trendsignals appends the trend signals the detector raises to
// the event log as TrendSignalDetected, each once: the detector is a
// projection and never writes; this outbox reads its state and appends
// what the log does not hold yet. A trend signal is an aggregate of its
// own whose id comes from the signal's key, appended at expected sequence
// 0, so a replayed detector, a restart or a second replica finds it there
// and appends nothing.
package trendsignals

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/trends/detect"
	"go.uber.org/zap"
)

// Publisher is the outbox.
type Publisher struct {
	log    eventstore.Store
	codec  *projections.Codec
	source detect.Store
	logger *zap.Logger
	now    func() time.Time

	mu   sync.Mutex
	done map[string]bool
}

// New returns a publisher of source's signals to log.
func New(log eventstore.Store, codec *projections.Codec, source detect.Store, logger *zap.Logger) *Publisher {
	return &Publisher{log: log, codec: codec, source: source, logger: logger, now: time.Now, done: map[string]bool{}}
}

// Event returns the event that records a detected signal.
func Event(s detect.Signal) domain.TrendSignalDetected {
	e := domain.TrendSignalDetected{
		TrendSignalID: domain.TrendSignalID(s.Key), Key: s.Key, Rule: string(s.Rule),
		Category: s.Series.Category, Specialty: s.Series.Specialty, Direction: string(s.Dir),
		From: s.From, To: s.To, Points: s.Points, PValue: s.PValue, Tested: s.Tested, DetectedAt: s.DetectedAt.UTC(),
	}
	if l := s.Limits; l != nil {
		e.Centre, e.Upper, e.Lower = l.Centre, l.Upper, l.Lower
	}
	if t := s.Table; t != nil {
		e.A, e.B, e.C, e.D = t.A, t.B, t.C, t.D
	}
	if m := s.Measures; m != nil {
		e.PRR, e.ChiSquare, e.ROR, e.RORLower, e.RORUpper = m.PRR, m.ChiSquare, m.ROR, m.RORLower, m.RORUpper
	}
	return e
}

// PublishOnce appends every raised signal the publisher has not seen in
// the log yet and returns how many it appended.
func (p *Publisher) PublishOnce(ctx context.Context) (int, error) {
	sigs, err := p.source.Signals(ctx)
	if err != nil {
		return 0, fmt.Errorf("trend signals: %w", err)
	}
	appended := 0
	for _, s := range sigs {
		p.mu.Lock()
		done := p.done[s.Key]
		p.mu.Unlock()
		if done {
			continue
		}
		ok, err := p.append(ctx, s)
		if err != nil {
			return appended, err
		}
		if ok {
			appended++
		}
		p.mu.Lock()
		p.done[s.Key] = true
		p.mu.Unlock()
	}
	return appended, nil
}

// append appends one signal; false when the log holds it already.
func (p *Publisher) append(ctx context.Context, s detect.Signal) (bool, error) {
	e := Event(s)
	id := e.TrendSignalID.String()
	now := p.now().UTC()
	envs, err := p.codec.Encode(ctx, eventstore.Envelope{
		AggregateType: projections.AggregateTrendSignal, AggregateID: id,
		OccurredAt: e.DetectedAt, RecordedAt: now,
		CorrelationID: "trend-signal:" + id,
	}, 0, []domain.Event{e})
	if err != nil {
		return false, fmt.Errorf("encode trend signal %s: %w", s.Key, err)
	}
	eventID, err := uuid.NewV7()
	if err != nil {
		return false, fmt.Errorf("new event id: %w", err)
	}
	envs[0].ID = eventID
	res, err := p.log.Append(ctx, eventstore.AppendRequest{
		Aggregate:        eventstore.Aggregate{Type: projections.AggregateTrendSignal, ID: id},
		ExpectedSequence: 0, MsgID: "trend-signal:" + id, Events: envs,
	})
	switch {
	case errors.Is(err, eventstore.ErrConflict):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("append trend signal %s: %w", s.Key, err)
	}
	if res.Duplicate {
		return false, nil
	}
	p.logger.Info("trend signal detected", zap.String("key", s.Key), zap.Uint64("sequence", res.Sequence))
	return true, nil
}

// Run publishes every interval until ctx ends; a failed round is logged
// and tried again at the next.
func (p *Publisher) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := p.PublishOnce(ctx); err != nil && ctx.Err() == nil {
			p.logger.Warn("trend signals not appended; will retry", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
