package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/safesignal/safesignal/adapters/audit"
	"github.com/safesignal/safesignal/eventstore"
)

// When the audit trail cannot take a record, a filing is refused with
// 503 audit-unavailable and nothing reaches the event log, although the
// record is written alongside the signal's data key rather than before
// it. The trail is made to refuse for real: the audit stream is limited to
// the records it holds, discarding new ones.
func TestFilingWithoutAuditRecordIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	tok := h.token(reporter("alice", "umc-utrecht"))
	if r := h.do(http.MethodPost, "/api/v1/signals", tok, mustJSON(t, validBody()), nil); r.status != http.StatusCreated {
		t.Fatalf("first filing: %d %s", r.status, r.body)
	}
	events, err := h.js.Stream(ctx, eventstore.DefaultConfig().Stream)
	if err != nil {
		t.Fatal(err)
	}
	before, err := events.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	trail, err := h.js.Stream(ctx, audit.Stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := trail.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := info.Config
	cfg.MaxMsgs, cfg.Discard = int64(info.State.Msgs), jetstream.DiscardNew
	if _, err := h.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatalf("limit the audit stream: %v", err)
	}

	for _, anonymous := range []bool{false, true} {
		b := validBody()
		b["anonymous"] = anonymous
		r := h.do(http.MethodPost, "/api/v1/signals", tok, mustJSON(t, b), nil)
		var p struct{ Type string }
		_ = json.Unmarshal(r.body, &p)
		if r.status != http.StatusServiceUnavailable || p.Type != "/problems/audit-unavailable" {
			t.Fatalf("anonymous=%v: a filing without an audit record answered %d %s", anonymous, r.status, r.body)
		}
	}
	after, err := events.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.State.LastSeq != before.State.LastSeq {
		t.Fatalf("the event log moved from %d to %d without audit records", before.State.LastSeq, after.State.LastSeq)
	}

	// Once the trail takes records again, filing works again.
	cfg.MaxMsgs = -1
	if _, err := h.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if r := h.do(http.MethodPost, "/api/v1/signals", tok, mustJSON(t, validBody()), nil); r.status != http.StatusCreated {
		t.Fatalf("filing after the trail recovered: %d %s", r.status, r.body)
	}
}
