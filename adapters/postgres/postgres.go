// Package postgres keeps read models in PostgreSQL: connection, schema
// migrations, the stores of the projections and their rebuild.
//
// Every store applies a batch of events and its checkpoint in one
// transaction, under a lock on the projection's checkpoint row, and skips
// whatever is at or below the checkpoint: a crash anywhere, a redelivery,
// or a second replica applying the same log leaves the tables as a clean
// rebuild would.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Connect opens a pool on url (a postgres:// URL or key=value string). A
// search_path given in the URL's options applies to every connection.
func Connect(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL at %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return pool, nil
}

// Migration is one applied or pending schema migration.
type Migration struct {
	Version int64
	Name    string
	Applied bool
}

// Migrate brings the schema of the pool's current schema up to date. It
// holds a session advisory lock keyed by the schema name while it runs,
// so replicas starting at once migrate one after the other and the second
// finds nothing left to do. It returns the migrations it applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool) ([]Migration, error) {
	p, closeDB, err := provider(ctx, pool)
	if err != nil {
		return nil, err
	}
	defer closeDB()
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	out := make([]Migration, 0, len(results))
	for _, r := range results {
		out = append(out, Migration{Version: r.Source.Version, Name: r.Source.Path, Applied: true})
	}
	return out, nil
}

// MigrationStatus lists every migration and whether it has been applied.
func MigrationStatus(ctx context.Context, pool *pgxpool.Pool) ([]Migration, error) {
	p, closeDB, err := provider(ctx, pool)
	if err != nil {
		return nil, err
	}
	defer closeDB()
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]Migration, 0, len(st))
	for _, s := range st {
		out = append(out, Migration{Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied})
	}
	return out, nil
}

func provider(ctx context.Context, pool *pgxpool.Pool) (*goose.Provider, func(), error) {
	var schema string
	if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return nil, nil, fmt.Errorf("current schema: %w", err)
	}
	if schema == "" {
		return nil, nil, errors.New("migrate: no current schema (check search_path)")
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID("migrate:" + schema)))
	if err != nil {
		return nil, nil, fmt.Errorf("migration lock: %w", err)
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, nil, fmt.Errorf("migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("migrations: %w", err)
	}
	return p, func() { _ = db.Close() }, nil
}

// lockID is a stable advisory lock key for name.
func lockID(name string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return int64(h.Sum64() & (1<<63 - 1))
}

// withLock runs fn while holding the session advisory lock for name on a
// connection of its own.
func withLock(ctx context.Context, pool *pgxpool.Pool, name string, fn func() error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	defer conn.Release()
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	id := lockID(schema + ":" + name)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", id); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	defer func() {
		// A fresh context: the lock must go even when ctx has ended.
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", id)
	}()
	return fn()
}

// checkpoint reads a projection's checkpoint and version; a projection
// never built has neither.
func checkpoint(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, name string) (seq uint64, version int, found bool, err error) {
	var s int64
	err = q.QueryRow(ctx, "SELECT sequence, version FROM projection_checkpoints WHERE name = $1", name).Scan(&s, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("checkpoint of %s: %w", name, err)
	}
	return uint64(s), version, true, nil
}
