// Package policies runs Safesignal's reactions to events on a watermill
// router: escalation rules, reminders and outbound notifications. The
// router reads the log through durable JetStream consumers that this
// package creates (watermill-nats' subscriber would default to ephemeral
// ones), with watermill's Recoverer, Retry, PoisonQueue and CorrelationID
// middleware around every handler.
package policies

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/safesignal/safesignal/eventstore"
)

// Metadata keys set on every message the subscriber delivers.
const (
	MetaSubject  = "subject"
	MetaSequence = "stream_sequence"
	MetaDigest   = "digest"
)

// Subscriber is a watermill subscriber over durable pull consumers of one
// stream. A topic is the durable consumer's name; each message is one
// commit of the log. Messages of a topic are handed out one at a time, in
// stream order, and acknowledged to JetStream only when the handler acked
// them; a nack is redelivered after NakDelay.
type Subscriber struct {
	stream   jetstream.Stream
	filter   string
	ackWait  time.Duration
	nakDelay time.Duration

	mu     sync.Mutex
	closed bool
	stops  []func()
	wg     sync.WaitGroup
}

// SubscriberConfig configures a Subscriber.
type SubscriberConfig struct {
	// Filter restricts the consumers to a subject filter (default: all).
	Filter string
	// AckWait is how long JetStream waits for an ack before redelivering
	// (default 5s; a handler that takes longer keeps its message by
	// reporting progress every AckWait/3). After a crash, or when a
	// message went to a pull request of a subscription that has just
	// ended, it comes again after AckWait.
	AckWait time.Duration
	// NakDelay is the pause before a nacked message comes again (default 1s).
	NakDelay time.Duration
}

// NewSubscriber returns a subscriber on stream.
func NewSubscriber(stream jetstream.Stream, cfg SubscriberConfig) *Subscriber {
	if cfg.AckWait == 0 {
		cfg.AckWait = 5 * time.Second
	}
	if cfg.NakDelay == 0 {
		cfg.NakDelay = time.Second
	}
	return &Subscriber{stream: stream, filter: cfg.Filter, ackWait: cfg.AckWait, nakDelay: cfg.NakDelay}
}

// Subscribe creates (or binds to) the durable consumer named topic and
// streams its messages. The channel closes when ctx ends or on Close.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errors.New("subscriber closed")
	}
	s.mu.Unlock()
	cons, err := s.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       topic,
		Description:   "Safesignal policy " + topic,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.ackWait,
		MaxDeliver:    -1,
		MaxAckPending: 1,
		FilterSubject: s.filter,
	})
	if err != nil {
		return nil, fmt.Errorf("policy consumer %s: %w", topic, err)
	}
	iter, err := cons.Messages(jetstream.PullMaxMessages(16), jetstream.PullExpiry(s.ackWait))
	if err != nil {
		return nil, fmt.Errorf("policy consumer %s: %w", topic, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan *message.Message)
	s.mu.Lock()
	s.stops = append(s.stops, func() { cancel(); iter.Stop() })
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer close(out)
		defer iter.Stop()
		go func() { <-ctx.Done(); iter.Stop() }()
		for {
			m, err := iter.Next()
			if err != nil {
				return // stopped, or the connection is gone for good
			}
			wm, err := toWatermill(m)
			if err != nil {
				// A commit that does not decode can never be handled:
				// terminate it so it does not block the consumer; the
				// integrity check reports such commits.
				_ = m.Term()
				continue
			}
			wm.SetContext(ctx)
			select {
			case out <- wm:
			case <-ctx.Done():
				_ = m.Nak() // hand it back for the next run to take at once
				return
			}
			if !s.await(ctx, m, wm) {
				return
			}
		}
	}()
	return out, nil
}

// await waits for the handler's verdict on wm and passes it to JetStream,
// telling JetStream the message is still in progress while the handler
// retries. It returns false when the subscription ends first; the message
// is then handed back (nak) for the next run to take at once.
func (s *Subscriber) await(ctx context.Context, m jetstream.Msg, wm *message.Message) bool {
	tick := time.NewTicker(s.ackWait / 3)
	defer tick.Stop()
	for {
		select {
		case <-wm.Acked():
			_ = m.DoubleAck(ctx)
			return true
		case <-wm.Nacked():
			_ = m.NakWithDelay(s.nakDelay)
			return true
		case <-tick.C:
			_ = m.InProgress()
		case <-ctx.Done():
			_ = m.Nak()
			return false
		}
	}
}

func toWatermill(m jetstream.Msg) (*message.Message, error) {
	meta, err := m.Metadata()
	if err != nil {
		return nil, err
	}
	events, err := eventstore.DecodeCommit(m.Data(), m.Headers().Get(eventstore.HeaderDigest))
	if err != nil {
		return nil, err
	}
	wm := message.NewMessage(events[0].ID.String(), m.Data())
	wm.Metadata.Set(MetaSubject, m.Subject())
	wm.Metadata.Set(MetaSequence, strconv.FormatUint(meta.Sequence.Stream, 10))
	wm.Metadata.Set(MetaDigest, m.Headers().Get(eventstore.HeaderDigest))
	if events[0].CorrelationID != "" {
		middleware.SetCorrelationID(events[0].CorrelationID, wm)
	}
	return wm, nil
}

// Close stops every subscription and waits for them.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	stops := s.stops
	s.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
	s.wg.Wait()
	return nil
}

// Publisher is a watermill publisher onto a JetStream stream (the poison
// queue): each message is stored durably before Publish returns.
type Publisher struct {
	js     jetstream.JetStream
	prefix string
}

// NewPublisher returns a publisher whose topics are subjects under prefix.
func NewPublisher(js jetstream.JetStream, prefix string) *Publisher {
	return &Publisher{js: js, prefix: prefix}
}

// Publish implements message.Publisher.
func (p *Publisher) Publish(topic string, msgs ...*message.Message) error {
	for _, m := range msgs {
		nm := nats.NewMsg(p.prefix + "." + topic)
		nm.Data = m.Payload
		for k, v := range m.Metadata {
			nm.Header.Set("Wm-"+k, v)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := p.js.PublishMsg(ctx, nm, jetstream.WithMsgID(topic+":"+m.UUID))
		cancel()
		if err != nil {
			return fmt.Errorf("publish to %s: %w", topic, err)
		}
	}
	return nil
}

// Close implements message.Publisher.
func (p *Publisher) Close() error { return nil }
