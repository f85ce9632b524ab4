package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safesignal/safesignal/adapters/auth"
)

type lifecycle struct {
	t       *testing.T
	h       *harness
	id      string
	version int
}

func fileOne(t *testing.T, h *harness) *lifecycle {
	t.Helper()
	res := h.do(http.MethodPost, "/api/v1/signals", h.token(reporter("alice", "umc-utrecht")), mustJSON(t, validBody()), nil)
	if res.status != http.StatusCreated {
		t.Fatalf("file: %d %s", res.status, res.body)
	}
	return &lifecycle{t: t, h: h, id: strings.TrimPrefix(res.header.Get("Location"), "/api/v1/signals/"), version: 1}
}

// send posts a command with the current version and expects status.
func (l *lifecycle) send(token, command, body string, status int) response {
	l.t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	r := l.h.do(http.MethodPost, "/api/v1/signals/"+l.id+"/"+command, token, b, map[string]string{"If-Match": fmt.Sprintf(`"%d"`, l.version)})
	if r.status != status {
		l.t.Fatalf("%s: got %d, want %d: %s", command, r.status, status, r.body)
	}
	if r.status == http.StatusOK {
		var v struct{ Version int }
		r.json(l.t, &v)
		if v.Version <= l.version || r.header.Get("ETag") != fmt.Sprintf(`"%d"`, v.Version) {
			l.t.Fatalf("%s: version %d after %d, ETag %s", command, v.Version, l.version, r.header.Get("ETag"))
		}
		l.version = v.Version
	}
	return r
}

func (l *lifecycle) get(token string) map[string]any {
	l.t.Helper()
	r := l.h.do(http.MethodGet, "/api/v1/signals/"+l.id, token, nil, nil)
	if r.status != http.StatusOK {
		l.t.Fatalf("get: %d %s", r.status, r.body)
	}
	var v map[string]any
	r.json(l.t, &v)
	return v
}

func TestLifecycleOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	l := fileOne(t, h)
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	colleague := h.token(auth.Principal{Subject: "cora", Role: auth.RoleColleague, Organisation: "isala", Specialty: "anaesthesiology", Region: "NL-OV"})
	alice := h.token(reporter("alice", "umc-utrecht"))

	l.send(officer, "close", `{"outcome":"no_action_required","summary":"x"}`, http.StatusConflict) // not acknowledged yet
	l.send(officer, "acknowledge", "", http.StatusOK)
	l.send(officer, "acknowledge", "", http.StatusConflict) // twice
	l.send(officer, "classify", `{"kind":"harmful_incident","category":"medication","harm":"none"}`, http.StatusUnprocessableEntity)
	l.send(officer, "classify", `{"kind":"harmful_incident","category":"medication","harm":"severe","contributingFactors":["medication_process","communication"],"reportable":true,"note":"calamity"}`, http.StatusOK)
	got := l.get(officer)
	reg, ok := got["regulatory"].(map[string]any)
	if !ok || reg["regulator"] == "" || reg["dueAt"] == "" || got["kind"] != "harmful_incident" {
		t.Fatalf("classification or deadline not shown: %v", got)
	}
	r := l.send(officer, "escalate", `{"targets":{"specialties":["anaesthesiology"],"regions":["NL"]},"message":"Please check your syringe pump protocols.","summary":"A tenfold morphine dose was prepared for a syringe pump and caught at the bedside check."}`, http.StatusOK)
	var esc struct{ EscalationID string }
	r.json(t, &esc)
	if esc.EscalationID == "" {
		t.Fatalf("no escalation id: %s", r.body)
	}
	l.send(colleague, "acknowledge-escalation", `{"escalationId":"`+esc.EscalationID+`"}`, http.StatusOK)
	l.send(colleague, "respond-escalation", `{"escalationId":"`+esc.EscalationID+`","response":"risk_present","text":"Same pump model here; protocol changed."}`, http.StatusOK)
	l.send(officer, "record-regulator-notification", `{"reference":"IGJ-2026-123","notifiedAt":"`+time.Now().UTC().Format(time.RFC3339)+`"}`, http.StatusOK)
	l.send(officer, "feedback", `{"message":"Thank you. We changed the double-check protocol."}`, http.StatusOK)
	l.send(officer, "close", `{"outcome":"improvement_implemented","summary":"Double check with two nurses for opioids."}`, http.StatusOK)
	l.send(officer, "escalate", `{"targets":{"specialties":["surgery"]},"message":"m","summary":"A summary long enough to be useful."}`, http.StatusConflict)

	// The reporter sees status and feedback, not the case.
	mine := l.get(alice)
	if mine["status"] != "closed" || len(mine["feedback"].([]any)) != 1 || mine["escalations"] != nil || mine["regulatory"] != nil {
		t.Fatalf("reporter's view: %v", mine)
	}

	l.send(officer, "reopen", `{"reason":"The same error happened again."}`, http.StatusOK)
	if st := l.get(officer)["status"]; st != "acknowledged" {
		t.Fatalf("after reopen: %v", st)
	}

	// History: every event in order, no gap.
	hr := h.do(http.MethodGet, "/api/v1/signals/"+l.id+"/history", officer, nil, nil)
	if hr.status != http.StatusOK {
		t.Fatalf("history: %d %s", hr.status, hr.body)
	}
	var hist struct {
		Events []struct {
			Type    string
			Version int
		}
	}
	hr.json(t, &hist)
	wantTypes := []string{"SignalReported", "SignalAcknowledged", "SignalClassified", "RegulatoryDeadlineSet", "SignalEscalated", "EscalationAcknowledged", "EscalationResponded", "RegulatorNotified", "FeedbackSent", "SignalClosed", "SignalReopened"}
	if len(hist.Events) != len(wantTypes) {
		t.Fatalf("history: %+v", hist.Events)
	}
	for i, e := range hist.Events {
		if e.Type != wantTypes[i] || e.Version != i+1 {
			t.Fatalf("history[%d] = %+v, want %s v%d", i, e, wantTypes[i], i+1)
		}
	}
	if hist.Events[len(hist.Events)-1].Version != l.version {
		t.Fatalf("history ends at %d, signal is at %d", hist.Events[len(hist.Events)-1].Version, l.version)
	}
}

