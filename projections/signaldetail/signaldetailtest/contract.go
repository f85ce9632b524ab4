// Package signaldetailtest is the contract every signaldetail.Store must
// meet. The memory store and the PostgreSQL store both run it, so they
// cannot drift apart.
package signaldetailtest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/signaldetail"
)

// NewStore returns an empty store of the kind under test.
type NewStore func(t *testing.T) signaldetail.Store

// Base is the reporting time of the generated history.
var base = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday

// History is a generated, deterministic log: signals of three
// organisations going through acknowledgement, classification (some
// reportable), escalation, answers, feedback, rejection and duplicate
// links. Each commit is one command's events.
type History struct {
	Commits [][]projections.Event
	IDs     []uuid.UUID
}

// Events returns every event in order.
func (h History) Events() []projections.Event {
	var out []projections.Event
	for _, c := range h.Commits {
		out = append(out, c...)
	}
	return out
}

var orgs = []struct{ org, region string }{{"umc-utrecht", "NL-UT"}, {"haukeland", "NO-46"}, {"karolinska", "SE-AB"}}

// Generate builds a history of n signals.
func Generate(tb testing.TB, n int) History {
	tb.Helper()
	var h History
	seq := uint64(0)
	states := map[uuid.UUID]domain.Signal{}
	apply := func(id uuid.UUID, cmd domain.Command) {
		events, err := domain.Decide(states[id], cmd)
		if err != nil {
			tb.Fatalf("generate: %s on %s: %v", cmd.CommandName(), id, err)
		}
		seq++
		commit := make([]projections.Event, 0, len(events))
		s := states[id]
		for _, e := range events {
			s = domain.Evolve(s, e)
			commit = append(commit, projections.Event{
				Sequence: seq,
				Envelope: eventstore.Envelope{
					ID: uuid.New(), Type: e.EventType(), AggregateType: projections.AggregateSignal,
					AggregateID: id.String(), AggregateVersion: s.Version,
				},
				Data: e,
			})
		}
		states[id] = s
		h.Commits = append(h.Commits, commit)
	}
	kinds := domain.Kinds()
	cats := domain.Categories()
	harms := domain.Harms()
	for i := range n {
		id := uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "signal-%d", i))
		h.IDs = append(h.IDs, id)
		o := orgs[i%len(orgs)]
		at := base.Add(time.Duration(i) * 37 * time.Minute)
		kind := kinds[i%len(kinds)]
		harm := harms[0]
		if kind == domain.KindHarmfulIncident {
			harm = harms[1+i%(len(harms)-1)]
		}
		reporter := ""
		if i%4 != 0 {
			reporter = fmt.Sprintf("reporter-%d", i%5)
		}
		apply(id, domain.ReportSignal{
			SignalID: id, Organisation: o.org, Region: o.region, Specialty: domain.Specialties()[i%3],
			OccurredAt: at.Add(-time.Hour), Kind: kind, Category: cats[i%len(cats)], Harm: harm,
			Description: fmt.Sprintf("Signal %d: two look-alike vials were stored side by side.", i),
			Language:    "en", Anonymous: reporter == "", Reporter: reporter, PeerSupportRequested: i%7 == 0, At: at,
		})
		if i%5 == 4 {
			continue // left unacknowledged
		}
		apply(id, domain.AcknowledgeSignal{At: at.Add(time.Duration(1+i%9) * time.Hour)})
		switch i % 6 {
		case 1:
			apply(id, domain.RejectSignal{Reason: domain.RejectionReasons()[0], At: at.Add(12 * time.Hour)})
			continue
		case 3:
			if i > 3 {
				apply(id, domain.LinkDuplicate{DuplicateOf: h.IDs[i-3], At: at.Add(12 * time.Hour)})
				continue
			}
		}
		apply(id, domain.ClassifySignal{
			Kind: domain.KindHarmfulIncident, Category: cats[(i+1)%len(cats)], Harm: domain.HarmModerate,
			Reportable: i%4 == 2, At: at.Add(20 * time.Hour),
		})
		if i%3 == 0 {
			apply(id, domain.EscalateSignal{
				EscalationID: uuid.NewSHA1(id, []byte("escalation")),
				Targets:      domain.EscalationTargets{Specialties: []domain.Specialty{domain.Specialties()[i%3]}},
				Message:      "Check your own ward.", Summary: "Look-alike vials.", At: at.Add(22 * time.Hour),
			})
			if i%2 == 0 {
				other := orgs[(i+1)%len(orgs)]
				apply(id, domain.AcknowledgeEscalation{
					EscalationID: uuid.NewSHA1(id, []byte("escalation")),
					Recipient:    domain.Recipient{Organisation: other.org, Region: other.region, Specialty: domain.Specialties()[i%3]},
					At:           at.Add(30 * time.Hour),
				})
			}
		}
		if i%2 == 0 {
			apply(id, domain.SendFeedback{Message: "Thank you; the vials are now separated.", At: at.Add(time.Duration(26+i%5) * time.Hour)})
		}
	}
	return h
}

