package domain_test

import (
	"reflect"
	"testing"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
)

// TestEvolveStory folds a signal through its whole lifecycle and compares
// the full state after every event with what the event should change.
func TestEvolveStory(t *testing.T) {
	t.Parallel()
	r := reported(nil)
	want := domain.Signal{
		ID: signalID, Version: 1, Status: domain.StatusReported, Organisation: r.Organisation, Region: r.Region,
		Specialty: r.Specialty, OccurredAt: r.OccurredAt, Kind: r.Kind, Category: r.Category, Harm: r.Harm,
		Description: r.Description, ImmediateActions: r.ImmediateActions, Language: r.Language,
		Reporter: r.Reporter, ReportedAt: now, UpdatedAt: now,
	}
	reopened := domain.SignalReopened{SignalID: signalID, Reason: "Again.", From: domain.StatusClosed, To: domain.StatusAcknowledged, ReopenedAt: hour(10)}
	secondClassification := classified(func(e *domain.SignalClassified) {
		e.PreviousKind, e.PreviousHarm = domain.KindHarmfulIncident, domain.HarmSevere
		e.ContributingFactors = []domain.ContributingFactor{domain.FactorCommunication}
		e.Reportable, e.ClassifiedAt = true, hour(11)
	})
	steps := []struct {
		event  domain.Event
		change func(s *domain.Signal)
	}{
		{acknowledged(), func(s *domain.Signal) {
			s.Status, s.AcknowledgedAt, s.UpdatedAt = domain.StatusAcknowledged, hour(1), hour(1)
		}},
		{escalated(), func(s *domain.Signal) {
			e := escalated()
			s.Escalations = []domain.Escalation{{ID: escalationID, Targets: e.Targets, Message: e.Message, Summary: e.Summary, EscalatedAt: hour(2)}}
			s.UpdatedAt = hour(2)
		}},
		{escalationAcknowledged(haukeland()), func(s *domain.Signal) {
			s.Escalations = []domain.Escalation{s.Escalations[0]}
			s.Escalations[0].Receipts = []domain.EscalationReceipt{{Recipient: haukeland(), AcknowledgedAt: hour(3)}}
			s.UpdatedAt = hour(3)
		}},
		{escalationAcknowledged(karolinska()), func(s *domain.Signal) {
			s.Escalations = []domain.Escalation{s.Escalations[0]}
			s.Escalations[0].Receipts = []domain.EscalationReceipt{s.Escalations[0].Receipts[0], {Recipient: karolinska(), AcknowledgedAt: hour(3)}}
		}},
		{escalationResponded(haukeland()), func(s *domain.Signal) {
			s.Escalations = []domain.Escalation{s.Escalations[0]}
			s.Escalations[0].Receipts = []domain.EscalationReceipt{
				{Recipient: haukeland(), AcknowledgedAt: hour(3), Response: domain.ResponseRiskPresent, Text: escalationResponded(haukeland()).Text, RespondedAt: hour(4)},
				s.Escalations[0].Receipts[1],
			}
			s.UpdatedAt = hour(4)
		}},
		{classifiedReportable(), func(s *domain.Signal) {
			s.Kind, s.Harm = domain.KindHarmfulIncident, domain.HarmSevere
			s.Classifications = 1
			s.ContributingFactors = []domain.ContributingFactor{domain.FactorEquipment}
			s.Reportable = true
			s.UpdatedAt = hour(5)
		}},
		{deadlineSet(), func(s *domain.Signal) {
			d := deadlineSet()
			s.Regulatory = domain.RegulatoryDeadline{
				Jurisdiction: "NL", Regulator: d.Regulator, Notification: d.Notification, WorkingDays: 3,
				StartsAt: now, DueAt: nlDue, SetAt: hour(5),
			}
		}},
		{regulatorNotified(), func(s *domain.Signal) {
			s.Regulatory.NotifiedAt, s.Regulatory.Reference, s.Regulatory.RecordedAt = hour(6), "IGJ-2026-0042", hour(6)
			s.UpdatedAt = hour(6)
		}},
		{closed(), func(s *domain.Signal) {
			c := closed()
			s.Status = domain.StatusClosed
			s.Closure = domain.Closure{Outcome: c.Outcome, Summary: c.Summary, ClosedAt: hour(8)}
			s.UpdatedAt = hour(8)
		}},
		{feedbackSent(), func(s *domain.Signal) {
			s.Feedback = []domain.Feedback{{Message: feedbackSent().Message, SentAt: hour(9)}}
			s.UpdatedAt = hour(9)
		}},
		{reopened, func(s *domain.Signal) {
			s.Status, s.Closure, s.Reopened, s.UpdatedAt = domain.StatusAcknowledged, domain.Closure{}, 1, hour(10)
		}},
		{secondClassification, func(s *domain.Signal) {
			s.Kind, s.Harm = domain.KindNearMiss, domain.HarmNone
			s.Classifications = 2
			s.ContributingFactors = []domain.ContributingFactor{domain.FactorEquipment, domain.FactorCommunication}
			s.UpdatedAt = hour(11)
		}},
		{rejected(), func(s *domain.Signal) {
			s.Status, s.Rejection, s.UpdatedAt = domain.StatusRejected, domain.Rejection{Reason: domain.RejectTest, RejectedAt: hour(7)}, hour(7)
		}},
		{domain.SignalReopened{SignalID: signalID, Reason: "Not a test.", From: domain.StatusRejected, To: domain.StatusAcknowledged, ReopenedAt: hour(12)}, func(s *domain.Signal) {
			s.Status, s.Rejection, s.Reopened, s.UpdatedAt = domain.StatusAcknowledged, domain.Rejection{}, 2, hour(12)
		}},
		{markedDuplicate(), func(s *domain.Signal) {
			s.Status, s.DuplicateOf, s.UpdatedAt = domain.StatusDuplicate, otherSignalID, hour(7)
		}},
		{domain.SignalReopened{SignalID: signalID, Reason: "Different patient.", From: domain.StatusDuplicate, To: domain.StatusAcknowledged, ReopenedAt: hour(13)}, func(s *domain.Signal) {
			s.Status, s.DuplicateOf, s.Reopened, s.UpdatedAt = domain.StatusAcknowledged, uuid.Nil, 3, hour(13)
		}},
	}
	got := domain.Evolve(domain.Signal{}, r)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after SignalReported\n got: %+v\nwant: %+v", got, want)
	}
	for i, step := range steps {
		got = domain.Evolve(got, step.event)
		step.change(&want)
		want.Version = i + 2
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("after step %d, %s\n got: %+v\nwant: %+v", i+1, step.event.EventType(), got, want)
		}
	}
}

