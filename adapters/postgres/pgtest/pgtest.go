// Package pgtest gives each test a schema of its own on the real
// PostgreSQL named by SAFESIGNAL_TEST_DATABASE_URL (default: the local
// test database), dropped when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultURL is the test database when SAFESIGNAL_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL is the test database's URL.
func URL() string {
	if u := os.Getenv("SAFESIGNAL_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Schema creates a fresh schema and returns a URL whose connections use
// it, so that a separate process can be pointed at it too.
func Schema(t testing.TB) (schema, url string) {
	t.Helper()
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, URL())
	if err != nil {
		t.Fatalf("PostgreSQL for tests: %v", err)
	}
	t.Cleanup(admin.Close)
	if err := admin.Ping(ctx); err != nil {
		t.Fatalf("PostgreSQL for tests at %s: %v (make test starts it; or set SAFESIGNAL_TEST_DATABASE_URL)", URL(), err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema = "test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	cfg, err := pgxpool.ParseConfig(URL())
	if err != nil {
		t.Fatal(err)
	}
	return schema, WithSearchPath(cfg.ConnString(), schema)
}

// WithSearchPath adds a search_path to a postgres:// URL.
func WithSearchPath(url, schema string) string {
	sep := "?"
	for _, c := range url {
		if c == '?' {
			sep = "&"
		}
	}
	return url + sep + "search_path=" + schema
}

// Pool opens a pool on a fresh schema, closed when the test ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	_, url := Schema(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