// Recipients the escalation inbox checks.
func Recipients() []domain.Recipient {
	var out []domain.Recipient
	for _, o := range orgs {
		for _, s := range domain.Specialties()[:4] {
			out = append(out, domain.Recipient{Organisation: o.org, Region: o.region, Specialty: s})
		}
	}
	return out
}

// Run runs the contract against stores newStore returns.
func Run(t *testing.T, newStore NewStore) {
	t.Helper()
	h := Generate(t, 120)
	now := base.Add(30 * 24 * time.Hour)

	t.Run("empty store has checkpoint zero and no signals", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := context.Background()
		cp, err := s.Checkpoint(ctx)
		if err != nil || cp != 0 {
			t.Fatalf("Checkpoint = %d, %v; want 0", cp, err)
		}
		if _, ok, err := s.Get(ctx, h.IDs[0]); ok || err != nil {
			t.Fatalf("Get on empty store = %v, %v", ok, err)
		}
		rows, total, err := s.Triage(ctx, "umc-utrecht", signaldetail.TriageFilter{}, now)
		if err != nil || total != 0 || len(rows) != 0 {
			t.Fatalf("Triage on empty store = %d rows, total %d, %v", len(rows), total, err)
		}
	})

	t.Run("same answers as the reference fold, whatever the batching", func(t *testing.T) {
		t.Parallel()
		for _, size := range []int{1, 7, 1000} {
			t.Run(fmt.Sprintf("batches of %d commits", size), func(t *testing.T) {
				s := newStore(t)
				ApplyAll(t, s, h, size)
				Compare(t, s, Reference(t, h), h, now)
			})
		}
	})

	t.Run("batches at or below the checkpoint change nothing", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s := newStore(t)
		ApplyAll(t, s, h, 10)
		cp, err := s.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(len(h.Commits)); cp != want {
			t.Fatalf("checkpoint %d, want %d", cp, want)
		}
		// A redelivery of the whole log, as after a crash between commit
		// and ack, must not fold anything twice.
		ApplyAll(t, s, h, 3)
		Compare(t, s, Reference(t, h), h, now)
	})

	t.Run("triage filters, sorts and pages", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ApplyAll(t, s, h, 50)
		ctx := context.Background()
		all, total, err := s.Triage(ctx, "umc-utrecht", signaldetail.TriageFilter{Sort: "reported"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if total != len(all) || total != 40 {
			t.Fatalf("total %d, rows %d; want 40", total, len(all))
		}
		for i := 1; i < len(all); i++ {
			if all[i].ReportedAt.Before(all[i-1].ReportedAt) {
				t.Fatalf("row %d reported before row %d in ascending order", i, i-1)
			}
		}
		page, total2, err := s.Triage(ctx, "umc-utrecht", signaldetail.TriageFilter{Sort: "reported", Offset: 10, Limit: 5}, now)
		if err != nil || total2 != total || len(page) != 5 || page[0].ID != all[10].ID || page[4].ID != all[14].ID {
			t.Fatalf("page 10..14: %d rows, total %d, %v", len(page), total2, err)
		}
		past, _, err := s.Triage(ctx, "umc-utrecht", signaldetail.TriageFilter{Offset: 1000}, now)
		if err != nil || len(past) != 0 {
			t.Fatalf("offset past the end: %d rows, %v", len(past), err)
		}
	})

	t.Run("export yields one organisation oldest first and stops when told", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ApplyAll(t, s, h, 50)
		ctx := context.Background()
		all, err := Collect(ctx, s, "umc-utrecht", signaldetail.ExportFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 40 {
			t.Fatalf("exported %d signals, want 40", len(all))
		}
		seen := map[uuid.UUID]bool{}
		for i, v := range all {
			if v.Organisation != "umc-utrecht" || seen[v.ID] {
				t.Fatalf("row %d: %s of %s (seen before: %v)", i, v.ID, v.Organisation, seen[v.ID])
			}
			seen[v.ID] = true
			if i > 0 && v.ReportedAt.Before(all[i-1].ReportedAt) {
				t.Fatalf("row %d reported before row %d", i, i-1)
			}
		}
		n := 0
		for _, err := range s.Export(ctx, "umc-utrecht", signaldetail.ExportFilter{}) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 3 {
				break
			}
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		var failed error
		for _, err := range s.Export(cancelled, "umc-utrecht", signaldetail.ExportFilter{}) {
			if err != nil {
				failed = err
				break
			}
		}
		if failed == nil {
			t.Fatal("an export on a cancelled context did not fail")
		}
	})
}

// ApplyAll feeds the history to s in batches of size commits.
func ApplyAll(t *testing.T, s signaldetail.Store, h History, size int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < len(h.Commits); i += size {
		end := min(i+size, len(h.Commits))
		var batch []projections.Event
		for _, c := range h.Commits[i:end] {
			batch = append(batch, c...)
		}
		if err := s.Apply(ctx, batch, uint64(end)); err != nil {
			t.Fatalf("Apply commits %d..%d: %v", i+1, end, err)
		}
	}
}

