package signaldetail_test

import (
	"testing"

	"github.com/safesignal/safesignal/projections/signaldetail"
	"github.com/safesignal/safesignal/projections/signaldetail/signaldetailtest"
)

func TestMemoryContract(t *testing.T) {
	t.Parallel()
	signaldetailtest.Run(t, func(*testing.T) signaldetail.Store { return signaldetail.NewMemory() })
}
