package peersupport_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/peersupport"
	"github.com/safesignal/safesignal/projections/peersupport/peersupporttest"
)

func TestMemoryContract(t *testing.T) {
	t.Parallel()
	peersupporttest.Run(t, func(*testing.T) peersupport.Store { return peersupport.NewMemory() })
}

func event(aggType string, id uuid.UUID, seq uint64, e domain.Event) projections.Event {
	return projections.Event{Sequence: seq, Envelope: eventstore.Envelope{AggregateType: aggType, AggregateID: id.String()}, Data: e}
}

func TestMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	opened := func(id uuid.UUID, org string, h int) domain.PeerSupportRequestOpened {
		return domain.PeerSupportRequestOpened{RequestID: id, Organisation: org, Requester: "r-" + id.String(), Source: domain.PeerSupportDirect, RequestedAt: at.Add(time.Duration(h) * time.Hour)}
	}
	m := peersupport.NewMemory()
	batch := []projections.Event{
		event(projections.AggregatePeerSupport, a, 1, opened(a, "umc-utrecht", 0)),
		// A signal with the same kind of id is not a request.
		event(projections.AggregateSignal, uuid.New(), 2, domain.SignalAcknowledged{AcknowledgedAt: at}),
		event(projections.AggregatePeerSupport, b, 3, opened(b, "umc-utrecht", 1)),
		event(projections.AggregatePeerSupport, c, 4, opened(c, "haukeland", 2)),
		event(projections.AggregatePeerSupport, a, 5, domain.PeerSupportRequestAcknowledged{RequestID: a, Supporter: "petra", AcknowledgedAt: at.Add(30 * time.Minute)}),
	}
	if err := m.Apply(ctx, batch, 5); err != nil {
		t.Fatal(err)
	}
	if cp, _ := m.Checkpoint(ctx); cp != 5 {
		t.Errorf("checkpoint %d", cp)
	}
	inbox, err := m.Inbox(ctx, "umc-utrecht")
	if err != nil || len(inbox) != 2 || inbox[0].ID != b || inbox[1].ID != a {
		t.Fatalf("inbox %+v %v", inbox, err)
	}
	if got := inbox[1]; got.Version != 2 || got.Sequence != 5 || got.TimeToFirstContact() != 30*time.Minute {
		t.Errorf("acknowledged request %+v", got)
	}
	if v, ok, _ := m.Get(ctx, c); !ok || v.Organisation != "haukeland" {
		t.Errorf("get %+v %v", v, ok)
	}
	if _, ok, _ := m.Get(ctx, uuid.New()); ok {
		t.Error("an unknown request was found")
	}
	if inbox, _ := m.Inbox(ctx, "isala"); len(inbox) != 0 {
		t.Errorf("empty organisation %+v", inbox)
	}
	bad := []projections.Event{{Sequence: 6, Envelope: eventstore.Envelope{AggregateType: projections.AggregatePeerSupport, AggregateID: "nope"}}}
	if err := m.Apply(ctx, bad, 6); err == nil {
		t.Error("a bad id was applied")
	}
	if cp, _ := m.Checkpoint(ctx); cp != 5 {
		t.Errorf("a failed batch moved the checkpoint to %d", cp)
	}
}
