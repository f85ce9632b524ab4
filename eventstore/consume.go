package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ConsumeOptions says how a reader follows the log.
type ConsumeOptions struct {
	// Durable is the consumer's durable name. Required.
	Durable string
	// After is the last stream sequence the reader has already applied:
	// delivery starts at After+1.
	After uint64
	// BatchSize caps how many commits one call of the handler gets.
	BatchSize int
	// InactiveThreshold, when set, lets the server remove the consumer
	// after it has been idle that long (for readers whose state lives only
	// in one process's memory).
	InactiveThreshold time.Duration
	// Filter restricts the consumer to a subject filter (default: all).
	Filter string
}

// Handler applies a batch of commits, in stream order. An error makes the
// reader retry the same batch after a pause; it never skips it.
type Handler func(ctx context.Context, batch []Commit) error

// Consume follows the log through a durable pull consumer from opts.After+1
// and hands batches of commits to handle, acknowledging each batch only
// after handle returned nil. It returns when ctx ends, or with an error
// when the consumer cannot be set up or a stored message is corrupt.
//
// The consumer is created, or re-created when the one on the server does
// not resume exactly at opts.After: the reader's own checkpoint, not the
// server's ack floor, decides where reading starts.
func (s *JetStream) Consume(ctx context.Context, opts ConsumeOptions, handle Handler) error {
	if opts.Durable == "" {
		return errors.New("consume: a durable name is required")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	next := opts.After + 1
	for ctx.Err() == nil {
		o := opts
		o.After = next - 1
		var err error
		next, err = s.consumeFrom(ctx, o, handle)
		if err != nil {
			return err
		}
	}
	return nil
}

// consumeFrom follows the consumer until ctx ends (it returns the next
// sequence to read and nil), or until a message arrives out of order: the
// log has no gaps (DenyDelete, no limits), so a sequence beyond the next
// one means a delivery was lost, e.g. while a cluster changed its stream
// leader. Then the batch stops before the gap, nothing past it is
// acknowledged, and the caller starts a fresh consumer at the gap.
func (s *JetStream) consumeFrom(ctx context.Context, opts ConsumeOptions, handle Handler) (uint64, error) {
	next := opts.After + 1
	cons, err := s.ensureConsumer(ctx, opts)
	if err != nil {
		if ctx.Err() != nil {
			return next, nil
		}
		return next, err
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs := make(chan jetstream.Msg, 2*opts.BatchSize)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case msgs <- m:
		case <-cctx.Done():
		}
	}, jetstream.PullMaxMessages(opts.BatchSize))
	if err != nil {
		return next, fmt.Errorf("consume %s: %w", opts.Durable, err)
	}
	defer cc.Stop()

	batch := make([]jetstream.Msg, 0, opts.BatchSize)
	commits := make([]Commit, 0, opts.BatchSize)
	for {
		batch, commits = batch[:0], commits[:0]
		select {
		case <-ctx.Done():
			return next, nil
		case m := <-msgs:
			batch = append(batch, m)
		}
	drain:
		for len(batch) < opts.BatchSize {
			select {
			case m := <-msgs:
				batch = append(batch, m)
			default:
				break drain
			}
		}
		gap := false
		var last jetstream.Msg
		for _, m := range batch {
			meta, err := m.Metadata()
			if err != nil {
				return next, fmt.Errorf("consume %s: message metadata: %w", opts.Durable, err)
			}
			seq := meta.Sequence.Stream
			if seq < next {
				continue // a redelivery of something already handled
			}
			if seq > next {
				gap = true
				break
			}
			c, err := commitOf(m.Subject(), seq, meta.Timestamp, m.Data(), m.Headers().Get(HeaderDigest))
			if err != nil {
				return next, fmt.Errorf("consume %s: %w", opts.Durable, err)
			}
			c.Pending = meta.NumPending
			commits = append(commits, c)
			last = m
			next = seq + 1
		}
		if len(commits) > 0 {
			if err := retry(ctx, func() error { return handle(ctx, commits) }); err != nil {
				return next, nil // ctx ended while retrying
			}
			// AckAll: acknowledging the last message acknowledges the
			// batch. A lost ack only means a redelivery, which is skipped.
			_ = last.Ack()
		}
		if gap {
			return next, nil
		}
	}
}

// retry calls f until it succeeds or ctx ends, pausing between attempts
// with capped exponential backoff.
func retry(ctx context.Context, f func() error) error {
	pause := 100 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 10*time.Second)
	}
}

func (s *JetStream) ensureConsumer(ctx context.Context, opts ConsumeOptions) (jetstream.Consumer, error) {
	cfg := jetstream.ConsumerConfig{
		Durable:           opts.Durable,
		Description:       "Safesignal reader " + opts.Durable,
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       opts.After + 1,
		AckPolicy:         jetstream.AckAllPolicy,
		AckWait:           time.Minute,
		MaxAckPending:     4 * opts.BatchSize,
		MaxDeliver:        -1,
		InactiveThreshold: opts.InactiveThreshold,
		FilterSubject:     opts.Filter,
	}
	cons, err := s.stream.Consumer(ctx, opts.Durable)
	switch {
	case err == nil:
		info := cons.CachedInfo()
		if info.AckFloor.Stream == opts.After && info.NumAckPending == 0 && info.Config.FilterSubject == opts.Filter {
			return cons, nil
		}
		if err := s.stream.DeleteConsumer(ctx, opts.Durable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, fmt.Errorf("reset consumer %s: %w", opts.Durable, err)
		}
	case !errors.Is(err, jetstream.ErrConsumerNotFound):
		return nil, fmt.Errorf("look up consumer %s: %w", opts.Durable, err)
	}
	cons, err = s.stream.CreateConsumer(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create consumer %s: %w", opts.Durable, err)
	}
	return cons, nil
}