// TestEvolveNeverWritesIntoItsInput evolves siblings from one state and
// checks that neither the state nor any sibling changed afterwards: the
// command side shares cached states between concurrent commands, and two
// appends into the spare capacity of one slice would overwrite each other.
func TestEvolveNeverWritesIntoItsInput(t *testing.T) {
	t.Parallel()
	base := domain.Fold(history(acknowledged(), escalated(), escalationAcknowledged(haukeland()),
		classifiedReportable(), feedbackSent()))
	// Give the slices spare capacity, as appends in a fold may.
	base.Escalations = append(make([]domain.Escalation, 0, 8), base.Escalations...)
	base.Escalations[0].Receipts = append(make([]domain.EscalationReceipt, 0, 8), base.Escalations[0].Receipts...)
	base.ContributingFactors = append(make([]domain.ContributingFactor, 0, 8), base.ContributingFactors...)
	base.Feedback = append(make([]domain.Feedback, 0, 8), base.Feedback...)
	kept := deepCopy(base)
	withID := func(id uuid.UUID) domain.SignalEscalated {
		e := escalated()
		e.EscalationID = id
		return e
	}
	stOlav := domain.Recipient{Organisation: "st-olav", Specialty: "anaesthesiology", Region: "NO-50"}
	factor := func(f domain.ContributingFactor) domain.SignalClassified {
		return classified(func(e *domain.SignalClassified) { e.ContributingFactors = []domain.ContributingFactor{f} })
	}
	feedback := func(msg string) domain.FeedbackSent {
		return domain.FeedbackSent{SignalID: signalID, Message: msg, SentAt: hour(9)}
	}
	type sibling struct {
		event      domain.Event
		got, saved domain.Signal
	}
	var siblings []sibling
	for _, e := range []domain.Event{
		withID(escalation2ID), withID(uuid.MustParse("0193a5f0-0000-7000-8000-0000000000e3")),
		escalationAcknowledged(karolinska()), escalationAcknowledged(stOlav),
		escalationResponded(haukeland()),
		factor(domain.FactorTeam), factor(domain.FactorExternal),
		feedback("first sibling"), feedback("second sibling"),
	} {
		got := domain.Evolve(base, e)
		siblings = append(siblings, sibling{event: e, got: got, saved: deepCopy(got)})
	}
	if !reflect.DeepEqual(base, kept) {
		t.Fatal("evolving changed the state it was given")
	}
	for _, s := range siblings {
		if !reflect.DeepEqual(s.got, s.saved) {
			t.Errorf("the state evolved by %s was changed by a later sibling", s.event.EventType())
		}
	}
}

func deepCopy(s domain.Signal) domain.Signal {
	c := s
	c.ContributingFactors = append([]domain.ContributingFactor(nil), s.ContributingFactors...)
	c.Feedback = append([]domain.Feedback(nil), s.Feedback...)
	c.Escalations = nil
	for _, e := range s.Escalations {
		e.Receipts = append([]domain.EscalationReceipt(nil), e.Receipts...)
		c.Escalations = append(c.Escalations, e)
	}
	return c
}

func TestEvolveIgnoresAnswersToAnUnknownEscalation(t *testing.T) {
	t.Parallel()
	s := domain.Fold(history(acknowledged()))
	for _, e := range []domain.Event{escalationAcknowledged(haukeland()), escalationResponded(haukeland())} {
		next := domain.Evolve(s, e)
		if len(next.Escalations) != 0 || next.Version != s.Version+1 {
			t.Fatalf("%s on a signal without the escalation: %+v", e.EventType(), next)
		}
	}
}
