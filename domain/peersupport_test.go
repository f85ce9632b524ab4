package domain_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
)

var peerRequestID = uuid.MustParse("0193a5f0-0000-7000-8000-0000000000b1")

func peerRequested() domain.PeerSupportRequestOpened {
	return domain.PeerSupportRequestOpened{
		RequestID: peerRequestID, Organisation: "umc-utrecht", Requester: "subject-42", Contact: "06 12345678",
		Message: "I keep thinking about it.", Source: domain.PeerSupportDirect, RequestedAt: hour(1),
	}
}

func TestPeerSupport(t *testing.T) {
	t.Parallel()
	request := func(mod func(*domain.RequestPeerSupport)) domain.RequestPeerSupport {
		e := peerRequested()
		c := domain.RequestPeerSupport{RequestID: e.RequestID, Organisation: e.Organisation, Requester: e.Requester, Contact: e.Contact, Message: e.Message, Source: e.Source, At: e.RequestedAt}
		if mod != nil {
			mod(&c)
		}
		return c
	}
	acked := domain.PeerSupportRequestAcknowledged{RequestID: peerRequestID, Supporter: "peer-petra", AcknowledgedAt: hour(3)}
	erased := domain.PeerSupportRequesterErased{RequestID: peerRequestID, ErasedAt: hour(5)}
	supporterErased := domain.PeerSupportSupporterErased{RequestID: peerRequestID, ErasedAt: hour(6)}
	for _, tc := range []struct {
		name       string
		given      []domain.Event
		when       domain.Command
		then       []domain.Event
		wantFields []string
		wantErr    error
	}{
		{name: "a request", when: request(nil), then: []domain.Event{peerRequested()}},
		{name: "twice", given: []domain.Event{peerRequested()}, when: request(nil), wantErr: domain.ErrIllegalTransition},
		{name: "nameless", when: request(func(c *domain.RequestPeerSupport) { c.Requester = "" }), wantFields: []string{"requester"}},
		{name: "everything missing", when: domain.RequestPeerSupport{}, wantFields: []string{"at", "id", "organisation", "requester", "source"}},
		{name: "acknowledged", given: []domain.Event{peerRequested()}, when: domain.AcknowledgePeerSupport{Supporter: "peer-petra", At: hour(3)}, then: []domain.Event{acked}},
		{name: "acknowledged twice", given: []domain.Event{peerRequested(), acked}, when: domain.AcknowledgePeerSupport{Supporter: "peer-paul", At: hour(4)}, wantErr: domain.ErrIllegalTransition},
		{name: "acknowledging nothing", when: domain.AcknowledgePeerSupport{Supporter: "peer-petra", At: hour(3)}, wantErr: domain.ErrNotFound},
		{name: "requester erased", given: []domain.Event{peerRequested(), acked}, when: domain.ErasePeerSupportRequester{At: hour(5)}, then: []domain.Event{erased}},
		{name: "requester erased before any contact", given: []domain.Event{peerRequested()}, when: domain.ErasePeerSupportRequester{At: hour(5)}, then: []domain.Event{erased}},
		{name: "requester erased twice", given: []domain.Event{peerRequested(), erased}, when: domain.ErasePeerSupportRequester{At: hour(6)}, wantErr: domain.ErrIllegalTransition},
		{name: "erasing nothing", when: domain.ErasePeerSupportRequester{At: hour(5)}, wantErr: domain.ErrNotFound},
		{name: "erasure without a time", given: []domain.Event{peerRequested()}, when: domain.ErasePeerSupportRequester{}, wantFields: []string{"at"}},
		{name: "supporter erased", given: []domain.Event{peerRequested(), acked}, when: domain.ErasePeerSupporter{At: hour(6)}, then: []domain.Event{supporterErased}},
		{name: "supporter erased after the requester", given: []domain.Event{peerRequested(), acked, erased}, when: domain.ErasePeerSupporter{At: hour(6)}, then: []domain.Event{supporterErased}},
		{name: "supporter erased twice", given: []domain.Event{peerRequested(), acked, supporterErased}, when: domain.ErasePeerSupporter{At: hour(7)}, wantErr: domain.ErrIllegalTransition},
		{name: "no supporter to erase", given: []domain.Event{peerRequested()}, when: domain.ErasePeerSupporter{At: hour(6)}, wantErr: domain.ErrIllegalTransition},
		{name: "supporter of nothing", when: domain.ErasePeerSupporter{At: hour(6)}, wantErr: domain.ErrNotFound},
		{name: "supporter erasure without a time", given: []domain.Event{peerRequested(), acked}, when: domain.ErasePeerSupporter{}, wantFields: []string{"at"}},
		{name: "a signal command", given: []domain.Event{peerRequested()}, when: domain.AcknowledgeSignal{At: hour(3)}, wantErr: domain.ErrIllegalTransition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var state domain.PeerSupportRequest
			for _, e := range tc.given {
				state = domain.EvolvePeerSupport(state, e)
			}
			got, err := domain.DecidePeerSupport(state, tc.when)
			var ve *domain.ValidationError
			switch {
			case tc.wantFields != nil:
				if !errors.As(err, &ve) || len(ve.Fields) != len(tc.wantFields) {
					t.Fatalf("want fields %v, got %v", tc.wantFields, err)
				}
				for i, f := range ve.Fields {
					if f.Field != tc.wantFields[i] {
						t.Errorf("field %d is %s, want %s", i, f.Field, tc.wantFields[i])
					}
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) || got != nil {
					t.Fatalf("want %v, got %v %v", tc.wantErr, got, err)
				}
			default:
				if err != nil || !reflect.DeepEqual(got, tc.then) {
					t.Fatalf("got %#v %v, want %#v", got, err, tc.then)
				}
			}
		})
	}
	r := domain.EvolvePeerSupport(domain.EvolvePeerSupport(domain.PeerSupportRequest{}, peerRequested()), acked)
	if r.Version != 2 || r.TimeToFirstContact() != 2*time.Hour || r.AcknowledgedBy != "peer-petra" {
		t.Errorf("state %+v", r)
	}
}

