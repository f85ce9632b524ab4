package domain

import (
	"strings"
	"testing"
)

func TestMustLocationPanicsOnAZoneMissingFromTheDatabase(t *testing.T) {
	t.Parallel()
	defer func() {
		r := recover()
		msg, ok := r.(string)
		if !ok || !strings.Contains(msg, "Europe/Atlantis") {
			t.Fatalf("want a panic naming the zone, got %v", r)
		}
	}()
	mustLocation("Europe/Atlantis")
}
