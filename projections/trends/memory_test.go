package trends_test

import (
	"testing"

	"github.com/safesignal/safesignal/projections/trends"
	"github.com/safesignal/safesignal/projections/trends/trendstest"
)

func TestMemoryContract(t *testing.T) {
	t.Parallel()
	trendstest.Run(t, func(*testing.T) trends.Store { return trends.NewMemory() })
}
