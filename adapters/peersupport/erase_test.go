package peersupport_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/adapters/peersupport"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/eventstore/jstest"
	"github.com/safesignal/safesignal/projections"
)

// TestEraseRequester on a real JetStream: the person's requests lose
// requester, contact and message, in the log as in the state, and their
// keys; another person's request given by mistake is left alone; a repeat
// erases nothing more; and a repeat after a crash between destroying a
// request's key and appending the event finishes the job.
func TestEraseRequester(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// crashed destroys the first request's key before the erasure, as
		// a crash after that step would leave it.
		crashed bool
	}{
		{name: "erasure"},
		{name: "repeat after a crash", crashed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv := jstest.Start(t)
			_, js := srv.JetStream(t)
			log, err := eventstore.Open(ctx, js, eventstore.DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			codec, err := projections.OpenCodec(ctx, js, bytes.Repeat([]byte{5}, 32), 1)
			if err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
			svc := peersupport.New(log, codec, func() time.Time { return at })
			open := func(requester string) uuid.UUID {
				t.Helper()
				id := uuid.New()
				cmd := domain.RequestPeerSupport{RequestID: id, Organisation: "umc-utrecht", Requester: requester, Contact: "CANARY contact", Message: "CANARY message", Source: domain.PeerSupportDirect, At: at}
				if _, err := svc.Execute(ctx, id, cmd, requester, "c"); err != nil {
					t.Fatal(err)
				}
				return id
			}
			mine, alsoMine, theirs := open("erin"), open("erin"), open("frank")
			if tc.crashed {
				if err := codec.Keyring().Destroy(ctx, projections.ScopeSignal, mine.String()); err != nil {
					t.Fatal(err)
				}
			}
			for i, want := range []int{2, 0} {
				n, last, err := peersupport.EraseRequester(ctx, svc, "erin", []uuid.UUID{mine, alsoMine, theirs}, "ada", "erase")
				if err != nil || n != want || (n > 0) != (last > 0) {
					t.Fatalf("erasure %d: %d, %d, %v; want %d", i+1, n, last, err, want)
				}
			}
			for _, id := range []uuid.UUID{mine, alsoMine} {
				r, _, err := svc.Load(ctx, id)
				if err != nil || !r.RequesterErased || r.Requester != "" || r.Contact != "" || r.Message != "" || r.Version != 2 {
					t.Fatalf("erased request: %+v, %v", r, err)
				}
				if _, err := codec.Keyring().Key(ctx, projections.ScopeSignal, id.String(), false); !errors.Is(err, eventstore.ErrKeyErased) {
					t.Errorf("the request's key: %v, want erased", err)
				}
			}
			if r, _, err := svc.Load(ctx, theirs); err != nil || r.RequesterErased || r.Requester != "frank" || r.Contact != "CANARY contact" {
				t.Fatalf("another person's request: %+v, %v", r, err)
			}
		})
	}
}
