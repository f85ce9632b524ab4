package projections_test

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/eventstore/jstest"
	"github.com/safesignal/safesignal/projections"
)

func newCodec(t *testing.T) *projections.Codec {
	t.Helper()
	_, js := jstest.Start(t).JetStream(t)
	c, err := projections.OpenCodec(context.Background(), js, bytes.Repeat([]byte{5}, 32), 1)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRegistryHasEveryDomainEventAtVersion1(t *testing.T) {
	t.Parallel()
	r, err := projections.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(slices.Concat(domain.EventTypes(), domain.ErasureEventTypes(), domain.TrendEventTypes(), domain.PeerSupportEventTypes(), domain.LessonEventTypes())))
	if got := r.Names(); !slices.Equal(got, want) {
		t.Fatalf("registered %v, want %v", got, want)
	}
	for _, name := range want {
		if v, _ := r.Version(name); v != 1 {
			t.Errorf("%s is registered at version %d, want 1", name, v)
		}
	}
}

// TestCodecRoundTrip encodes one event of every type, with every field set,
// and decodes it back unchanged.
func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	c := newCodec(t)
	id := uuid.MustParse("0193a5f0-0000-7000-8000-000000000001")
	other := uuid.MustParse("0193a5f0-0000-7000-8000-000000000002")
	esc := uuid.MustParse("0193a5f0-0000-7000-8000-0000000000e1")
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	recipient := domain.Recipient{Organisation: "haukeland", Specialty: "anaesthesiology", Region: "NO-46"}
	events := []domain.Event{
		domain.SignalReported{
			SignalID: id, Organisation: "umc-utrecht", Region: "NL-UT", Specialty: "anaesthesiology",
			OccurredAt: at.Add(-time.Hour), Kind: domain.KindHarmfulIncident, Category: domain.CategoryMedication,
			Harm: domain.HarmSevere, Description: "secret-description", ImmediateActions: "secret-actions", Language: "nl",
			PeerSupportRequested: true, Reporter: "subject-1", ReportedAt: at,
		},
		domain.SignalAcknowledged{SignalID: id, AcknowledgedAt: at},
		domain.SignalClassified{
			SignalID: id, Kind: domain.KindNearMiss, Category: domain.CategoryBlood, Harm: domain.HarmNone,
			PreviousKind: domain.KindHarmfulIncident, PreviousCategory: domain.CategoryMedication, PreviousHarm: domain.HarmSevere,
			ContributingFactors: []domain.ContributingFactor{domain.FactorTeam, domain.FactorExternal},
			Reportable:          true, Note: "n", ClassifiedAt: at,
		},
		domain.RegulatoryDeadlineSet{
			SignalID: id, Jurisdiction: "NL", Regulator: "IGJ", Notification: "calamiteitenmelding",
			WorkingDays: 3, StartsAt: at, DueAt: at.Add(72 * time.Hour), SetAt: at,
		},
		domain.SignalRejected{SignalID: id, Reason: domain.RejectOther, Text: "t", RejectedAt: at},
		domain.SignalMarkedDuplicate{SignalID: id, DuplicateOf: other, Note: "n", MarkedAt: at},
		domain.SignalEscalated{
			SignalID: id, EscalationID: esc,
			Targets: domain.EscalationTargets{
				Specialties: []domain.Specialty{"anaesthesiology"}, Regions: []string{"NO"}, Organisations: []string{"haukeland"},
			},
			Message: "m", Summary: "s", EscalatedAt: at,
		},
		domain.EscalationAcknowledged{SignalID: id, EscalationID: esc, Recipient: recipient, AcknowledgedAt: at},
		domain.EscalationResponded{
			SignalID: id, EscalationID: esc, Recipient: recipient, Response: domain.ResponseRiskPresent, Text: "t", RespondedAt: at,
		},
		domain.FeedbackSent{SignalID: id, Message: "m", SentAt: at},
		domain.SignalClosed{SignalID: id, Outcome: domain.OutcomeReferred, Summary: "s", ClosedAt: at},
		domain.SignalReopened{SignalID: id, Reason: "r", From: domain.StatusClosed, To: domain.StatusAcknowledged, ReopenedAt: at},
		domain.RegulatorNotified{
			SignalID: id, Regulator: "IGJ", Reference: "ref", NotifiedAt: at, DueAt: at, Late: true, RecordedAt: at,
		},
		domain.QuestionAsked{SignalID: id, QuestionID: uuid.New(), Question: "secret-question", AskedAt: at},
		domain.ReporterReplied{SignalID: id, QuestionID: uuid.New(), Reply: "secret-reply", RepliedAt: at},
	}
	var types []string
	for _, e := range events {
		types = append(types, e.EventType())
	}
	if !slices.Equal(types, domain.EventTypes()) {
		t.Fatalf("the test covers %v, the domain has %v", types, domain.EventTypes())
	}
	meta := eventstore.Envelope{AggregateType: projections.AggregateSignal, AggregateID: id.String()}
	meta.Actor = "officer-olga"
	envs, err := c.Encode(context.Background(), meta, 0, events)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range envs {
		for _, secret := range []string{"secret-description", "secret-actions", "subject-1", "officer-olga", "secret-question", "secret-reply"} {
			if strings.Contains(string(env.Data), secret) || strings.Contains(env.Actor, secret) {
				t.Fatalf("%s stores %q in the clear: %s (actor %s)", env.Type, secret, env.Data, env.Actor)
			}
		}
	}
	decoded, err := c.Decode(context.Background(), eventstore.Commit{Sequence: 7, Events: envs})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range decoded {
		if d.Envelope.AggregateVersion != i+1 || d.Envelope.SchemaVersion != 1 || d.Sequence != 7 || d.Envelope.Actor != "officer-olga" || len(d.Erased) != 0 {
			t.Errorf("%s: envelope %+v", d.Envelope.Type, d.Envelope)
		}
		if !reflect.DeepEqual(d.Data, events[i]) {
			t.Errorf("%s changed in the round trip\n got: %#v\nwant: %#v", events[i].EventType(), d.Data, events[i])
		}
	}
}

