// Package peersupporttest is the contract every peersupport.Store meets.
package peersupporttest

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/peersupport"
)

// Fixture requests. Early and Twin are requested at the same instant, so
// the inbox orders them by id (Twin's is the greater).
var (
	Early = uuid.MustParse("0193a5f0-0000-7000-8000-00000000e001")
	Twin  = uuid.MustParse("0193a5f0-0000-7000-8000-00000000e002")
	Late  = uuid.MustParse("0193a5f0-0000-7000-8000-00000000e003")
	Other = uuid.MustParse("0193a5f0-0000-7000-8000-00000000e004")
)

// At is when the fixture's first request was made; the fixture's times
// carry nanoseconds, which a store must keep.
var At = time.Date(2026, 11, 20, 9, 0, 0, 123456789, time.UTC)

func ev(seq uint64, id uuid.UUID, e domain.Event) projections.Event {
	return projections.Event{Sequence: seq, Envelope: eventstore.Envelope{AggregateType: projections.AggregatePeerSupport, AggregateID: id.String()}, Data: e}
}

func opened(id uuid.UUID, org string, at time.Time, src string) domain.PeerSupportRequestOpened {
	o := domain.PeerSupportRequestOpened{RequestID: id, Organisation: org, Requester: "r-" + id.String()[32:], Source: src, RequestedAt: at}
	if src == domain.PeerSupportDirect {
		o.Contact, o.Message = "dect 4411", "Zware dienst gehad; graag even praten."
	}
	return o
}

// History is the fixture: three requests of umc-utrecht (two made at the
// same instant, one acknowledged), one of haukeland, and events of other
// aggregates in between.
func History() []projections.Event {
	return []projections.Event{
		ev(1, Early, opened(Early, "umc-utrecht", At, domain.PeerSupportDirect)),
		{Sequence: 2, Envelope: eventstore.Envelope{AggregateType: projections.AggregateSignal, AggregateID: Late.String()}, Data: domain.SignalAcknowledged{AcknowledgedAt: At}},
		ev(3, Twin, opened(Twin, "umc-utrecht", At, domain.PeerSupportAtFiling)),
		ev(4, Other, opened(Other, "haukeland", At.Add(time.Hour), domain.PeerSupportDirect)),
		ev(5, Early, domain.PeerSupportRequestAcknowledged{RequestID: Early, Supporter: "petra", AcknowledgedAt: At.Add(30*time.Minute + 1)}),
		{Sequence: 6, Envelope: eventstore.Envelope{AggregateType: projections.AggregateLesson, AggregateID: Early.String()}, Data: domain.LessonApplied{LessonID: Early, Organisation: "haukeland", AppliedAt: At}},
		ev(7, Late, opened(Late, "umc-utrecht", At.Add(2*time.Hour), domain.PeerSupportDirect)),
	}
}

// Expected returns the fixture's requests as every store must hold them
// after the whole history.
func Expected() map[uuid.UUID]peersupport.View {
	ids := map[uuid.UUID]bool{}
	for _, e := range History() {
		if e.Envelope.AggregateType == projections.AggregatePeerSupport {
			ids[uuid.MustParse(e.Envelope.AggregateID)] = true
		}
	}
	out := map[uuid.UUID]peersupport.View{}
	for id := range ids {
		var r domain.PeerSupportRequest
		var seq uint64
		for _, e := range History() {
			if e.Envelope.AggregateType == projections.AggregatePeerSupport && e.Envelope.AggregateID == id.String() {
				r, seq = domain.EvolvePeerSupport(r, e.Data), e.Sequence
			}
		}
		out[id] = peersupport.View{PeerSupportRequest: r, Sequence: seq}
	}
	return out
}

