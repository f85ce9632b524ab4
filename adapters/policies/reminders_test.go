package policies_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/adapters/commands"
	"github.com/safesignal/safesignal/adapters/policies"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/signaldetail"
	"go.uber.org/zap"
)

func TestRemindersAreSentOnceAcrossRestartsAndFailures(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rc := newReceiver(t, "0123456789abcdef0123")
	hooks := []policies.Webhook{{Name: "network", URL: rc.srv.URL, Secret: "0123456789abcdef0123"}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// One escalated signal nobody acknowledges, one reportable signal.
	id := w.file(t, domain.KindHarmfulIncident, domain.HarmSevere, domain.CategoryMedication)
	meta := commands.Meta{Actor: "olga", Caller: "olga"}
	if _, err := w.cmds.Execute(ctx, id, nil, domain.EscalateSignal{EscalationID: uuid.New(), Targets: domain.EscalationTargets{Specialties: []domain.Specialty{"anaesthesiology"}}, Message: "Check your pumps.", Summary: "Tenfold opioid dose prepared for a pump.", At: time.Now()}, meta); err != nil {
		t.Fatal(err)
	}
	res, err := w.cmds.Execute(ctx, id, nil, domain.ClassifySignal{Kind: domain.KindHarmfulIncident, Category: domain.CategoryMedication, Harm: domain.HarmSevere, Reportable: true, At: time.Now()}, meta)
	if err != nil {
		t.Fatal(err)
	}

	detail := signaldetail.NewMemory()
	runner := projections.NewRunner(w.log, w.reg, detail, projections.RunnerOptions{ConsumerName: "reminder_detail"}, zap.NewNop())
	go func() { _ = runner.Run(ctx) }()
	if err := runner.WaitFor(ctx, res.Sequence); err != nil {
		t.Fatal(err)
	}

	cfg := policies.Reminders{}
	cfg.EscalationUnacknowledged.Duration = time.Nanosecond
	cfg.DeadlineAhead.Duration = 30 * 24 * time.Hour
	newScheduler := func() *policies.Scheduler {
		s, err := policies.NewScheduler(ctx, w.js, detail, policies.NewWebhooks(hooks, nil), cfg, 1, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	// The receiver fails the first delivery: the claim stays pending and
	// the next round delivers it, under the same id.
	hold := make(chan struct{})
	close(hold)
	rc.mu.Lock()
	rc.hold = hold
	rc.mu.Unlock()
	s := newScheduler()
	if err := s.Round(ctx); err == nil {
		t.Fatal("a failed delivery was not reported")
	}
	for range 3 {
		if err := s.Round(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// A restarted scheduler sends nothing again.
	if err := newScheduler().Round(ctx); err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) != 2 {
		t.Fatalf("deliveries: %v, want one escalation and one deadline reminder", rc.got)
	}
	kinds := map[string]bool{}
	for id, count := range rc.got {
		if count != 1 {
			t.Fatalf("%s delivered %d times", id, count)
		}
		n := rc.bodies[id]
		kinds[n.Kind] = true
		if strings.Contains(n.Summary, "Morphine") {
			t.Fatalf("a reminder carries the description: %+v", n)
		}
	}
	if !kinds[policies.KindEscalationReminder] || !kinds[policies.KindDeadlineReminder] {
		t.Fatalf("reminder kinds: %v", kinds)
	}
}