func TestCommandPreconditions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	l := fileOne(t, h)
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	path := "/api/v1/signals/" + l.id + "/acknowledge"
	for _, tc := range []struct {
		ifMatch string
		status  int
	}{
		{"", http.StatusPreconditionRequired},
		{"1", http.StatusBadRequest},
		{`"x"`, http.StatusBadRequest},
		{`W/"1"`, http.StatusBadRequest},
		{`"7"`, http.StatusConflict},
	} {
		hdr := map[string]string{}
		if tc.ifMatch != "" {
			hdr["If-Match"] = tc.ifMatch
		}
		if r := h.do(http.MethodPost, path, officer, nil, hdr); r.status != tc.status {
			t.Errorf("If-Match %q: got %d, want %d: %s", tc.ifMatch, r.status, tc.status, r.body)
		}
	}
	// Unknown fields in a command body are refused like in a filing.
	if r := h.do(http.MethodPost, "/api/v1/signals/"+l.id+"/feedback", officer, []byte(`{"message":"x","Message":"y"}`), map[string]string{"If-Match": `"1"`}); r.status != http.StatusBadRequest {
		t.Errorf("case-variant duplicate in a command: %d", r.status)
	}
	// A duplicate must be a signal of the same organisation.
	l.send(officer, "acknowledge", "", http.StatusOK)
	l.send(officer, "link-duplicate", `{"duplicateOf":"00000000-0000-4000-8000-000000000001"}`, http.StatusUnprocessableEntity)
}

// TestIdempotentCommand: a command retried with the same key is applied
// once and answered as the first time, even with its old If-Match.
func TestIdempotentCommand(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	l := fileOne(t, h)
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	l.send(officer, "acknowledge", "", http.StatusOK)
	hdr := map[string]string{"If-Match": `"2"`, "Idempotency-Key": "feedback-1"}
	body := []byte(`{"message":"We are looking into it."}`)
	first := h.do(http.MethodPost, "/api/v1/signals/"+l.id+"/feedback", officer, body, hdr)
	again := h.do(http.MethodPost, "/api/v1/signals/"+l.id+"/feedback", officer, body, hdr)
	if first.status != http.StatusOK || again.status != http.StatusOK || again.header.Get("Idempotent-Replayed") != "true" || again.header.Get("ETag") != first.header.Get("ETag") {
		t.Fatalf("first %d %s, again %d %s (%v)", first.status, first.body, again.status, again.body, again.header)
	}
	if fb := l.get(officer)["feedback"].([]any); len(fb) != 1 {
		t.Fatalf("feedback sent %d times", len(fb))
	}
}

// TestConcurrentCommandsOneWins: 50 commands on one signal with the same
// If-Match: exactly one succeeds, the rest get 409, and the history has no
// gap or duplicate.
func TestConcurrentCommandsOneWins(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	l := fileOne(t, h)
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	l.send(officer, "acknowledge", "", http.StatusOK)
	const n = 50
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = h.token(auth.Principal{Subject: fmt.Sprint("officer-", i), Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := []byte(fmt.Sprintf(`{"message":"feedback %d"}`, i))
			statuses[i] = h.do(http.MethodPost, "/api/v1/signals/"+l.id+"/feedback", tokens[i], body, map[string]string{"If-Match": `"2"`}).status
		}()
	}
	wg.Wait()
	ok, conflicts := 0, 0
	for _, st := range statuses {
		switch st {
		case http.StatusOK:
			ok++
		case http.StatusConflict, http.StatusPreconditionFailed:
			conflicts++
		default:
			t.Errorf("unexpected status %d", st)
		}
	}
	if ok != 1 || conflicts != n-1 {
		t.Fatalf("%d succeeded and %d conflicted, want 1 and %d", ok, conflicts, n-1)
	}
	hr := h.do(http.MethodGet, "/api/v1/signals/"+l.id+"/history", officer, nil, nil)
	var hist struct{ Events []struct{ Version int } }
	hr.json(t, &hist)
	if len(hist.Events) != 3 {
		t.Fatalf("history has %d events, want 3", len(hist.Events))
	}
	for i, e := range hist.Events {
		if e.Version != i+1 {
			t.Fatalf("history has a gap or duplicate: %+v", hist.Events)
		}
	}
}
