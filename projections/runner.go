package projections

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/safesignal/safesignal/eventstore"
	"go.uber.org/zap"
)

// Projection is a read model the runner feeds. Apply must store the
// effect of the batch and the batch's last sequence as the checkpoint in
// one atomic step, so that a crash leaves either both or neither.
type Projection interface {
	// Name identifies the projection (and its durable consumer).
	Name() string
	// Checkpoint is the last stream sequence the read model holds.
	Checkpoint(ctx context.Context) (uint64, error)
	// Apply folds a batch of events (all after the checkpoint, in order)
	// and sets the checkpoint to through.
	Apply(ctx context.Context, batch []Event, through uint64) error
}

// Log is what the runner reads from.
type Log interface {
	Consume(ctx context.Context, opts eventstore.ConsumeOptions, handle eventstore.Handler) error
	LastSequence(ctx context.Context) (uint64, error)
}

// RunnerOptions tune a runner.
type RunnerOptions struct {
	// ConsumerName is the durable consumer's name; defaults to the
	// projection's name. Read models kept in one process's memory use a
	// name of their own per process.
	ConsumerName string
	// InactiveThreshold lets the server drop the consumer when the process
	// is gone (for memory read models).
	InactiveThreshold time.Duration
	BatchSize         int
	// DecodeWorkers is how many commits of a batch are decoded at once
	// (default DefaultDecodeWorkers). Events are applied in order anyway.
	DecodeWorkers int
}

// DefaultDecodeWorkers is the default of RunnerOptions.DecodeWorkers.
const DefaultDecodeWorkers = 16

// Runner feeds one projection from the log: it resumes after the
// projection's own checkpoint, applies in order, and tells waiters how far
// it has come.
type Runner struct {
	log    Log
	codec  *Codec
	proj   Projection
	opts   RunnerOptions
	logger *zap.Logger

	mu       sync.Mutex
	position uint64
	target   uint64 // the stream's last sequence when the runner started
	running  bool   // checkpoint and target are known
	pending  uint64 // messages the consumer had left after the last batch
	behind   time.Time
	started  time.Time
	advanced chan struct{}
	err      error
}

// NewRunner returns a runner for proj.
func NewRunner(log Log, codec *Codec, proj Projection, opts RunnerOptions, logger *zap.Logger) *Runner {
	if opts.ConsumerName == "" {
		opts.ConsumerName = proj.Name()
	}
	return &Runner{log: log, codec: codec, proj: proj, opts: opts, logger: logger.With(zap.String("projection", proj.Name())), advanced: make(chan struct{})}
}

// Name is the projection's name.
func (r *Runner) Name() string { return r.proj.Name() }

