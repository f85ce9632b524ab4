package domain_test

import (
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
)

// Fixtures of the lifecycle. The signal of report_test.go is a near miss
// filed at now (a Friday) by umc-utrecht in NL-UT; the lifecycle events
// below follow it at whole hours.

var (
	otherSignalID = uuid.MustParse("0193a5f0-0000-7000-8000-000000000002")
	escalationID  = uuid.MustParse("0193a5f0-0000-7000-8000-0000000000e1")
	escalation2ID = uuid.MustParse("0193a5f0-0000-7000-8000-0000000000e2")
	questionID    = uuid.MustParse("0193a5f0-0000-7000-8000-0000000000a1")
	question2ID   = uuid.MustParse("0193a5f0-0000-7000-8000-0000000000a2")
)

func questionAsked() domain.QuestionAsked {
	return domain.QuestionAsked{SignalID: signalID, QuestionID: questionID, Question: "Which ward stocked both concentrations?", AskedAt: hour(2)}
}

func reporterReplied() domain.ReporterReplied {
	return domain.ReporterReplied{SignalID: signalID, QuestionID: questionID, Reply: "The recovery ward.", RepliedAt: hour(3)}
}

// hour is n hours after the signal was reported.
func hour(n int) time.Time { return now.Add(time.Duration(n) * time.Hour) }

// haukeland is a recipient the fixture escalation addresses (anaesthesiology
// anywhere); karolinska too; a surgeon is not addressed.
func haukeland() domain.Recipient {
	return domain.Recipient{Organisation: "haukeland", Specialty: "anaesthesiology", Region: "NO-46"}
}

func karolinska() domain.Recipient {
	return domain.Recipient{Organisation: "karolinska", Specialty: "anaesthesiology", Region: "SE-AB"}
}

func acknowledged() domain.SignalAcknowledged {
	return domain.SignalAcknowledged{SignalID: signalID, AcknowledgedAt: hour(1)}
}

const (
	escalationMessage = "Please check whether both morphine concentrations are stocked side by side on your wards."
	escalationSummary = "A tenfold opioid dose was prepared because two concentrations have near-identical labels."
)

func escalated() domain.SignalEscalated {
	return domain.SignalEscalated{
		SignalID: signalID, EscalationID: escalationID,
		Targets: domain.EscalationTargets{Specialties: []domain.Specialty{"anaesthesiology"}},
		Message: escalationMessage, Summary: escalationSummary, EscalatedAt: hour(2),
	}
}

func escalationAcknowledged(r domain.Recipient) domain.EscalationAcknowledged {
	return domain.EscalationAcknowledged{SignalID: signalID, EscalationID: escalationID, Recipient: r, AcknowledgedAt: hour(3)}
}

func escalationResponded(r domain.Recipient) domain.EscalationResponded {
	return domain.EscalationResponded{
		SignalID: signalID, EscalationID: escalationID, Recipient: r,
		Response: domain.ResponseRiskPresent, Text: "Same labels here; separated today.", RespondedAt: hour(4),
	}
}

// nlDue is three working days after now (Friday 10:00 UTC, 11:00 in
// Amsterdam): Wednesday 11:00 in Amsterdam.
var nlDue = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func classifiedReportable() domain.SignalClassified {
	return domain.SignalClassified{
		SignalID: signalID, Kind: domain.KindHarmfulIncident, Category: domain.CategoryMedication, Harm: domain.HarmSevere,
		PreviousKind: domain.KindNearMiss, PreviousCategory: domain.CategoryMedication, PreviousHarm: domain.HarmNone,
		ContributingFactors: []domain.ContributingFactor{domain.FactorEquipment},
		Reportable:          true, ClassifiedAt: hour(5),
	}
}

