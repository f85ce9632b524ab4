package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/safesignal/safesignal/adapters/audit"
	"github.com/safesignal/safesignal/adapters/auth"
)

func TestEveryReadAndCommandIsAudited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	alice := h.token(reporter("alice", "umc-utrecht"))
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	admin := h.token(auth.Principal{Subject: "root-1", Role: auth.RoleAdmin})
	res := h.do(http.MethodPost, "/api/v1/signals", alice, mustJSON(t, validBody()), map[string]string{"X-Correlation-ID": "req-file-1"})
	if res.status != http.StatusCreated {
		t.Fatalf("file: %d %s", res.status, res.body)
	}
	id := strings.TrimPrefix(res.header.Get("Location"), "/api/v1/signals/")
	if r := h.do(http.MethodGet, "/api/v1/signals/"+id, officer, nil, nil); r.status != http.StatusOK {
		t.Fatalf("read: %d", r.status)
	}
	// A refused read leaves no data and needs no record of data shown.
	if r := h.do(http.MethodGet, "/api/v1/signals/"+id, h.token(reporter("bob", "umc-utrecht")), nil, nil); r.status != http.StatusNotFound {
		t.Fatalf("bob: %d", r.status)
	}

	r := h.do(http.MethodGet, "/api/v1/audit?signal="+id, admin, nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("audit query: %d %s", r.status, r.body)
	}
	var got struct{ Records []audit.Record }
	r.json(t, &got)
	want := []struct{ actor, role, action string }{
		{"alice", "reporter", "signal.file"},
		{"olga", "safety_officer", "signal.read"},
		{"root-1", "admin", "audit.read"},
	}
	if len(got.Records) != len(want) {
		t.Fatalf("audit records: %+v", got.Records)
	}
	for i, w := range want {
		rec := got.Records[i]
		if rec.Actor != w.actor || rec.Role != w.role || rec.Action != w.action || rec.SignalID != id || rec.Time.IsZero() || rec.CorrelationID == "" {
			t.Errorf("record %d: %+v, want %+v", i, rec, w)
		}
	}
	if got.Records[0].CorrelationID != "req-file-1" {
		t.Errorf("correlation id not kept: %q", got.Records[0].CorrelationID)
	}
	// Per actor, and reading the trail is itself audited.
	r = h.do(http.MethodGet, "/api/v1/audit?actor=root-1", admin, nil, nil)
	r.json(t, &got)
	if r.status != http.StatusOK || len(got.Records) != 2 || got.Records[1].Action != "audit.read" {
		t.Fatalf("audit per actor: %d %+v", r.status, got.Records)
	}
	for _, q := range []string{"", "?signal=nope", "?after=x&actor=a", "?actor=" + strings.Repeat("a", 200)} {
		if r := h.do(http.MethodGet, "/api/v1/audit"+q, admin, nil, nil); r.status != http.StatusBadRequest {
			t.Errorf("audit query %q: %d", q, r.status)
		}
	}
	if r := h.do(http.MethodGet, "/api/v1/audit?actor=alice", officer, nil, nil); r.status != http.StatusForbidden {
		t.Errorf("a safety officer read the audit trail: %d", r.status)
	}
}

func TestAnonymousFilingIsAuditedWithoutTheSignalOrTheCaller(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := validBody()
	body["anonymous"] = true
	res := h.do(http.MethodPost, "/api/v1/signals", h.token(reporter("alice", "umc-utrecht")), mustJSON(t, body), nil)
	if res.status != http.StatusCreated {
		t.Fatalf("file: %d", res.status)
	}
	// Issue #6: the record names neither the caller nor the signal.
	recs, err := h.audit.Find(context.Background(), audit.Query{Actor: "alice"})
	if err != nil || len(recs) != 0 {
		t.Fatalf("records filed under the anonymous reporter: %v %v", recs, err)
	}
	recs, err = h.audit.Find(context.Background(), audit.Query{Actor: "anonymous"})
	if err != nil || len(recs) != 1 || recs[0].Action != "signal.file" || recs[0].Organisation != "umc-utrecht" {
		t.Fatalf("records: %v %v", recs, err)
	}
	if recs[0].SignalID != "" {
		t.Fatal("the audit trail links an anonymous signal to its filing")
	}
}

// TestAuditFailureFailsTheRequest fills the audit stream to a limit with
// DiscardNew, a real way for the trail to refuse writes: reads and filings
// must then fail and show or store nothing.
func TestAuditFailureFailsTheRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	alice := h.token(reporter("alice", "umc-utrecht"))
	res := h.do(http.MethodPost, "/api/v1/signals", alice, mustJSON(t, validBody()), nil)
	if res.status != http.StatusCreated {
		t.Fatalf("file: %d", res.status)
	}
	ctx := context.Background()
	s, err := h.js.Stream(ctx, audit.Stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := info.Config
	cfg.MaxMsgs = int64(info.State.Msgs)
	cfg.Discard = jetstream.DiscardNew
	if _, err := h.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	r := h.do(http.MethodGet, res.header.Get("Location"), alice, nil, nil)
	if r.status != http.StatusServiceUnavailable || strings.Contains(string(r.body), "morphine") {
		t.Fatalf("read without audit: %d %s", r.status, r.body)
	}
	body := validBody()
	body["description"] = "must not be stored"
	r = h.do(http.MethodPost, "/api/v1/signals", alice, mustJSON(t, body), nil)
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("filing without audit: %d %s", r.status, r.body)
	}
	last, err := h.log.LastSequence(ctx)
	if err != nil || last != 1 {
		t.Fatalf("the log moved on without an audit record: last sequence %d (%v)", last, err)
	}
}

func TestRateLimitPerIdentity(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	alice := h.token(reporter("alice", "umc-utrecht"))
	bob := h.token(reporter("bob", "umc-utrecht"))
	limited := 0
	for range 120 {
		r := h.do(http.MethodGet, "/api/v1/signals/00000000-0000-4000-8000-000000000000", alice, nil, nil)
		if r.status == http.StatusTooManyRequests {
			limited++
			if r.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
	}
	if limited == 0 {
		t.Fatal("120 requests in a burst were never limited")
	}
	// Another identity is not held back by alice's burst.
	if r := h.do(http.MethodGet, "/api/v1/signals/00000000-0000-4000-8000-000000000000", bob, nil, nil); r.status != http.StatusNotFound {
		t.Fatalf("bob: %d", r.status)
	}
}
