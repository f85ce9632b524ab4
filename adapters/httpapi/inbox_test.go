package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/safesignal/safesignal/adapters/auth"
)

func TestTriageBoard(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	var ls []*lifecycle
	for i := range 4 {
		l := fileOne(t, h)
		ls = append(ls, l)
		if i%2 == 0 {
			l.send(officer, "acknowledge", "", http.StatusOK)
		}
	}
	ls[0].send(officer, "classify", `{"kind":"harmful_incident","category":"medication","harm":"severe","reportable":true}`, http.StatusOK)
	// Another organisation's signal never shows.
	other := h.do(http.MethodPost, "/api/v1/signals", h.token(reporter("per", "haukeland")), mustJSON(t, func() map[string]any {
		b := validBody()
		b["organisation"], b["region"] = "haukeland", "NO-46"
		return b
	}()), nil)
	if other.status != http.StatusCreated {
		t.Fatalf("other org: %d %s", other.status, other.body)
	}

	type board struct {
		Total   int
		Signals []struct {
			ID                       string
			Status                   string
			Harm                     string
			TimeToAcknowledgeSeconds *int64
			DeadlineDueAt            *string
		}
	}
	get := func(q string) board {
		t.Helper()
		r := h.do(http.MethodGet, "/api/v1/triage"+q, officer, nil, nil)
		if r.status != http.StatusOK {
			t.Fatalf("triage %s: %d %s", q, r.status, r.body)
		}
		var b board
		r.json(t, &b)
		return b
	}
	if b := get(""); b.Total != 4 || len(b.Signals) != 4 || b.Signals[0].ID != ls[3].id {
		t.Fatalf("whole board (newest first): %+v", b)
	}
	if b := get("?status=reported"); b.Total != 2 {
		t.Fatalf("status=reported: %+v", b)
	}
	if b := get("?status=acknowledged&sort=-harm"); b.Total != 2 || b.Signals[0].Harm != "severe" || b.Signals[0].TimeToAcknowledgeSeconds == nil {
		t.Fatalf("acknowledged by harm: %+v", b)
	}
	if b := get("?deadline=pending"); b.Total != 1 || b.Signals[0].ID != ls[0].id || b.Signals[0].DeadlineDueAt == nil {
		t.Fatalf("pending deadlines: %+v", b)
	}
	if b := get("?overdue=true"); b.Total != 0 {
		t.Fatalf("nothing is overdue yet: %+v", b)
	}
	if b := get("?limit=1&offset=1&sort=reported"); b.Total != 4 || len(b.Signals) != 1 || b.Signals[0].ID != ls[1].id {
		t.Fatalf("paging: %+v", b)
	}
	for _, q := range []string{"?status=open", "?kind=x", "?harm=2", "?sort=age", "?limit=0", "?limit=501", "?offset=-1", "?overdue=yes", "?deadline=soon", "?organisation=haukeland"} {
		if r := h.do(http.MethodGet, "/api/v1/triage"+q, officer, nil, nil); r.status != http.StatusBadRequest {
			t.Errorf("triage %s: %d, want 400", q, r.status)
		}
	}
}

func TestEscalationInboxShowsOnlyWhatWasSent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	cora := h.token(auth.Principal{Subject: "cora", Role: auth.RoleColleague, Organisation: "isala", Specialty: "anaesthesiology", Region: "NL-OV"})
	sven := h.token(auth.Principal{Subject: "sven", Role: auth.RoleColleague, Organisation: "karolinska", Specialty: "anaesthesiology", Region: "SE-AB"})
	l := fileOne(t, h)
	l.send(officer, "acknowledge", "", http.StatusOK)
	r := l.send(officer, "escalate", `{"targets":{"specialties":["anaesthesiology"],"regions":["NL"]},"message":"Check your pumps.","summary":"Tenfold opioid dose prepared for a syringe pump; found at the double check."}`, http.StatusOK)
	var esc struct{ EscalationID string }
	r.json(t, &esc)

	inbox := func(tok string) []map[string]any {
		t.Helper()
		r := h.do(http.MethodGet, "/api/v1/escalations", tok, nil, nil)
		if r.status != http.StatusOK {
			t.Fatalf("inbox: %d %s", r.status, r.body)
		}
		if strings.Contains(string(r.body), "bedside") || strings.Contains(string(r.body), "alice") {
			t.Fatalf("the inbox shows the description or the reporter: %s", r.body)
		}
		var v struct{ Escalations []map[string]any }
		r.json(t, &v)
		return v.Escalations
	}
	if got := inbox(sven); len(got) != 0 {
		t.Fatalf("a colleague outside the target regions got it: %v", got)
	}
	got := inbox(cora)
	if len(got) != 1 || got[0]["escalationId"] != esc.EscalationID || got[0]["state"] != "open" || got[0]["summary"] == "" {
		t.Fatalf("cora's inbox: %v", got)
	}
	l.send(cora, "acknowledge-escalation", fmt.Sprintf(`{"escalationId":%q}`, esc.EscalationID), http.StatusOK)
	got = inbox(cora)
	if got[0]["state"] != "acknowledged" || got[0]["myAnswer"] == nil {
		t.Fatalf("after acknowledging: %v", got)
	}
	// Sven may not answer an escalation that did not reach him.
	l.send(sven, "respond-escalation", fmt.Sprintf(`{"escalationId":%q,"response":"risk_absent"}`, esc.EscalationID), http.StatusNotFound)
	// Colleagues never read the signal itself.
	if r := h.do(http.MethodGet, "/api/v1/signals/"+l.id, cora, nil, nil); r.status != http.StatusForbidden {
		t.Fatalf("a colleague read the signal: %d", r.status)
	}
}