// Run follows the log until ctx ends. It returns an error only when it
// cannot go on (the consumer cannot be set up, an event does not decode).
func (r *Runner) Run(ctx context.Context) error {
	checkpoint, err := r.proj.Checkpoint(ctx)
	if err != nil && ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return r.fail(fmt.Errorf("projection %s: read checkpoint: %w", r.proj.Name(), err))
	}
	target, err := r.log.LastSequence(ctx)
	if err != nil && ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return r.fail(fmt.Errorf("projection %s: %w", r.proj.Name(), err))
	}
	r.mu.Lock()
	r.position, r.target, r.running, r.started = checkpoint, target, true, time.Now()
	r.mu.Unlock()
	r.logger.Info("projection catching up", zap.Uint64("checkpoint", checkpoint), zap.Uint64("target", target))
	started := time.Now()
	reported := target <= checkpoint

	// Decoding a batch overlaps with applying the one before: one batch
	// is applied at a time, in order, and retried until it succeeds; the
	// next is decoded meanwhile. The consumer acknowledges a batch once it
	// is decoded, one batch ahead of the apply: the checkpoint, not the
	// acknowledgement, is where a restarted runner resumes.
	decoded := checkpoint
	applied := make(chan struct{}, 1)
	inflight := false
	err = r.log.Consume(ctx, eventstore.ConsumeOptions{
		Durable:           r.opts.ConsumerName,
		After:             checkpoint,
		BatchSize:         r.opts.BatchSize,
		InactiveThreshold: r.opts.InactiveThreshold,
	}, func(ctx context.Context, commits []eventstore.Commit) error {
		fresh := commits
		for len(fresh) > 0 && fresh[0].Sequence <= decoded {
			fresh = fresh[1:] // already handled: a redelivery
		}
		if len(fresh) == 0 {
			return nil
		}
		through := fresh[len(fresh)-1].Sequence
		batch, err := r.decode(ctx, fresh)
		if err != nil {
			return err
		}
		if inflight {
			select {
			case <-applied:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		inflight, decoded = true, through
		pending := commits[len(commits)-1].Pending
		go func() {
			defer func() { applied <- struct{}{} }()
			if !r.apply(ctx, batch, through, pending) {
				return
			}
			if !reported && through >= target {
				reported = true
				r.logger.Info("projection caught up", zap.Uint64("position", through), zap.Duration("took", time.Since(started)))
			}
		}()
		return nil
	})
	if inflight {
		<-applied
	}
	if err != nil && ctx.Err() == nil {
		return r.fail(fmt.Errorf("projection %s: %w", r.proj.Name(), err))
	}
	return nil
}

// apply applies one batch, retrying with capped backoff until it succeeds
// (true) or ctx ends (false).
func (r *Runner) apply(ctx context.Context, batch []Event, through, pending uint64) bool {
	pause := 100 * time.Millisecond
	for {
		err := r.proj.Apply(ctx, batch, through)
		if err == nil {
			r.advance(through, pending)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		r.logger.Warn("projection apply failed; retrying", zap.Error(err), zap.Duration("pause", pause))
		select {
		case <-ctx.Done():
			return false
		case <-time.After(pause):
		}
		pause = min(2*pause, 10*time.Second)
	}
}

// decode decodes commits on up to DecodeWorkers goroutines and returns
// their events in the commits' order. Decoding one commit waits for its
// data keys (a request to the key stream when not cached) and decrypts:
// done one after the other, a rebuild spends most of its time waiting.
func (r *Runner) decode(ctx context.Context, commits []eventstore.Commit) ([]Event, error) {
	decoded := make([][]Event, len(commits))
	errs := make([]error, len(commits))
	workers := min(r.opts.DecodeWorkers, len(commits))
	if workers <= 0 {
		workers = min(DefaultDecodeWorkers, len(commits))
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(commits) {
					return
				}
				decoded[i], errs[i] = r.codec.Decode(ctx, commits[i])
			}
		})
	}
	wg.Wait()
	n := 0
	for i := range decoded {
		if errs[i] != nil {
			return nil, errs[i] // the first in stream order
		}
		n += len(decoded[i])
	}
	batch := make([]Event, 0, n)
	for _, events := range decoded {
		batch = append(batch, events...)
	}
	return batch, nil
}

func (r *Runner) fail(err error) error {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
	return err
}

func (r *Runner) advance(seq, pending uint64) {
	r.mu.Lock()
	r.position = seq
	switch {
	case pending == 0:
		r.behind = time.Time{}
	case r.pending == 0:
		r.behind = time.Now()
	}
	r.pending = pending
	close(r.advanced)
	r.advanced = make(chan struct{})
	r.mu.Unlock()
}

// Behind says how many messages the projection has still to apply, as of
// its last batch, and for how long it has been behind.
func (r *Runner) Behind() (uint64, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running && r.position < r.target {
		return r.target - r.position, time.Since(r.started)
	}
	if r.pending == 0 {
		return 0, 0
	}
	return r.pending, time.Since(r.behind)
}

// Position is the last stream sequence applied.
func (r *Runner) Position() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.position
}

// Ready reports whether the runner has caught up with the log as it stood
// when the runner started, and has not failed.
func (r *Runner) Ready() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running && r.err == nil && r.position >= r.target
}

// Err is the error that stopped the runner, if any.
func (r *Runner) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// WaitFor blocks until the runner has applied sequence seq, or ctx ends.
func (r *Runner) WaitFor(ctx context.Context, seq uint64) error {
	for {
		r.mu.Lock()
		pos, ch := r.position, r.advanced
		r.mu.Unlock()
		if pos >= seq {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for projection %s to reach %d (at %d): %w", r.proj.Name(), seq, pos, ctx.Err())
		case <-ch:
		}
	}
}
