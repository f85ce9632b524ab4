package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// TestMetricsPassTheLinter scrapes /metrics after some traffic and runs the
// client library's linter (what promtool check metrics does) over it.
func TestMetricsPassTheLinter(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fileOne(t, h)
	h.do(http.MethodGet, "/api/v1/signals/not-a-uuid", h.token(reporter("alice", "umc-utrecht")), nil, nil)
	r := h.do(http.MethodGet, "/metrics", "", nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("metrics: %d", r.status)
	}
	problems, err := promlint.New(bytes.NewReader(r.body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	for _, want := range []string{
		`safesignal_http_requests_total{code="201",method="POST",route="POST /api/v1/signals"} 1`,
		`safesignal_http_requests_total{code="400",method="GET",route="GET /api/v1/signals/{id}"} 1`,
		"safesignal_http_request_duration_seconds_bucket",
		"safesignal_append_duration_seconds_count 1",
		"safesignal_append_conflicts_total 0",
		`safesignal_projection_lag_events{projection="signal_detail"} 0`,
		`safesignal_projection_lag_seconds{projection="signal_detail"} 0`,
		`safesignal_consumer_pending_messages{consumer="detail_test"} 0`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(string(r.body), "morphine") {
		t.Fatal("metrics carry signal text")
	}
}
