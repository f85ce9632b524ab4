package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/safesignal/safesignal/adapters/auth"
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