// TestPeerSupportRequesterErased: the erasure blanks whatever identifies
// the requester and keeps the organisation, the source and the first
// contact, so the time-to-first-contact figures stay.
func TestPeerSupportRequesterErased(t *testing.T) {
	t.Parallel()
	var r domain.PeerSupportRequest
	for _, e := range []domain.Event{
		peerRequested(),
		domain.PeerSupportRequestAcknowledged{RequestID: peerRequestID, Supporter: "peer-petra", AcknowledgedAt: hour(3)},
		domain.PeerSupportRequesterErased{RequestID: peerRequestID, ErasedAt: hour(5)},
	} {
		r = domain.EvolvePeerSupport(r, e)
	}
	want := domain.PeerSupportRequest{
		ID: peerRequestID, Version: 3, Organisation: "umc-utrecht", Source: domain.PeerSupportDirect, RequestedAt: hour(1),
		AcknowledgedAt: hour(3), AcknowledgedBy: "peer-petra", RequesterErased: true,
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("state %+v, want %+v", r, want)
	}
	if r.TimeToFirstContact() != 2*time.Hour {
		t.Errorf("time to first contact %v", r.TimeToFirstContact())
	}
}

// TestPeerSupportSupporterErased: the supporter's erasure blanks their
// name and keeps when the first contact was made.
func TestPeerSupportSupporterErased(t *testing.T) {
	t.Parallel()
	var r domain.PeerSupportRequest
	for _, e := range []domain.Event{
		peerRequested(),
		domain.PeerSupportRequestAcknowledged{RequestID: peerRequestID, Supporter: "peer-petra", AcknowledgedAt: hour(3)},
		domain.PeerSupportSupporterErased{RequestID: peerRequestID, ErasedAt: hour(6)},
	} {
		r = domain.EvolvePeerSupport(r, e)
	}
	if r.AcknowledgedBy != "" || !r.SupporterErased || r.AcknowledgedAt != hour(3) || r.Version != 3 || r.Requester == "" {
		t.Fatalf("state after the supporter's erasure: %+v", r)
	}
	if r.TimeToFirstContact() != 2*time.Hour {
		t.Errorf("time to first contact %v", r.TimeToFirstContact())
	}
}
