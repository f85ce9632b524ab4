package policies

import (
	"context"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// PoisonStream holds the messages no handler could process after its
// retries, for operators to inspect and replay.
const (
	PoisonStream  = "SAFESIGNAL_POISON"
	PoisonSubject = "safesignal.poison"
	poisonTopic   = "policies"
)

// Handler reacts to one commit of the log. It must be idempotent: a commit
// can come again after a crash between the effect and the ack.
type Handler struct {
	// Name is the handler's name and its durable consumer's name.
	Name string
	// Handle gets the raw commit as a watermill message (payload = the
	// commit body; metadata = subject, stream sequence, correlation id).
	Handle func(msg *message.Message) error
}

// RouterConfig tunes the retries before a message goes to the poison queue.
type RouterConfig struct {
	MaxRetries      int
	InitialInterval time.Duration
	MaxInterval     time.Duration
	// OnFailure, when set, is told of every failed attempt of a handler.
	OnFailure func(handler string)
	// Replicas of the poison stream (default 1).
	Replicas int
}

// Router runs policy handlers on a watermill router.
type Router struct {
	router *message.Router
	sub    *Subscriber
}

// EnsurePoisonStream creates or updates the poison-queue stream.
func EnsurePoisonStream(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.Stream, error) {
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        PoisonStream,
		Description: "Safesignal policy messages that failed every retry",
		Subjects:    []string{PoisonSubject + ".>"},
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
		Duplicates:  10 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("poison stream: %w", err)
	}
	return s, nil
}

// NewRouter builds a router with the project's middleware around handlers
// reading events from events through durable consumers.
func NewRouter(ctx context.Context, js jetstream.JetStream, events jetstream.Stream, cfg RouterConfig, logger *zap.Logger, handlers ...Handler) (*Router, error) {
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 5
	}
	if cfg.InitialInterval == 0 {
		cfg.InitialInterval = 200 * time.Millisecond
	}
	if cfg.MaxInterval == 0 {
		cfg.MaxInterval = 10 * time.Second
	}
	wlog := newZapLogger(logger)
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, wlog)
	if err != nil {
		return nil, fmt.Errorf("policy router: %w", err)
	}
	if _, err := EnsurePoisonStream(ctx, js, cfg.Replicas); err != nil {
		return nil, err
	}
	poison, err := middleware.PoisonQueue(NewPublisher(js, PoisonSubject), poisonTopic)
	if err != nil {
		return nil, fmt.Errorf("poison queue: %w", err)
	}
	retry := middleware.Retry{
		MaxRetries:      cfg.MaxRetries,
		InitialInterval: cfg.InitialInterval,
		MaxInterval:     cfg.MaxInterval,
		Multiplier:      2,
		Logger:          wlog,
	}
	// Outermost first: a panic becomes an error (Recoverer), is retried
	// with backoff (Retry), and after the last retry the message is parked
	// in the poison queue and acknowledged (PoisonQueue).
	r.AddMiddleware(middleware.CorrelationID, poison, retry.Middleware, middleware.Recoverer)

	sub := NewSubscriber(events, SubscriberConfig{})
	for _, h := range handlers {
		handle := h.Handle
		if cfg.OnFailure != nil {
			name := h.Name
			handle = func(msg *message.Message) (err error) {
				defer func() {
					if err != nil {
						cfg.OnFailure(name)
					}
				}()
				return h.Handle(msg)
			}
		}
		r.AddConsumerHandler(h.Name, h.Name, sub, handle)
	}
	return &Router{router: r, sub: sub}, nil
}

// Run runs the handlers until ctx ends.
func (r *Router) Run(ctx context.Context) error {
	err := r.router.Run(ctx)
	_ = r.sub.Close()
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("policy router: %w", err)
	}
	return nil
}

// Running is closed once the router runs.
func (r *Router) Running() chan struct{} { return r.router.Running() }
