package projections_test

import (
	"testing"

	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections"
)

// TestEveryDomainEventIsRegistered: an event the decider can emit but the
// log cannot decode would stop every projection.
func TestEveryDomainEventIsRegistered(t *testing.T) {
	t.Parallel()
	reg, err := projections.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range domain.EventTypes() {
		if _, ok := reg.Version(name); !ok {
			t.Errorf("event type %s is not registered", name)
		}
	}
	if got, want := len(reg.Names()), len(domain.EventTypes()); got != want {
		t.Errorf("%d registered event types, the domain has %d", got, want)
	}
}
