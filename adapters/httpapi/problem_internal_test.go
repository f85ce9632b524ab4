package httpapi

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/safesignal/safesignal/adapters/commands"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
)

// TestProblemNamesTheObject: a refused command on a lesson or a
// peer-support request says so, not "signal".
func TestProblemNamesTheObject(t *testing.T) {
	t.Parallel()
	s := &Server{}
	r := httptest.NewRequest("POST", "/api/v1/lessons/x/applied", nil)
	for _, tc := range []struct {
		err            error
		object         string
		status         int
		title, inParts string
	}{
		{fmt.Errorf("get: %w", domain.ErrNotFound), "lesson", 404, "Lesson not found", "no lesson with this id"},
		{commands.ErrVersionMismatch, "peer-support request", 409, "The peer-support request has changed", "the peer-support request changed"},
		{eventstore.ErrConflict, "lesson", 409, "Concurrent change", "another change to this lesson"},
		{domain.ErrNotFound, "signal", 404, "Signal not found", "no signal with this id"},
	} {
		p := s.problemOf(r, tc.err, tc.object)
		if p.Status != tc.status || p.Title != tc.title || !strings.Contains(p.Detail, tc.inParts) {
			t.Errorf("%v on a %s: %d %q %q", tc.err, tc.object, p.Status, p.Title, p.Detail)
		}
	}
	if p := s.commandProblem(r, domain.ErrNotFound); p.Title != "Signal not found" {
		t.Errorf("commandProblem: %q", p.Title)
	}
}