// Run runs the contract on stores newStore makes; each subtest makes its
// own.
func Run(t *testing.T, newStore func(t *testing.T) peersupport.Store) {
	t.Helper()
	want := Expected()
	full := func(t *testing.T, sizes ...int) peersupport.Store {
		t.Helper()
		s := newStore(t)
		Apply(t, s, History(), sizes...)
		return s
	}

	t.Run("get", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s := full(t, 3)
		for id, w := range want {
			got, ok, err := s.Get(ctx, id)
			if err != nil || !ok {
				t.Fatalf("Get(%s) = %v, %v", id, ok, err)
			}
			same(t, "Get", got, w)
		}
		if v, _, _ := s.Get(ctx, Early); v.Version != 2 || v.Sequence != 5 || v.AcknowledgedBy != "petra" || v.TimeToFirstContact() != 30*time.Minute+1 {
			t.Errorf("acknowledged request %+v", v)
		}
		if _, ok, err := s.Get(ctx, uuid.New()); ok || err != nil {
			t.Errorf("an unknown request: found %v, %v", ok, err)
		}
		// The lesson event with a request's id is not the request's.
		if _, ok, _ := s.Get(ctx, Late); !ok {
			t.Error("Late not found")
		}
	})

	t.Run("inbox", func(t *testing.T) {
		t.Parallel()
		s := full(t, 2)
		for _, tc := range []struct {
			org  string
			want []uuid.UUID
		}{
			{"umc-utrecht", []uuid.UUID{Late, Twin, Early}},
			{"haukeland", []uuid.UUID{Other}},
			{"isala", nil},
			{"", nil},
			{"UMC-UTRECHT", nil},
		} {
			got, err := s.Inbox(context.Background(), tc.org)
			if err != nil {
				t.Fatalf("Inbox(%q): %v", tc.org, err)
			}
			if got == nil {
				t.Errorf("Inbox(%q) is nil, want an empty list", tc.org)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Inbox(%q) has %d requests, want %d", tc.org, len(got), len(tc.want))
			}
			for i, v := range got {
				if v.ID != tc.want[i] {
					t.Fatalf("Inbox(%q)[%d] = %s, want %s", tc.org, i, v.ID, tc.want[i])
				}
				same(t, "Inbox", v, want[v.ID])
			}
		}
	})

	t.Run("a request never opened is in no inbox", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s := full(t)
		stray := uuid.MustParse("0193a5f0-0000-7000-8000-00000000e005")
		ack := ev(8, stray, domain.PeerSupportRequestAcknowledged{RequestID: stray, Supporter: "jan", AcknowledgedAt: At})
		if err := s.Apply(ctx, []projections.Event{ack}, 8); err != nil {
			t.Fatal(err)
		}
		for _, org := range []string{"", "umc-utrecht"} {
			inbox, err := s.Inbox(ctx, org)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range inbox {
				if v.ID == stray {
					t.Fatalf("the inbox of %q shows a request never opened", org)
				}
			}
		}
		if v, ok, err := s.Get(ctx, stray); err != nil || ok && v.Exists() {
			t.Errorf("a request never opened: %+v, %v, %v", v, ok, err)
		}
	})

	t.Run("by requester", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s := full(t, 3)
		// Late's requester asks again, for another organisation.
		again := uuid.MustParse("0193a5f0-0000-7000-8000-00000000e006")
		o := opened(again, "haukeland", At.Add(3*time.Hour), domain.PeerSupportDirect)
		o.Requester = want[Late].Requester
		Apply(t, s, []projections.Event{ev(8, again, o)})
		for _, tc := range []struct {
			subject string
			want    []uuid.UUID
		}{
			{want[Late].Requester, []uuid.UUID{again, Late}},
			{want[Early].Requester, []uuid.UUID{Early}},
			{"R-" + Early.String()[32:], nil},
			{"nobody", nil},
			{"", nil},
		} {
			got, err := s.ByRequester(ctx, tc.subject)
			if err != nil {
				t.Fatalf("ByRequester(%q): %v", tc.subject, err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("ByRequester(%q) = %v, want %v", tc.subject, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("ByRequester(%q) = %v, want %v", tc.subject, got, tc.want)
				}
			}
		}
	})

	t.Run("requester erased", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s := full(t, 4)
		requester := want[Early].Requester
		Apply(t, s, []projections.Event{ev(8, Early, domain.PeerSupportRequesterErased{RequestID: Early, ErasedAt: At.Add(4 * time.Hour)})})
		w := want[Early]
		w.Version, w.Sequence = 3, 8
		w.Requester, w.Contact, w.Message, w.RequesterErased = "", "", "", true
		got, ok, err := s.Get(ctx, Early)
		if err != nil || !ok {
			t.Fatalf("Get = %v, %v", ok, err)
		}
		same(t, "Get after the erasure", got, w)
		if got.AcknowledgedBy != "petra" || got.TimeToFirstContact() != 30*time.Minute+1 {
			t.Errorf("the erasure lost the first contact: %+v", got)
		}
		inbox, err := s.Inbox(ctx, "umc-utrecht")
		if err != nil || len(inbox) != 3 {
			t.Fatalf("Inbox = %d requests, %v", len(inbox), err)
		}
		for _, v := range inbox {
			if v.ID == Early {
				same(t, "Inbox after the erasure", v, w)
			} else {
				same(t, "Inbox, another request", v, want[v.ID])
			}
		}
		if ids, err := s.ByRequester(ctx, requester); err != nil || len(ids) != 0 {
			t.Errorf("ByRequester finds an erased request: %v, %v", ids, err)
		}
		if ids, err := s.ByRequester(ctx, want[Late].Requester); err != nil || len(ids) != 1 || ids[0] != Late {
			t.Errorf("ByRequester of another person: %v, %v", ids, err)
		}
	})

	t.Run("supporter erased", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s := full(t, 4)
		supporter := want[Early].AcknowledgedBy
		before, err := s.BySupporter(ctx, supporter)
		if err != nil || !slices.Contains(before, Early) {
			t.Fatalf("BySupporter(%q) = %v, %v; want it to hold %s", supporter, before, err, Early)
		}
		Apply(t, s, []projections.Event{ev(8, Early, domain.PeerSupportSupporterErased{RequestID: Early, ErasedAt: At.Add(4 * time.Hour)})})
		w := want[Early]
		w.Version, w.Sequence = 3, 8
		w.AcknowledgedBy, w.SupporterErased = "", true
		got, ok, err := s.Get(ctx, Early)
		if err != nil || !ok {
			t.Fatalf("Get = %v, %v", ok, err)
		}
		same(t, "Get after the supporter's erasure", got, w)
		after, err := s.BySupporter(ctx, supporter)
		if err != nil || slices.Contains(after, Early) || len(after) != len(before)-1 {
			t.Errorf("BySupporter after the erasure = %v, %v (before %v)", after, err, before)
		}
		for _, nobody := range []string{"", "nobody"} {
			if ids, err := s.BySupporter(ctx, nobody); err != nil || len(ids) != 0 {
				t.Errorf("BySupporter(%q) = %v, %v", nobody, ids, err)
			}
		}
	})

	t.Run("checkpoint", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s := newStore(t)
		if cp, err := s.Checkpoint(ctx); err != nil || cp != 0 {
			t.Fatalf("checkpoint of a new store %d, %v", cp, err)
		}
		Apply(t, s, History(), 7)
		// A batch of other aggregates only still moves the checkpoint.
		other := []projections.Event{{Sequence: 9, Envelope: eventstore.Envelope{AggregateType: projections.AggregateSignal, AggregateID: uuid.NewString()}, Data: domain.SignalAcknowledged{AcknowledgedAt: At}}}
		if err := s.Apply(ctx, other, 9); err != nil {
			t.Fatal(err)
		}
		if cp, err := s.Checkpoint(ctx); err != nil || cp != 9 {
			t.Fatalf("checkpoint %d, %v; want 9", cp, err)
		}
	})

	t.Run("the same whatever the batching", func(t *testing.T) {
		t.Parallel()
		for _, sizes := range [][]int{{1}, {4}, {len(History())}} {
			s := full(t, sizes...)
			got, err := s.Inbox(context.Background(), "umc-utrecht")
			if err != nil || len(got) != 3 {
				t.Fatalf("batches of %d: %d requests, %v", sizes[0], len(got), err)
			}
			for _, v := range got {
				same(t, "Inbox", v, want[v.ID])
			}
		}
	})

	t.Run("batches at or below the checkpoint change nothing", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s := full(t, 7)
		// A whole redelivery, and one that overlaps the checkpoint: only
		// what lies beyond it is folded.
		Apply(t, s, History(), 2)
		more := ev(8, Twin, domain.PeerSupportRequestAcknowledged{RequestID: Twin, Supporter: "jan", AcknowledgedAt: At.Add(time.Hour)})
		if err := s.Apply(ctx, append(History()[4:], more), 8); err != nil {
			t.Fatal(err)
		}
		if cp, err := s.Checkpoint(ctx); err != nil || cp != 8 {
			t.Fatalf("checkpoint %d, %v; want 8", cp, err)
		}
		for id, w := range want {
			got, _, err := s.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if id == Twin {
				w.PeerSupportRequest = domain.EvolvePeerSupport(w.PeerSupportRequest, more.Data)
				w.Sequence = 8
			}
			same(t, "after redelivery", got, w)
		}
	})

	t.Run("a bad batch changes nothing", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s := full(t, 7)
		bad := []projections.Event{
			ev(8, Late, domain.PeerSupportRequestAcknowledged{RequestID: Late, Supporter: "jan", AcknowledgedAt: At.Add(3 * time.Hour)}),
			{Sequence: 9, Envelope: eventstore.Envelope{AggregateType: projections.AggregatePeerSupport, AggregateID: "nope"}},
		}
		if err := s.Apply(ctx, bad, 9); err == nil {
			t.Fatal("a batch with a bad id was applied")
		}
		if cp, err := s.Checkpoint(ctx); err != nil || cp != 7 {
			t.Fatalf("a failed batch moved the checkpoint to %d, %v", cp, err)
		}
		if got, _, _ := s.Get(ctx, Late); got.Version != 1 {
			t.Fatalf("a failed batch changed a request: %+v", got)
		}
	})
}

// Apply feeds events to s in batches of sizes[0] events (default: one
// batch), each batch's through its last event's sequence.
func Apply(t *testing.T, s peersupport.Store, events []projections.Event, sizes ...int) {
	t.Helper()
	size := len(events)
	if len(sizes) > 0 && sizes[0] > 0 {
		size = sizes[0]
	}
	for i := 0; i < len(events); i += size {
		batch := events[i:min(i+size, len(events))]
		if err := s.Apply(context.Background(), batch, batch[len(batch)-1].Sequence); err != nil {
			t.Fatalf("Apply through %d: %v", batch[len(batch)-1].Sequence, err)
		}
	}
}

func same(t *testing.T, what string, got, want peersupport.View) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("%s differs:\n got %s\nwant %s", what, g, w)
	}
	if !got.RequestedAt.Equal(want.RequestedAt) || !got.AcknowledgedAt.Equal(want.AcknowledgedAt) {
		t.Errorf("%s: times differ: %v %v, want %v %v", what, got.RequestedAt, got.AcknowledgedAt, want.RequestedAt, want.AcknowledgedAt)
	}
}
