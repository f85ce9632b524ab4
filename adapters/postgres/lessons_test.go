package postgres_test

import (
	"context"
	"testing"

	"github.com/safesignal/safesignal/adapters/postgres"
	"github.com/safesignal/safesignal/adapters/postgres/pgtest"
	"github.com/safesignal/safesignal/projections/lessons"
	"github.com/safesignal/safesignal/projections/lessons/lessonstest"
)

func openLessons(t *testing.T) *postgres.Lessons {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.OpenLessons(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLessonsContract(t *testing.T) {
	t.Parallel()
	lessonstest.Run(t, func(t *testing.T) lessons.Store { return openLessons(t) })
}
