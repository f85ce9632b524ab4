package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/safesignal/safesignal/adapters/audit"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/commands"
	"github.com/safesignal/safesignal/adapters/httpapi"
	lessonsvc "github.com/safesignal/safesignal/adapters/lessons"
	"github.com/safesignal/safesignal/adapters/metrics"
	"github.com/safesignal/safesignal/adapters/peersupport"
	"github.com/safesignal/safesignal/adapters/postgres"
	"github.com/safesignal/safesignal/adapters/postgres/pgtest"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/eventstore/jstest"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/lessons"
	peerread "github.com/safesignal/safesignal/projections/peersupport"
	"github.com/safesignal/safesignal/projections/signaldetail"
	"github.com/safesignal/safesignal/projections/trends"
	"github.com/safesignal/safesignal/projections/trends/detect"
	"go.uber.org/zap"
)

// harness is the whole service on a real embedded JetStream, served over
// real HTTP on loopback.
type harness struct {
	t      *testing.T
	codec  *projections.Codec
	js     jetstream.JetStream
	audit  *audit.Trail
	url    string
	issuer *auth.LocalIssuer
	log    *eventstore.JetStream
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessLogging(t, zap.NewNop())
}

// newHarnessLogging is newHarness with the API logging to logger.
func newHarnessLogging(t *testing.T, logger *zap.Logger) *harness {
	t.Helper()
	return newHarnessWith(t, harnessOptions{logger: logger})
}

// harnessOptions vary the harness.
type harnessOptions struct {
	// logger receives the API's log (default: none).
	logger *zap.Logger
	// postgres keeps the signal detail and peer-support read models in
	// PostgreSQL (a schema of the test's own) instead of memory.
	postgres bool
}

func newHarnessWith(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	logger := o.logger
	if logger == nil {
		logger = zap.NewNop()
	}
	var detail signaldetail.Store = signaldetail.NewMemory()
	var peerRequests peerread.Store = peerread.NewMemory()
	if o.postgres {
		pool := pgtest.Pool(t)
		if _, err := postgres.Migrate(context.Background(), pool); err != nil {
			t.Fatal(err)
		}
		store, err := postgres.OpenSignalDetail(context.Background(), pool)
		if err != nil {
			t.Fatal(err)
		}
		detail = store
		if peerRequests, err = postgres.OpenPeerSupport(context.Background(), pool); err != nil {
			t.Fatal(err)
		}
	}
	srv := jstest.Start(t)
	_, js := srv.JetStream(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log, err := eventstore.Open(ctx, js, eventstore.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := projections.OpenCodec(ctx, js, bytes.Repeat([]byte{7}, 32), 1)
	if err != nil {
		t.Fatal(err)
	}
	mx := metrics.New()
	cmds, err := commands.New(log, reg, commands.Options{Secret: bytes.Repeat([]byte{7}, 32), ObserveAppend: func(took time.Duration, conflict bool) {
		mx.AppendDuration.Observe(took.Seconds())
		if conflict {
			mx.AppendConflicts.Inc()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := auth.LoadOrCreateLocalIssuer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	trail, err := audit.Open(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	runner := projections.NewRunner(log, reg, detail, projections.RunnerOptions{ConsumerName: "detail_test"}, zap.NewNop())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := runner.Run(ctx); err != nil {
			t.Errorf("runner: %v", err)
		}
	}()
	cube := trends.NewMemory()
	detector := detect.New(detect.Options{})
	var sideRunners []*projections.Runner
	var sideDone []chan struct{}
	library := lessons.NewMemory()
	for _, p := range []projections.Projection{cube, detector, peerRequests, library} {
		r := projections.NewRunner(log, reg, p, projections.RunnerOptions{ConsumerName: p.Name() + "_test"}, zap.NewNop())
		d := make(chan struct{})
		go func() {
			defer close(d)
			if err := r.Run(ctx); err != nil {
				t.Errorf("%s runner: %v", p.Name(), err)
			}
		}()
		sideRunners, sideDone = append(sideRunners, r), append(sideDone, d)
	}
	t.Cleanup(func() {
		cancel()
		<-done
		for _, d := range sideDone {
			<-d
		}
	})
	mx.WatchProjections(runner)
	mx.WatchJetStream(js, eventstore.DefaultConfig().Stream, "SAFESIGNAL_POISON", "detail_test")
	api := httpapi.New(httpapi.Deps{
		Metrics:       mx,
		Commands:      cmds,
		Signals:       detail,
		Verifier:      issuer.Verifier(),
		Audit:         trail,
		Trends:        cube,
		TrendSignals:  detector,
		PeerSupport:   peersupport.New(log, reg, nil),
		PeerRequests:  peerRequests,
		Lessons:       lessonsvc.New(log, reg, nil),
		LessonLibrary: library,
		WaitFor: func(ctx context.Context, seq uint64) error {
			for _, r := range append([]*projections.Runner{runner}, sideRunners...) {
				if err := r.WaitFor(ctx, seq); err != nil {
					return err
				}
			}
			return nil
		},
		Ready: func(context.Context) error {
			if !runner.Ready() {
				return context.DeadlineExceeded
			}
			for _, r := range sideRunners {
				if !r.Ready() {
					return context.DeadlineExceeded
				}
			}
			return nil
		},
		Logger: logger,
	})
	ts := httptest.NewServer(api)
	t.Cleanup(ts.Close)
	return &harness{t: t, codec: reg, js: js, audit: trail, url: ts.URL, issuer: issuer, log: log}
}

func (h *harness) token(p auth.Principal) string {
	h.t.Helper()
	tok, err := h.issuer.Issue(p, time.Hour)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

func reporter(subject, org string) auth.Principal {
	return auth.Principal{Subject: subject, Role: auth.RoleReporter, Organisation: org}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response is not JSON (%d): %s", r.status, r.body)
	}
}

func (h *harness) do(method, path, token string, body []byte, header map[string]string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// validBody is a filing that passes every check.
func validBody() map[string]any {
	return map[string]any{
		"organisation":         "umc-utrecht",
		"region":               "NL-UT",
		"specialty":            "anaesthesiology",
		"occurredAt":           time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339),
		"kind":                 "near_miss",
		"category":             "medication",
		"harm":                 "none",
		"description":          "Tenfold morphine dose prepared; caught at the bedside check.",
		"immediateActions":     "Dose discarded; pharmacy informed.",
		"language":             "en",
		"peerSupportRequested": false,
		"anonymous":            false,
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// validLesson is a good practice that passes every check.
func validLesson() map[string]any {
	return map[string]any{
		"kind":            "good_practice",
		"language":        "en",
		"title":           "Separate storage of morphine concentrations",
		"whatHappened":    "Two concentrations with look-alike labels were stocked side by side.",
		"whatWasLearned":  "A double check does not catch look-alike labels reliably.",
		"whatWasChanged":  "The stronger concentration is kept in the pharmacy only.",
		"whatOthersCanDo": "Check whether your wards stock both concentrations.",
		"category":        "medication",
		"specialty":       "anaesthesiology",
	}
}
