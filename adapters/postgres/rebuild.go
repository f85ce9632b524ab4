package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/safesignal/safesignal/projections"
	"go.uber.org/zap"
)

// rebuildable is a PostgreSQL projection whose tables can be built afresh
// under other names and swapped in. Its tables and indexes are named
// base()+suffix; its checkpoint row is named base().
type rebuildable interface {
	projections.Projection
	base() string
	version() int
	// tables and indexes list the suffixes of the relations a swap renames.
	tables() []string
	indexes() []string
	// at returns the same store on relations named after base.
	at(base string) rebuildable
	// create makes the tables (and, with indexes, the secondary indexes).
	create(ctx context.Context, indexes bool) error
	index(ctx context.Context) error
}

// open creates the projection's tables and checkpoint on first use.
func open(ctx context.Context, pool *pgxpool.Pool, r rebuildable) error {
	err := withLock(ctx, pool, "projection:"+r.base(), func() error {
		_, _, found, err := checkpoint(ctx, pool, r.base())
		if err != nil || found {
			return err
		}
		if err := r.create(ctx, true); err != nil {
			return err
		}
		return resetCheckpoint(ctx, pool, r.base(), r.version())
	})
	if err != nil {
		return fmt.Errorf("open %s: %w", r.base(), err)
	}
	return nil
}

func resetCheckpoint(ctx context.Context, pool *pgxpool.Pool, name string, version int) error {
	_, err := pool.Exec(ctx, `INSERT INTO projection_checkpoints (name, sequence, version) VALUES ($1, 0, $2)
ON CONFLICT (name) DO UPDATE SET sequence = 0, version = EXCLUDED.version, updated_at = now()`, name, version)
	if err != nil {
		return fmt.Errorf("checkpoint of %s: %w", name, err)
	}
	return nil
}

// stale reports whether the tables were built by another version.
func stale(ctx context.Context, pool *pgxpool.Pool, r rebuildable) (bool, error) {
	_, v, found, err := checkpoint(ctx, pool, r.base())
	return !found || v != r.version(), err
}

// beginApply starts a batch's transaction and locks the checkpoint row.
// It returns a nil transaction when the checkpoint is at or past through:
// the batch was applied already, by an earlier delivery or another
// replica.
func beginApply(ctx context.Context, pool *pgxpool.Pool, name string, through uint64) (pgx.Tx, uint64, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: begin: %w", name, err)
	}
	var cp int64
	err = tx.QueryRow(ctx, "SELECT sequence FROM projection_checkpoints WHERE name = $1 FOR UPDATE", name).Scan(&cp)
	if err == nil && through > uint64(cp) {
		return tx, uint64(cp), nil
	}
	_ = tx.Rollback(context.WithoutCancel(ctx))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, 0, fmt.Errorf("%s: no checkpoint row: the tables were not created or were swapped away", name)
	case err != nil:
		return nil, 0, fmt.Errorf("%s: lock checkpoint: %w", name, err)
	}
	return nil, uint64(cp), nil
}