// TestDecodeAfterErasure: once a signal's key is destroyed its sealed
// fields decode as empty and say so; other signals are intact.
func TestDecodeAfterErasure(t *testing.T) {
	t.Parallel()
	c := newCodec(t)
	ctx := context.Background()
	encode := func(id uuid.UUID, text, reporter string) []eventstore.Envelope {
		envs, err := c.Encode(ctx, eventstore.Envelope{AggregateType: projections.AggregateSignal, AggregateID: id.String(), Actor: reporter}, 0, []domain.Event{
			domain.SignalReported{SignalID: id, Description: text, Reporter: reporter, Kind: domain.KindNearMiss},
		})
		if err != nil {
			t.Fatal(err)
		}
		return envs
	}
	erased, kept := uuid.New(), uuid.New()
	a, b := encode(erased, "CANARY erased text", "alice"), encode(kept, "kept text", "bob")
	if err := c.Keyring().Destroy(ctx, projections.ScopeSignal, erased.String()); err != nil {
		t.Fatal(err)
	}
	if err := c.Keyring().Destroy(ctx, projections.ScopeReporter, c.PersonKeyID("alice")); err != nil {
		t.Fatal(err)
	}
	da, err := c.Decode(ctx, eventstore.Commit{Events: a})
	if err != nil {
		t.Fatal(err)
	}
	got := da[0].Data.(domain.SignalReported)
	if got.Description != "" || got.Reporter != "" || da[0].Envelope.Actor != "" || len(da[0].Erased) != 2 || got.Kind != domain.KindNearMiss {
		t.Fatalf("after erasure: %+v, actor %q, erased %v", got, da[0].Envelope.Actor, da[0].Erased)
	}
	db, err := c.Decode(ctx, eventstore.Commit{Events: b})
	if err != nil {
		t.Fatal(err)
	}
	if g := db[0].Data.(domain.SignalReported); g.Description != "kept text" || g.Reporter != "bob" || len(db[0].Erased) != 0 {
		t.Fatalf("another signal was touched: %+v", g)
	}
}

// TestPeerSupportSealed: a peer-support request keeps requester, contact
// and message sealed, and comes back whole.
func TestPeerSupportSealed(t *testing.T) {
	t.Parallel()
	c := newCodec(t)
	id := uuid.New()
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	events := []domain.Event{
		domain.PeerSupportRequestOpened{RequestID: id, Organisation: "umc-utrecht", Requester: "secret-requester", Contact: "secret-contact", Message: "secret-message", Source: domain.PeerSupportDirect, RequestedAt: at},
		domain.PeerSupportRequestAcknowledged{RequestID: id, Supporter: "secret-supporter", AcknowledgedAt: at},
	}
	envs, err := c.Encode(context.Background(), eventstore.Envelope{AggregateType: projections.AggregatePeerSupport, AggregateID: id.String(), Actor: "secret-requester"}, 0, events)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range envs {
		if strings.Contains(string(env.Data)+env.Actor, "secret-") {
			t.Fatalf("%s stores a secret in the clear: %s", env.Type, env.Data)
		}
	}
	decoded, err := c.Decode(context.Background(), eventstore.Commit{Sequence: 1, Events: envs})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range decoded {
		if !reflect.DeepEqual(d.Data, events[i]) {
			t.Errorf("round trip: %#v", d.Data)
		}
	}
}