func deadlineSet() domain.RegulatoryDeadlineSet {
	return domain.RegulatoryDeadlineSet{
		SignalID: signalID, Jurisdiction: "NL", Regulator: "Inspectie Gezondheidszorg en Jeugd (IGJ)",
		Notification: "calamiteitenmelding", WorkingDays: 3, StartsAt: now, DueAt: nlDue, SetAt: hour(5),
	}
}

func regulatorNotified() domain.RegulatorNotified {
	return domain.RegulatorNotified{
		SignalID: signalID, Regulator: "Inspectie Gezondheidszorg en Jeugd (IGJ)", Reference: "IGJ-2026-0042",
		NotifiedAt: hour(6), DueAt: nlDue, RecordedAt: hour(6),
	}
}

func rejected() domain.SignalRejected {
	return domain.SignalRejected{SignalID: signalID, Reason: domain.RejectTest, RejectedAt: hour(7)}
}

func markedDuplicate() domain.SignalMarkedDuplicate {
	return domain.SignalMarkedDuplicate{SignalID: signalID, DuplicateOf: otherSignalID, MarkedAt: hour(7)}
}

func closed() domain.SignalClosed {
	return domain.SignalClosed{
		SignalID: signalID, Outcome: domain.OutcomeImprovementImplemented,
		Summary: "Concentrations separated; labels changed with the supplier.", ClosedAt: hour(8),
	}
}

func feedbackSent() domain.FeedbackSent {
	return domain.FeedbackSent{SignalID: signalID, Message: "Thank you; the labels are being changed.", SentAt: hour(9)}
}

// history is the events of a signal, starting with its report. The slice
// is clipped, so specs that append to a shared history never share arrays.
func history(events ...domain.Event) []domain.Event {
	return slices.Clip(append([]domain.Event{reported(nil)}, events...))
}

// validCommand returns a valid command of each name, received at hour 20.
func validCommand(name string) domain.Command {
	at := hour(20)
	switch name {
	case domain.CommandReport:
		return validReport()
	case domain.CommandAcknowledge:
		return domain.AcknowledgeSignal{At: at}
	case domain.CommandClassify:
		return domain.ClassifySignal{Kind: domain.KindNearMiss, Category: domain.CategoryMedication, Harm: domain.HarmNone, At: at}
	case domain.CommandReject:
		return domain.RejectSignal{Reason: domain.RejectTest, At: at}
	case domain.CommandLinkDuplicate:
		return domain.LinkDuplicate{DuplicateOf: otherSignalID, At: at}
	case domain.CommandEscalate:
		return domain.EscalateSignal{
			EscalationID: escalation2ID, Targets: domain.EscalationTargets{Regions: []string{"SE"}},
			Message: escalationMessage, Summary: escalationSummary, At: at,
		}
	case domain.CommandAcknowledgeEscalation:
		return domain.AcknowledgeEscalation{EscalationID: escalationID, Recipient: karolinska(), At: at}
	case domain.CommandRespondEscalation:
		return domain.RespondToEscalation{EscalationID: escalationID, Recipient: haukeland(), Response: domain.ResponseNotApplicable, At: at}
	case domain.CommandFeedback:
		return domain.SendFeedback{Message: "We are looking into it.", At: at}
	case domain.CommandClose:
		return domain.CloseSignal{Outcome: domain.OutcomeNoActionRequired, Summary: "Analysed; no change needed.", At: at}
	case domain.CommandReopen:
		return domain.ReopenSignal{Reason: "The same mix-up happened again.", At: at}
	case domain.CommandRecordRegulatorNotification:
		return domain.RecordRegulatorNotification{Reference: "IGJ-2026-0042", NotifiedAt: hour(19), At: at}
	case domain.CommandAsk:
		return domain.AskReporter{QuestionID: question2ID, Question: "Was the pharmacy told?", At: at}
	case domain.CommandReply:
		return domain.ReplyToQuestion{QuestionID: questionID, Reply: "Yes, the same day.", At: at}
	}
	panic("no valid command for " + name)
}
