package postgres_test

import (
	"context"
	"testing"

	"github.com/safesignal/safesignal/adapters/postgres"
	"github.com/safesignal/safesignal/adapters/postgres/pgtest"
	"github.com/safesignal/safesignal/projections/peersupport"
	"github.com/safesignal/safesignal/projections/peersupport/peersupporttest"
)

func openPeerSupport(t *testing.T) *postgres.PeerSupport {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.OpenPeerSupport(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPeerSupportContract(t *testing.T) {
	t.Parallel()
	peersupporttest.Run(t, func(t *testing.T) peersupport.Store { return openPeerSupport(t) })
}
