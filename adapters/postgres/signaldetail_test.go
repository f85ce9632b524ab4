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
	signaldetailtest.Run(t, func(t *testing.T) signaldetail.Store {
		s := openSignalDetail(t)
		// Pages of 8 rows, so that exports cross page boundaries, and an
		// unfiltered one ends exactly on one (an organisation has 40
		// signals), leaving a last, empty page.
		postgres.SetExportPage(s, 8)
		return s
	})
}
