package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/httpapi"
)

type peerInbox struct {
	Requests []struct {
		ID                        string `json:"id"`
		Requester                 string `json:"requester"`
		Contact                   string `json:"contact"`
		Message                   string `json:"message"`
		Source                    string `json:"source"`
		AcknowledgedBy            string `json:"acknowledgedBy"`
		TimeToFirstContactSeconds *int64 `json:"timeToFirstContactSeconds"`
	} `json:"requests"`
}

// TestPeerSupportIsConfidential: requests reach the organisation's peer
// supporters, who acknowledge them; every GET route, called by every other
// role, answers without a trace of them.
func TestPeerSupportIsConfidential(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	alice := h.token(reporter("alice", "umc-utrecht"))
	body := validBody()
	body["peerSupportRequested"] = true
	res := h.do(http.MethodPost, "/api/v1/signals", alice, mustJSON(t, body), nil)
	if res.status != http.StatusCreated || !strings.Contains(string(res.body), `"peerSupportRequested":true`) {
		t.Fatalf("file asking for peer support: %d %s", res.status, res.body)
	}
	signalID := strings.TrimPrefix(res.header.Get("Location"), "/api/v1/signals/")
	// An anonymous filing cannot open a request: it would name the reporter.
	anon := validBody()
	anon["peerSupportRequested"], anon["anonymous"] = true, true
	if r := h.do(http.MethodPost, "/api/v1/signals", h.token(reporter("anna", "umc-utrecht")), mustJSON(t, anon), nil); r.status != http.StatusCreated || strings.Contains(string(r.body), `"peerSupportRequested":true`) {
		t.Fatalf("anonymous filing: %d %s", r.status, r.body)
	}
	const message, contact = "PEERMARK-message: I cannot sleep since the night shift.", "PEERMARK-contact 06-1111"
	direct := h.do(http.MethodPost, "/api/v1/peer-support", h.token(reporter("bob", "umc-utrecht")), mustJSON(t, map[string]string{"message": message, "contact": contact}), nil)
	var opened struct {
		ID string `json:"id"`
	}
	direct.json(t, &opened)
	if direct.status != http.StatusCreated {
		t.Fatalf("direct request: %d %s", direct.status, direct.body)
	}
	if r := h.do(http.MethodPost, "/api/v1/peer-support", h.token(reporter("bob", "umc-utrecht")), []byte(`{"message":"x","extra":true}`), nil); r.status != http.StatusBadRequest {
		t.Errorf("unknown field: %d %s", r.status, r.body)
	}

	petra := h.token(auth.Principal{Subject: "petra", Role: auth.RolePeerSupporter, Organisation: "umc-utrecht"})
	paul := h.token(auth.Principal{Subject: "paul", Role: auth.RolePeerSupporter, Organisation: "haukeland"})
	var inbox peerInbox
	r := h.do(http.MethodGet, "/api/v1/peer-support/inbox", petra, nil, nil)
	r.json(t, &inbox)
	if r.status != http.StatusOK || len(inbox.Requests) != 2 {
		t.Fatalf("inbox: %d %s", r.status, r.body)
	}
	if got := inbox.Requests[0]; got.ID != opened.ID || got.Requester != "bob" || got.Message != message || got.Contact != contact || got.Source != "direct" {
		t.Errorf("newest request %+v", got)
	}
	if got := inbox.Requests[1]; got.Requester != "alice" || got.Source != "filing" || strings.Contains(string(r.body), signalID) {
		t.Errorf("request at filing %+v (the inbox must not name the signal)", got)
	}
	if r := h.do(http.MethodGet, "/api/v1/peer-support/inbox", paul, nil, nil); r.status != http.StatusOK || strings.Contains(string(r.body), "PEERMARK") || !strings.Contains(string(r.body), `"requests":[]`) {
		t.Errorf("another organisation's inbox: %d %s", r.status, r.body)
	}
	if r := h.do(http.MethodPost, "/api/v1/peer-support/"+opened.ID+"/acknowledge", paul, nil, nil); r.status != http.StatusNotFound {
		t.Errorf("acknowledged by another organisation: %d %s", r.status, r.body)
	}
	if r := h.do(http.MethodPost, "/api/v1/peer-support/not-a-uuid/acknowledge", petra, nil, nil); r.status != http.StatusBadRequest {
		t.Errorf("bad id: %d %s", r.status, r.body)
	}
	if r := h.do(http.MethodPost, "/api/v1/peer-support/"+opened.ID+"/acknowledge", petra, nil, nil); r.status != http.StatusOK {
		t.Fatalf("acknowledge: %d %s", r.status, r.body)
	}
	if r := h.do(http.MethodPost, "/api/v1/peer-support/"+opened.ID+"/acknowledge", petra, nil, nil); r.status != http.StatusConflict {
		t.Errorf("acknowledged twice: %d %s", r.status, r.body)
	}
	r = h.do(http.MethodGet, "/api/v1/peer-support/inbox", petra, nil, nil)
	r.json(t, &inbox)
	if got := inbox.Requests[0]; got.AcknowledgedBy != "petra" || got.TimeToFirstContactSeconds == nil || *got.TimeToFirstContactSeconds < 0 {
		t.Errorf("after acknowledging %+v", got)
	}

	// Every GET route, every caller that is not a peer supporter, plus the
	// admin's audit queries and the signal's history.
	secrets := []string{"PEERMARK", opened.ID, inbox.Requests[1].ID, "PeerSupportRequest", "peer_support"}
	scan := func(what string, r response) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(string(r.body), s) {
				t.Errorf("%s shows %q: %s", what, s, r.body)
			}
		}
	}
	calls := 0
	for _, rt := range httpapi.New(httpapi.Deps{}).Routes() {
		if rt.Method != http.MethodGet {
			continue
		}
		for _, c := range callers() {
			if c.p != nil && c.p.Role == auth.RolePeerSupporter {
				continue
			}
			token := ""
			if c.p != nil {
				token = h.token(*c.p)
			}
			path, _ := requestFor(t, rt, signalID, "", "", "", c)
			scan(rt.Pattern+" as "+c.name, h.do(http.MethodGet, path, token, nil, nil))
			calls++
		}
	}
	admin := h.token(auth.Principal{Subject: "ada", Role: auth.RoleAdmin})
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	for _, q := range []string{"actor=alice", "actor=bob", "signal=" + signalID} {
		r := h.do(http.MethodGet, "/api/v1/audit?"+q, admin, nil, nil)
		if r.status != http.StatusOK {
			t.Errorf("audit %s: %d", q, r.status)
		}
		scan("audit "+q, r)
	}
	hist := h.do(http.MethodGet, "/api/v1/signals/"+signalID+"/history", officer, nil, nil)
	if hist.status != http.StatusOK {
		t.Fatalf("history: %d", hist.status)
	}
	scan("history", hist)
	if calls < 50 {
		t.Fatalf("only %d calls scanned", calls)
	}
}