func TestMySignalsAndServiceLevels(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	alice := h.token(reporter("alice", "umc-utrecht"))
	l := fileOne(t, h)
	fileOne(t, h)
	anon := validBody()
	anon["anonymous"] = true
	if r := h.do(http.MethodPost, "/api/v1/signals", alice, mustJSON(t, anon), nil); r.status != http.StatusCreated {
		t.Fatalf("anonymous filing: %d", r.status)
	}
	l.send(officer, "acknowledge", "", http.StatusOK)
	l.send(officer, "feedback", `{"message":"Thanks, we are on it."}`, http.StatusOK)

	r := h.do(http.MethodGet, "/api/v1/me/signals", alice, nil, nil)
	var mine struct {
		Signals []struct {
			ID       string
			Status   string
			Feedback []struct{ Message string }
		}
	}
	r.json(t, &mine)
	if r.status != http.StatusOK || len(mine.Signals) != 2 {
		t.Fatalf("my signals (the anonymous one is not linked to me): %d %s", r.status, r.body)
	}
	var found bool
	for _, s := range mine.Signals {
		if s.ID == l.id {
			found = s.Status == "acknowledged" && len(s.Feedback) == 1 && s.Feedback[0].Message == "Thanks, we are on it."
		}
	}
	if !found {
		t.Fatalf("feedback not in my signals: %s", r.body)
	}
	if r := h.do(http.MethodGet, "/api/v1/me/signals", h.token(reporter("bob", "umc-utrecht")), nil, nil); !strings.Contains(string(r.body), `"signals":[]`) {
		t.Fatalf("bob sees signals: %s", r.body)
	}

	r = h.do(http.MethodGet, "/api/v1/service-levels", officer, nil, nil)
	var sl struct {
		Signals, Acknowledged, WithFeedback int
		MedianSecondsToAcknowledge          *int64
		MedianSecondsToFirstFeedback        *int64
	}
	r.json(t, &sl)
	if r.status != http.StatusOK || sl.Signals != 3 || sl.Acknowledged != 1 || sl.WithFeedback != 1 || sl.MedianSecondsToAcknowledge == nil || sl.MedianSecondsToFirstFeedback == nil {
		t.Fatalf("service levels: %d %s", r.status, r.body)
	}
	if r := h.do(http.MethodGet, "/api/v1/service-levels?organisation=haukeland", officer, nil, nil); r.status != http.StatusForbidden {
		t.Fatalf("another organisation's service levels: %d", r.status)
	}
}

// validBSN is a Dutch citizen service number that passes the 11-check
// (the Dutch government's published example).
const validBSN = "123456782"

func TestPersonalNumbersAreFlaggedAndMasked(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	alice := h.token(reporter("alice", "umc-utrecht"))
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	cora := h.token(auth.Principal{Subject: "cora", Role: auth.RoleColleague, Organisation: "isala", Specialty: "anaesthesiology", Region: "NL-OV"})

	// Before filing: the check endpoint warns and stores nothing.
	r := h.do(http.MethodPost, "/api/v1/text-checks", alice, []byte(`{"description":"Patient BSN `+validBSN+` got 10 mg."}`), nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"kind":"bsn"`) || strings.Contains(string(r.body), validBSN) {
		t.Fatalf("check: %d %s", r.status, r.body)
	}
	if r := h.do(http.MethodPost, "/api/v1/text-checks", alice, []byte(`{"description":"Dose 10 mg at 14:30 on 2026-11-20."}`), nil); !strings.Contains(string(r.body), `"warnings":[]`) {
		t.Fatalf("false warning: %s", r.body)
	}
	// Filing anyway: 201 with the warning; the organisation sees the text.
	b := validBody()
	b["description"] = "Patient BSN " + validBSN + " got a tenfold dose."
	res := h.do(http.MethodPost, "/api/v1/signals", alice, mustJSON(t, b), nil)
	if res.status != http.StatusCreated || !strings.Contains(string(res.body), `"field":"description"`) {
		t.Fatalf("file: %d %s", res.status, res.body)
	}
	l := &lifecycle{t: t, h: h, id: strings.TrimPrefix(res.header.Get("Location"), "/api/v1/signals/"), version: 1}
	if d := l.get(officer)["description"]; !strings.Contains(d.(string), validBSN) {
		t.Fatalf("the organisation's own view was masked: %v", d)
	}
	// An escalation quoting the number is masked for colleagues elsewhere.
	l.send(officer, "acknowledge", "", http.StatusOK)
	l.send(officer, "escalate", `{"targets":{"specialties":["anaesthesiology"]},"message":"See patient `+validBSN+`.","summary":"Tenfold dose for patient `+validBSN+` by syringe pump."}`, http.StatusOK)
	in := h.do(http.MethodGet, "/api/v1/escalations", cora, nil, nil)
	if strings.Contains(string(in.body), validBSN) || !strings.Contains(string(in.body), "[personal number removed]") {
		t.Fatalf("escalation inbox: %s", in.body)
	}
}
