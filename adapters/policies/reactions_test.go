package policies_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/safesignal/safesignal/adapters/commands"
	"github.com/safesignal/safesignal/adapters/policies"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/eventstore/jstest"
	"github.com/safesignal/safesignal/projections"
	"go.uber.org/zap"
)

// receiver is a webhook endpoint on loopback that checks signatures and
// records deliveries by id.
type receiver struct {
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	got    map[string]int
	bodies map[string]policies.Notification
	// hold, when set, blocks the next delivery until released.
	hold chan struct{}
	seen chan string
}

func newReceiver(t *testing.T, secret string) *receiver {
	rc := &receiver{secret: secret, got: map[string]int{}, bodies: map[string]policies.Notification{}, seen: make(chan string, 100)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sig := r.Header.Get(policies.HeaderSignature)
		ts := strings.TrimPrefix(strings.Split(sig, ",")[0], "t=")
		var n policies.Notification
		if err := json.Unmarshal(body, &n); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || policies.Sign(rc.secret, time.Unix(sec, 0), body) != sig {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		rc.mu.Lock()
		hold := rc.hold
		rc.hold = nil
		rc.mu.Unlock()
		if hold != nil {
			rc.seen <- r.Header.Get(policies.HeaderDelivery)
			<-hold
			http.Error(w, "crashed mid-way", http.StatusServiceUnavailable)
			return
		}
		rc.mu.Lock()
		rc.got[r.Header.Get(policies.HeaderDelivery)]++
		rc.bodies[n.ID] = n
		rc.mu.Unlock()
		rc.seen <- r.Header.Get(policies.HeaderDelivery)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

type world struct {
	js   jetstream.JetStream
	log  *eventstore.JetStream
	reg  *projections.Codec
	cmds *commands.Service
}

func newWorld(t *testing.T) *world {
	t.Helper()
	srv := jstest.Start(t)
	_, js := srv.JetStream(t)
	log, err := eventstore.Open(context.Background(), js, eventstore.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := projections.OpenCodec(context.Background(), js, bytes.Repeat([]byte{1}, 32), 1)
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := commands.New(log, reg, commands.Options{Secret: bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return &world{js: js, log: log, reg: reg, cmds: cmds}
}

func (w *world) router(t *testing.T, ctx context.Context, x *policies.Reactions) chan error {
	t.Helper()
	stream, err := w.js.Stream(ctx, eventstore.DefaultConfig().Stream)
	if err != nil {
		t.Fatal(err)
	}
	r, err := policies.NewRouter(ctx, w.js, stream, policies.RouterConfig{MaxRetries: 50, InitialInterval: 20 * time.Millisecond, MaxInterval: 100 * time.Millisecond}, zap.NewNop(), x.Handlers()...)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	return done
}

func (w *world) file(t *testing.T, kind domain.Kind, harm domain.Harm, category domain.Category) uuid.UUID {
	t.Helper()
	res, err := w.cmds.Report(context.Background(), domain.ReportSignal{
		Organisation: "umc-utrecht", Region: "NL-UT", Specialty: "anaesthesiology", OccurredAt: time.Now().Add(-time.Hour),
		Kind: kind, Category: category, Harm: harm, Description: "Morphine 10 mg instead of 1 mg given by pump.", Language: "en", Anonymous: true,
	}, commands.Meta{Caller: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.cmds.Execute(context.Background(), res.ID, nil, domain.AcknowledgeSignal{At: time.Now()}, commands.Meta{Actor: "olga", Caller: "olga"}); err != nil {
		t.Fatal(err)
	}
	return res.ID
}

const policyFile = `{
  "rules": [{"id": "severe-medication",
             "when": {"kinds": ["harmful_incident"], "categories": ["medication"], "minHarm": "severe"},
             "escalate": {"sameSpecialty": true, "regions": ["NL"]},
             "message": "Severe medication incident: check your own ward."}],
  "webhooks": [{"name": "network", "url": "URL", "secret": "0123456789abcdef0123"}]
}`

// TestRuleEscalatesOnceAndNotifiesOnceAcrossACrash files signals, lets the
// rule fire, kills the policy router while the webhook is being delivered,
// restarts it, and checks: one escalation per matching signal, none for
// the others, and every notification delivered with one id (a repeat
// after the crash carries the same id).
func TestRuleEscalatesOnceAndNotifiesOnceAcrossACrash(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rc := newReceiver(t, "0123456789abcdef0123")
	cfg, err := policies.ParseConfig([]byte(strings.Replace(policyFile, "URL", rc.srv.URL, 1)))
	if err != nil {
		t.Fatal(err)
	}
	x := &policies.Reactions{Commands: w.cmds, Codec: w.reg, Config: cfg, Notifier: policies.NewWebhooks(cfg.Webhooks, nil), Logger: zap.NewNop()}

	// The first delivery will hang until the router is stopped: a crash
	// in the middle of the notification.
	hold := make(chan struct{})
	rc.mu.Lock()
	rc.hold = hold
	rc.mu.Unlock()

	severe := w.file(t, domain.KindHarmfulIncident, domain.HarmSevere, domain.CategoryMedication)
	mild := w.file(t, domain.KindHarmfulIncident, domain.HarmMild, domain.CategoryMedication)
	other := w.file(t, domain.KindHarmfulIncident, domain.HarmDeath, domain.CategoryBlood)

	ctx1, stop1 := context.WithCancel(context.Background())
	done1 := w.router(t, ctx1, x)
	select {
	case <-rc.seen: // the held delivery arrived
	case <-time.After(30 * time.Second):
		t.Fatal("no notification within 30s")
	}
	stop1()
	close(hold)
	if err := <-done1; err != nil {
		t.Fatal(err)
	}

	ctx2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	done2 := w.router(t, ctx2, x)
	deadline := time.After(30 * time.Second)
	for {
		rc.mu.Lock()
		n := len(rc.got)
		rc.mu.Unlock()
		if n == 1 {
			break
		}
		select {
		case <-rc.seen:
		case <-deadline:
			t.Fatal("the notification never arrived after the restart")
		}
	}
	// A later filing that matches is escalated too (the router follows).
	later := w.file(t, domain.KindHarmfulIncident, domain.HarmDeath, domain.CategoryMedication)
	for {
		rc.mu.Lock()
		n := len(rc.got)
		rc.mu.Unlock()
		if n == 2 {
			break
		}
		select {
		case <-rc.seen:
		case <-time.After(30 * time.Second):
			t.Fatal("the second notification never arrived")
		}
	}
	stop2()
	if err := <-done2; err != nil {
		t.Fatal(err)
	}

	for id, want := range map[uuid.UUID]int{severe: 1, mild: 0, other: 0, later: 1} {
		s, err := w.cmds.State(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Escalations) != want {
			t.Fatalf("signal %s has %d escalations, want %d", id, len(s.Escalations), want)
		}
		if want == 1 {
			e := s.Escalations[0]
			if !strings.Contains(e.Summary, "medication") || strings.Contains(e.Summary, "Morphine") || len(e.Targets.Specialties) != 1 || e.Targets.Specialties[0] != "anaesthesiology" {
				t.Fatalf("escalation: %+v", e)
			}
			n := rc.bodies["escalated:"+e.ID.String()]
			if n.Kind != policies.KindRuleEscalated || n.SignalID != id || strings.Contains(n.Summary, "Morphine") {
				t.Fatalf("notification: %+v", n)
			}
		}
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for id, count := range rc.got {
		if count != 1 {
			t.Fatalf("notification %s accepted %d times", id, count)
		}
	}
}

func TestPolicyFileIsChecked(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		`{"rules":[{"id":"","message":"m","escalate":{"sameSpecialty":true}}]}`,
		`{"rules":[{"id":"a","message":"m","escalate":{}}]}`,
		`{"rules":[{"id":"a","message":"m","when":{"kinds":["x"]},"escalate":{"sameSpecialty":true}}]}`,
		`{"rules":[{"id":"a","message":"m","when":{"minHarm":"grave"},"escalate":{"sameSpecialty":true}}]}`,
		`{"webhooks":[{"name":"n","url":"ftp://x","secret":"0123456789abcdef"}]}`,
		`{"webhooks":[{"name":"n","url":"https://x","secret":"short"}]}`,
		`{"webhooks":[{"name":"n","url":"https://x","secret":"0123456789abcdef","events":["all"]}]}`,
		`{"reminders":{"every":"soon"}}`,
		`{"rules":`,
	} {
		if _, err := policies.ParseConfig([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestExamplePolicyFileIsValid(t *testing.T) {
	t.Parallel()
	cfg, err := policies.LoadConfig("../../deploy/policies.example.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Rules) == 0 || len(cfg.Webhooks) == 0 || cfg.Reminders.EscalationUnacknowledged.Duration != 48*time.Hour {
		t.Fatalf("example lost its content: %+v", cfg)
	}
}

// TestRuleLatency logs how long a rule takes from the triggering event to
// the escalation being in the log, under no load. The figure goes into
// docs/PERFORMANCE.md; it is not asserted (no timed assertions in tests).
func TestRuleLatency(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cfg, err := policies.ParseConfig([]byte(`{"rules":[{"id":"r","when":{"categories":["medication"]},"escalate":{"sameSpecialty":true},"message":"check"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := w.router(t, ctx, &policies.Reactions{Commands: w.cmds, Codec: w.reg, Config: cfg, Logger: zap.NewNop()})
	var worst time.Duration
	for range 5 {
		start := time.Now()
		id := w.file(t, domain.KindNearMiss, domain.HarmNone, domain.CategoryMedication)
		for {
			s, err := w.cmds.State(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Escalations) == 1 {
				break
			}
			if time.Since(start) > 30*time.Second {
				t.Fatal("the rule never fired")
			}
			time.Sleep(2 * time.Millisecond)
		}
		worst = max(worst, time.Since(start))
	}
	t.Logf("rule escalation within %v of the acknowledgement (worst of 5, filing included)", worst)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
