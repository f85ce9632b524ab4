package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/safesignal/safesignal/projections"
	"go.uber.org/zap"
)

// Progress is how far a rebuild has come.
type Progress struct {
	// Done is the last stream sequence applied; Total the stream's last
	// sequence when the rebuild started.
	Done, Total uint64
	Elapsed     time.Duration
}

// RebuildOptions tune a rebuild.
type RebuildOptions struct {
	// Force rebuilds even when the tables are of the current version.
	Force bool
	// Progress, when set, is called about four times a second.
	Progress func(Progress)
	// BatchSize is how many commits one transaction applies (default 2000).
	BatchSize int
	Logger    *zap.Logger
}

// RebuildResult says what a rebuild did.
type RebuildResult struct {
	Rebuilt bool
	// Through is the stream sequence the swapped-in tables hold.
	Through uint64
	Took    time.Duration
}

// Rebuild builds the signal_detail table afresh from the log into a table
// of its own, while the current one goes on serving and following the
// log; then, in one transaction that holds the checkpoint row's lock (so
// no batch is applied meanwhile), it makes sure the new table is at least
// as far as the old one and swaps it in. Without Force it does nothing
// when the tables are of the current version. Replicas rebuilding at once
// take turns under an advisory lock; the later finds the work done.
func (s *SignalDetail) Rebuild(ctx context.Context, log projections.Log, codec *projections.Codec, opts RebuildOptions) (RebuildResult, error) {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 2000
	}
	var res RebuildResult
	err := withLock(ctx, s.pool, "projection:"+s.table, func() error {
		if !opts.Force {
			stale, err := s.Stale(ctx)
			if err != nil || !stale {
				return err
			}
		}
		started := time.Now()
		next := &SignalDetail{pool: s.pool, table: s.table + "_next"}
		if _, err := s.pool.Exec(ctx, "DROP TABLE IF EXISTS "+next.table); err != nil {
			return fmt.Errorf("rebuild %s: %w", s.table, err)
		}
		if err := next.create(ctx, s.pool, false); err != nil {
			return err
		}
		total, err := log.LastSequence(ctx)
		if err != nil {
			return fmt.Errorf("rebuild %s: %w", s.table, err)
		}
		var suffix [4]byte
		_, _ = rand.Read(suffix[:])
		runner := projections.NewRunner(log, codec, next, projections.RunnerOptions{
			ConsumerName:      "rebuild_" + s.table + "_" + hex.EncodeToString(suffix[:]),
			InactiveThreshold: 5 * time.Minute,
			BatchSize:         opts.BatchSize,
		}, opts.Logger)
		runCtx, stop := context.WithCancel(ctx)
		defer stop()
		runErr := make(chan error, 1)
		go func() { runErr <- runner.Run(runCtx) }()

		wait := func(seq uint64) error {
			wctx, cancel := context.WithCancel(ctx)
			defer cancel()
			reached := make(chan error, 1)
			go func() { reached <- runner.WaitFor(wctx, seq) }()
			tick := time.NewTicker(250 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case err := <-reached:
					return err
				case err := <-runErr:
					if err == nil {
						err = errors.New("stopped")
					}
					return fmt.Errorf("rebuild %s: %w", s.table, err)
				case <-tick.C:
					if opts.Progress != nil {
						opts.Progress(Progress{Done: min(runner.Position(), total), Total: total, Elapsed: time.Since(started)})
					}
				}
			}
		}
		if err := wait(total); err != nil {
			return err
		}
		if opts.Progress != nil {
			opts.Progress(Progress{Done: total, Total: total, Elapsed: time.Since(started)})
		}
		if err := next.index(ctx, s.pool); err != nil {
			return err
		}
		for {
			through, swapped, err := s.swap(ctx, next)
			if err != nil {
				return err
			}
			if swapped {
				stop()
				res = RebuildResult{Rebuilt: true, Through: through, Took: time.Since(started)}
				opts.Logger.Info("projection rebuilt", zap.String("projection", s.table), zap.Uint64("through", through),
					zap.Duration("took", res.Took), zap.Float64("eventsPerSecond", float64(through)/res.Took.Seconds()))
				return nil
			}
			// The live table has moved on meanwhile: catch up and try again.
			if err := wait(through); err != nil {
				return err
			}
		}
	})
	return res, err
}

// swap replaces the live table by next when next holds at least what the
// live one does. Otherwise it returns the live checkpoint to catch up to.
func (s *SignalDetail) swap(ctx context.Context, next *SignalDetail) (uint64, bool, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("swap %s: %w", s.table, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var live int64
	err = tx.QueryRow(ctx, "SELECT sequence FROM projection_checkpoints WHERE name = $1 FOR UPDATE", s.table).Scan(&live)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, false, fmt.Errorf("swap %s: lock checkpoint: %w", s.table, err)
	}
	// The runner's own batches hold the next table's checkpoint row; read
	// it in this transaction, after the lock, so it cannot move.
	var built int64
	if err := tx.QueryRow(ctx, "SELECT sequence FROM projection_checkpoints WHERE name = $1 FOR UPDATE", next.table).Scan(&built); err != nil {
		return 0, false, fmt.Errorf("swap %s: %w", s.table, err)
	}
	if built < live {
		return uint64(live), false, nil
	}
	stmts := []string{"DROP TABLE IF EXISTS " + s.table, "ALTER TABLE " + next.table + " RENAME TO " + s.table}
	for _, suffix := range indexSuffixes {
		stmts = append(stmts, fmt.Sprintf("ALTER INDEX %s_%s RENAME TO %s_%s", next.table, suffix, s.table, suffix))
	}
	for _, q := range stmts {
		if _, err := tx.Exec(ctx, q); err != nil {
			return 0, false, fmt.Errorf("swap %s: %s: %w", s.table, q, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO projection_checkpoints (name, sequence, version) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET sequence = EXCLUDED.sequence, version = EXCLUDED.version, updated_at = now()`,
		s.table, built, SignalDetailVersion); err != nil {
		return 0, false, fmt.Errorf("swap %s: checkpoint: %w", s.table, err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM projection_checkpoints WHERE name = $1", next.table); err != nil {
		return 0, false, fmt.Errorf("swap %s: %w", s.table, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, false, fmt.Errorf("swap %s: commit: %w", s.table, err)
	}
	return uint64(built), true, nil
}