// Reference folds the history with the memory store, the reference
// semantics.
func Reference(t *testing.T, h History) *signaldetail.Memory {
	t.Helper()
	m := signaldetail.NewMemory()
	ApplyAll(t, m, h, len(h.Commits))
	return m
}

// Compare checks that s answers every query as want does.
func Compare(t *testing.T, s, want signaldetail.Store, h History, now time.Time) {
	t.Helper()
	ctx := context.Background()
	same := func(what string, got, exp any) {
		t.Helper()
		g, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		e, err := json.Marshal(exp)
		if err != nil {
			t.Fatal(err)
		}
		if string(g) != string(e) {
			t.Errorf("%s differs:\n got %s\nwant %s", what, g, e)
		}
	}
	for _, id := range h.IDs {
		g, gok, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		w, wok, _ := want.Get(ctx, id)
		if gok != wok {
			t.Fatalf("Get(%s) found=%v, want %v", id, gok, wok)
		}
		same("Get "+id.String(), g, w)
	}
	filters := []signaldetail.TriageFilter{{}, {Limit: 3, Offset: 2}, {Overdue: true}, {DeadlinePending: true, Sort: "deadline"},
		{Sort: "-deadline"}, {Sort: "harm"}, {Sort: "-harm"}, {Sort: "updated"}, {Sort: "-updated"},
		{Statuses: []domain.Status{domain.StatusRejected, domain.StatusDuplicate}},
		{Kinds: []domain.Kind{domain.KindHarmfulIncident}, Harms: []domain.Harm{domain.HarmModerate, domain.HarmSevere}},
		{Categories: []domain.Category{domain.Categories()[2], domain.Categories()[5]}, Sort: "reported"}}
	for _, o := range orgs {
		for i, f := range filters {
			g, gt, err := s.Triage(ctx, o.org, f, now)
			if err != nil {
				t.Fatalf("Triage %s filter %d: %v", o.org, i, err)
			}
			w, wt, _ := want.Triage(ctx, o.org, f, now)
			if gt != wt {
				t.Errorf("Triage %s filter %d: total %d, want %d", o.org, i, gt, wt)
			}
			same(fmt.Sprintf("Triage %s filter %d", o.org, i), g, w)
		}
		g, err := s.ServiceLevels(ctx, o.org)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := want.ServiceLevels(ctx, o.org)
		same("ServiceLevels "+o.org, g, w)
	}
	for r := range 6 {
		reporter := fmt.Sprintf("reporter-%d", r)
		g, err := s.ReportedBy(ctx, reporter)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := want.ReportedBy(ctx, reporter)
		same("ReportedBy "+reporter, g, w)
	}
	for _, r := range Recipients() {
		g, err := s.EscalationsFor(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := want.EscalationsFor(ctx, r)
		same(fmt.Sprintf("EscalationsFor %+v", r), g, w)
	}
	exports := []signaldetail.ExportFilter{{}, {Statuses: []domain.Status{domain.StatusRejected, domain.StatusDuplicate}},
		{Kinds: []domain.Kind{domain.KindHarmfulIncident}, Harms: []domain.Harm{domain.HarmModerate}},
		{Categories: []domain.Category{domain.Categories()[2], domain.Categories()[5]}},
		{ReportedFrom: base.Add(10 * time.Hour), ReportedTo: base.Add(40 * time.Hour)},
		{ReportedFrom: base.Add(37 * time.Minute)}, {ReportedTo: base.Add(37 * time.Minute)}}
	for _, o := range append(orgs, struct{ org, region string }{"nowhere", "XX"}) {
		for i, f := range exports {
			g, err := Collect(ctx, s, o.org, f)
			if err != nil {
				t.Fatalf("Export %s filter %d: %v", o.org, i, err)
			}
			w, _ := Collect(ctx, want, o.org, f)
			same(fmt.Sprintf("Export %s filter %d", o.org, i), g, w)
			for _, v := range g {
				if v.Organisation != o.org {
					t.Fatalf("Export %s yielded a signal of %s", o.org, v.Organisation)
				}
			}
		}
	}
	for _, d := range []time.Duration{0, 24 * time.Hour, 10 * 24 * time.Hour, 60 * 24 * time.Hour} {
		g, err := s.Due(ctx, base.Add(d), base.Add(d))
		if err != nil {
			t.Fatal(err)
		}
		w, _ := want.Due(ctx, base.Add(d), base.Add(d))
		sortDue(g)
		sortDue(w)
		same(fmt.Sprintf("Due at +%s", d), g, w)
	}
}

// Collect gathers what Export yields.
func Collect(ctx context.Context, s signaldetail.Store, org string, f signaldetail.ExportFilter) ([]signaldetail.View, error) {
	out := []signaldetail.View{}
	for v, err := range s.Export(ctx, org, f) {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// sortDue orders reminders, which stores return in no particular order.
func sortDue(items []signaldetail.DueItem) {
	slices.SortFunc(items, func(a, b signaldetail.DueItem) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Signal.ID.String(), b.Signal.ID.String()),
			cmp.Compare(a.Escalation.ID.String(), b.Escalation.ID.String()))
	})
}