// commitApply moves the checkpoint to through and commits.
func commitApply(ctx context.Context, tx pgx.Tx, name string, through uint64) error {
	if _, err := tx.Exec(ctx, "UPDATE projection_checkpoints SET sequence = $2, updated_at = now() WHERE name = $1", name, int64(through)); err != nil {
		return fmt.Errorf("%s: checkpoint: %w", name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: commit: %w", name, err)
	}
	return nil
}

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

// rebuild builds a projection's tables afresh from the log under names of
// their own, while the current ones go on serving and following the log;
// then, in one transaction that holds the live checkpoint row's lock (so
// no batch is applied meanwhile), it makes sure the new tables are at
// least as far as the old ones and swaps them in. Without Force it does
// nothing when the tables are of the current version. Replicas rebuilding
// at once take turns under an advisory lock; the later finds the work
// done.
func rebuild(ctx context.Context, pool *pgxpool.Pool, live rebuildable, log projections.Log, codec *projections.Codec, opts RebuildOptions) (RebuildResult, error) {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 2000
	}
	name := live.base()
	var res RebuildResult
	if !opts.Force {
		// Most starts find the tables current: say so without taking the
		// lock, which holds a connection of the pool while it waits.
		if st, err := stale(ctx, pool, live); err != nil || !st {
			return res, err
		}
	}
	err := withLock(ctx, pool, "projection:"+name, func() error {
		if !opts.Force {
			st, err := stale(ctx, pool, live)
			if err != nil || !st {
				return err
			}
		}
		started := time.Now()
		next := live.at(name + "_next")
		for _, t := range next.tables() {
			if _, err := pool.Exec(ctx, "DROP TABLE IF EXISTS "+next.base()+t); err != nil {
				return fmt.Errorf("rebuild %s: %w", name, err)
			}
		}
		if err := next.create(ctx, false); err != nil {
			return err
		}
		if err := resetCheckpoint(ctx, pool, next.base(), next.version()); err != nil {
			return err
		}
		total, err := log.LastSequence(ctx)
		if err != nil {
			return fmt.Errorf("rebuild %s: %w", name, err)
		}
		var suffix [4]byte
		_, _ = rand.Read(suffix[:])
		runner := projections.NewRunner(log, codec, next, projections.RunnerOptions{
			ConsumerName:      "rebuild_" + name + "_" + hex.EncodeToString(suffix[:]),
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
					return fmt.Errorf("rebuild %s: %w", name, err)
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
		if err := next.index(ctx); err != nil {
			return err
		}
		for {
			through, swapped, err := swap(ctx, pool, live, next)
			if err != nil {
				return err
			}
			if swapped {
				stop()
				res = RebuildResult{Rebuilt: true, Through: through, Took: time.Since(started)}
				opts.Logger.Info("projection rebuilt", zap.String("projection", name), zap.Uint64("through", through),
					zap.Duration("took", res.Took), zap.Float64("eventsPerSecond", float64(through)/res.Took.Seconds()))
				return nil
			}
			// The live tables have moved on meanwhile: catch up and try again.
			if err := wait(through); err != nil {
				return err
			}
		}
	})
	return res, err
}

// swap replaces the live tables by next's when next holds at least what
// the live ones do. Otherwise it returns the live checkpoint to catch up to.
func swap(ctx context.Context, pool *pgxpool.Pool, live, next rebuildable) (uint64, bool, error) {
	name := live.base()
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("swap %s: %w", name, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var current int64
	err = tx.QueryRow(ctx, "SELECT sequence FROM projection_checkpoints WHERE name = $1 FOR UPDATE", name).Scan(&current)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, false, fmt.Errorf("swap %s: lock checkpoint: %w", name, err)
	}
	// The rebuild's runner moves next's checkpoint row; read it in this
	// transaction, under its lock, so it cannot move.
	var built int64
	if err := tx.QueryRow(ctx, "SELECT sequence FROM projection_checkpoints WHERE name = $1 FOR UPDATE", next.base()).Scan(&built); err != nil {
		return 0, false, fmt.Errorf("swap %s: %w", name, err)
	}
	if built < current {
		return uint64(current), false, nil
	}
	var stmts []string
	for _, t := range live.tables() {
		stmts = append(stmts, "DROP TABLE IF EXISTS "+name+t)
	}
	for _, t := range live.tables() {
		stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s%s RENAME TO %s%s", next.base(), t, name, t))
	}
	for _, i := range live.indexes() {
		stmts = append(stmts, fmt.Sprintf("ALTER INDEX %s%s RENAME TO %s%s", next.base(), i, name, i))
	}
	for _, q := range stmts {
		if _, err := tx.Exec(ctx, q); err != nil {
			return 0, false, fmt.Errorf("swap %s: %s: %w", name, q, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO projection_checkpoints (name, sequence, version) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET sequence = EXCLUDED.sequence, version = EXCLUDED.version, updated_at = now()`,
		name, built, live.version()); err != nil {
		return 0, false, fmt.Errorf("swap %s: checkpoint: %w", name, err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM projection_checkpoints WHERE name = $1", next.base()); err != nil {
		return 0, false, fmt.Errorf("swap %s: %w", name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, false, fmt.Errorf("swap %s: commit: %w", name, err)
	}
	return uint64(built), true, nil
}
