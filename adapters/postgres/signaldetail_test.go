package postgres_test

import (
	"context"
	"testing"

	"github.com/safesignal/safesignal/adapters/postgres"
	"github.com/safesignal/safesignal/adapters/postgres/pgtest"
	"github.com/safesignal/safesignal/projections/signaldetail"
	"github.com/safesignal/safesignal/projections/signaldetail/signaldetailtest"
)

func openSignalDetail(t *testing.T) *postgres.SignalDetail {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.OpenSignalDetail(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSignalDetailContract(t *testing.T) {
	t.Parallel()
	signaldetailtest.Run(t, func(t *testing.T) signaldetail.Store { return openSignalDetail(t) })
}
