package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
)

// TestErasureOverHTTP: erasing a signal empties its text everywhere the API
// shows it, keeps its classification, and leaves other signals alone;
// erasing a reporter removes their identity from their named signals.
func TestErasureOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.token(auth.Principal{Subject: "ada", Role: auth.RoleAdmin})
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	canary := validBody()
	canary["description"] = "CANARY-91c2 the patient in bed 4 got the wrong dose"
	r := h.do(http.MethodPost, "/api/v1/signals", h.token(reporter("alice", "umc-utrecht")), mustJSON(t, canary), nil)
	if r.status != http.StatusCreated {
		t.Fatalf("file: %d", r.status)
	}
	erased := r.header.Get("Location")
	l := &lifecycle{t: t, h: h, id: strings.TrimPrefix(erased, "/api/v1/signals/"), version: 1}
	l.send(officer, "acknowledge", "", http.StatusOK)
	l.send(officer, "feedback", `{"message":"CANARY-91c2 thanks"}`, http.StatusOK)
	kept := fileOne(t, h)

	if r := h.do(http.MethodPost, "/api/v1/admin/erasures", admin, []byte(`{"signalId":"`+l.id+`"}`), nil); r.status != http.StatusOK {
		t.Fatalf("erase: %d %s", r.status, r.body)
	}
	for _, path := range []string{erased, erased + "/history"} {
		r := h.do(http.MethodGet, path, officer, nil, nil)
		if r.status != http.StatusOK || strings.Contains(string(r.body), "CANARY") {
			t.Fatalf("%s after erasure: %d %s", path, r.status, r.body)
		}
	}
	v := l.get(officer)
	if v["contentErased"] != true || v["kind"] != "near_miss" || v["category"] != "medication" {
		t.Fatalf("erased signal: %v", v)
	}
	if d := kept.get(officer)["description"]; d == "" {
		t.Fatal("another signal lost its text")
	}
	// Erasing twice is harmless.
	if r := h.do(http.MethodPost, "/api/v1/admin/erasures", admin, []byte(`{"signalId":"`+l.id+`"}`), nil); r.status != http.StatusOK {
		t.Fatalf("second erase: %d %s", r.status, r.body)
	}

	r = h.do(http.MethodPost, "/api/v1/admin/erasures", admin, []byte(`{"reporter":"alice"}`), nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"signals":2`) {
		t.Fatalf("erase reporter: %d %s", r.status, r.body)
	}
	if v := kept.get(officer); v["reporter"] != nil || v["reporterErased"] != true || v["description"] == "" {
		t.Fatalf("after erasing the reporter: %v", v)
	}
	for _, bad := range []string{`{}`, `{"signalId":"` + l.id + `","reporter":"x"}`, `{"signalId":"nope"}`} {
		if r := h.do(http.MethodPost, "/api/v1/admin/erasures", admin, []byte(bad), nil); r.status != http.StatusUnprocessableEntity && r.status != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, r.status)
		}
	}
}

// TestErasureReachesPeerSupport: erasing a reporter also erases them from
// the peer-support requests they made, at filing and directly. The peer
// supporters' inbox no longer shows their name, contact or message as
// soon as the erasure answers, without a rebuild, with the read model in
// memory and in PostgreSQL; the log can no longer open them either.
// Another person's request is untouched, the first contact stays, and a
// repeat is harmless.
func TestErasureReachesPeerSupport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts harnessOptions
	}{
		{"memory", harnessOptions{}},
		{"postgres", harnessOptions{postgres: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarnessWith(t, tc.opts)
			const name, contact, message = "erin-5d1e", "CANARY-c0n7act dect 4471", "CANARY-m3ss I keep seeing the monitor."
			admin := h.token(auth.Principal{Subject: "ada", Role: auth.RoleAdmin})
			petra := h.token(auth.Principal{Subject: "petra", Role: auth.RolePeerSupporter, Organisation: "umc-utrecht"})
			erin := h.token(reporter(name, "umc-utrecht"))
			body := validBody()
			body["peerSupportRequested"] = true
			if r := h.do(http.MethodPost, "/api/v1/signals", erin, mustJSON(t, body), nil); r.status != http.StatusCreated {
				t.Fatalf("file: %d %s", r.status, r.body)
			}
			ask := func(token string, contact, message string) string {
				t.Helper()
				r := h.do(http.MethodPost, "/api/v1/peer-support", token, mustJSON(t, map[string]string{"contact": contact, "message": message}), nil)
				var opened struct {
					ID string `json:"id"`
				}
				r.json(t, &opened)
				if r.status != http.StatusCreated || opened.ID == "" {
					t.Fatalf("ask for peer support: %d %s", r.status, r.body)
				}
				return opened.ID
			}
			direct := ask(erin, contact, message)
			kept := ask(h.token(reporter("frank", "umc-utrecht")), "KEEP-contact", "KEEP-message")
			if r := h.do(http.MethodPost, "/api/v1/peer-support/"+direct+"/acknowledge", petra, nil, nil); r.status != http.StatusOK {
				t.Fatalf("acknowledge: %d %s", r.status, r.body)
			}
			if r := h.do(http.MethodGet, "/api/v1/peer-support/inbox", petra, nil, nil); !strings.Contains(string(r.body), "CANARY") || !strings.Contains(string(r.body), name) {
				t.Fatalf("the inbox before the erasure: %d %s", r.status, r.body)
			}

			for i, want := range []string{`"peerSupportRequests":2`, `"peerSupportRequests":0`} {
				r := h.do(http.MethodPost, "/api/v1/admin/erasures", admin, mustJSON(t, map[string]string{"reporter": name}), nil)
				if r.status != http.StatusOK || !strings.Contains(string(r.body), want) {
					t.Fatalf("erasure %d: %d %s, want %s", i+1, r.status, r.body, want)
				}
				inbox := h.do(http.MethodGet, "/api/v1/peer-support/inbox", petra, nil, nil)
				if inbox.status != http.StatusOK || strings.Contains(string(inbox.body), "CANARY") || strings.Contains(string(inbox.body), name) || strings.Contains(string(inbox.body), "dect 4471") {
					t.Fatalf("the inbox after erasure %d: %d %s", i+1, inbox.status, inbox.body)
				}
				var got struct {
					Requests []map[string]any `json:"requests"`
				}
				inbox.json(t, &got)
				if len(got.Requests) != 3 {
					t.Fatalf("the inbox holds %d requests, want 3: %s", len(got.Requests), inbox.body)
				}
				for _, req := range got.Requests {
					switch {
					case req["id"] == kept:
						if req["requester"] != "frank" || req["contact"] != "KEEP-contact" || req["message"] != "KEEP-message" || req["requesterErased"] != nil {
							t.Errorf("another person's request changed: %v", req)
						}
					case req["requester"] != "" || req["contact"] != nil || req["message"] != nil || req["requesterErased"] != true:
						t.Errorf("an erased request: %v", req)
					case req["id"] == direct && (req["acknowledgedBy"] != "petra" || req["timeToFirstContactSeconds"] == nil):
						t.Errorf("the erasure lost the first contact: %v", req)
					}
				}
			}

			// The supporter is erased too (a person who took up requests):
			// the request keeps when, not who.
			paul := h.token(auth.Principal{Subject: "paul", Role: auth.RolePeerSupporter, Organisation: "umc-utrecht"})
			for i, want := range []string{`"peerSupportAcknowledgements":1`, `"peerSupportAcknowledgements":0`} {
				r := h.do(http.MethodPost, "/api/v1/admin/erasures", admin, mustJSON(t, map[string]string{"reporter": "petra"}), nil)
				if r.status != http.StatusOK || !strings.Contains(string(r.body), want) {
					t.Fatalf("supporter erasure %d: %d %s, want %s", i+1, r.status, r.body, want)
				}
				inbox := h.do(http.MethodGet, "/api/v1/peer-support/inbox", paul, nil, nil)
				var got struct {
					Requests []map[string]any `json:"requests"`
				}
				inbox.json(t, &got)
				for _, req := range got.Requests {
					if req["acknowledgedBy"] != nil {
						t.Errorf("after the supporter's erasure a request still names them: %v", req)
					}
					if req["id"] == direct && (req["acknowledgedAt"] == nil || req["supporterErased"] != true || req["timeToFirstContactSeconds"] == nil) {
						t.Errorf("the supporter's erasure lost the first contact: %v", req)
					}
				}
			}

			// The log itself no longer opens the name, contact, message or supporter.
			commits, err := h.log.Load(context.Background(), eventstore.Aggregate{Type: projections.AggregatePeerSupport, ID: direct}, 0)
			if err != nil || len(commits) != 4 { // opened, acknowledged, requester erased, supporter erased
				t.Fatalf("the request's log: %d commits, %v", len(commits), err)
			}
			for _, c := range commits {
				events, err := h.codec.Decode(context.Background(), c)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range events {
					if o, ok := e.Data.(domain.PeerSupportRequestOpened); ok && (o.Requester != "" || o.Contact != "" || o.Message != "") {
						t.Errorf("the log still opens %+v", o)
					}
					if a, ok := e.Data.(domain.PeerSupportRequestAcknowledged); ok && a.Supporter != "" {
						t.Errorf("the log still opens the supporter %+v", a)
					}
				}
			}
		})
	}
}
