package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/safesignal/safesignal/domain"
)

var cet = time.FixedZone("CET", 3600)

func TestAcknowledge(t *testing.T) {
	t.Parallel()
	runSpecs(t, []spec{
		{
			name:  "a reported signal is acknowledged, the time kept in UTC",
			given: history(),
			when:  domain.AcknowledgeSignal{At: hour(1).In(cet)},
			then:  []domain.Event{acknowledged()},
		},
		{
			name:    "a signal is acknowledged once",
			given:   history(acknowledged()),
			when:    domain.AcknowledgeSignal{At: hour(2)},
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "a signal that was never reported is not found",
			when:    domain.AcknowledgeSignal{At: hour(1)},
			wantErr: domain.ErrNotFound,
		},
		{
			name:    "a rejected signal cannot be acknowledged",
			given:   history(rejected()),
			when:    domain.AcknowledgeSignal{At: hour(8)},
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:       "the time of the command is required",
			given:      history(),
			when:       domain.AcknowledgeSignal{},
			wantFields: []string{"at"},
		},
	})
}

func classify(mod func(*domain.ClassifySignal)) domain.ClassifySignal {
	c := domain.ClassifySignal{Kind: domain.KindNearMiss, Category: domain.CategoryMedication, Harm: domain.HarmNone, At: hour(5)}
	if mod != nil {
		mod(&c)
	}
	return c
}

func classified(mod func(*domain.SignalClassified)) domain.SignalClassified {
	e := domain.SignalClassified{
		SignalID: signalID, Kind: domain.KindNearMiss, Category: domain.CategoryMedication, Harm: domain.HarmNone,
		PreviousKind: domain.KindNearMiss, PreviousCategory: domain.CategoryMedication, PreviousHarm: domain.HarmNone,
		ClassifiedAt: hour(5),
	}
	if mod != nil {
		mod(&e)
	}
	return e
}

func TestClassify(t *testing.T) {
	t.Parallel()
	toHarmful := func(c *domain.ClassifySignal) {
		c.Kind, c.Harm = domain.KindHarmfulIncident, domain.HarmSevere
		c.ContributingFactors = []domain.ContributingFactor{domain.FactorEquipment}
	}
	runSpecs(t, []spec{
		{
			name:  "confirming the classification records it with the same previous values",
			given: history(acknowledged()),
			when:  classify(nil),
			then:  []domain.Event{classified(nil)},
		},
		{
			name:  "a reclassification keeps the values it replaced",
			given: history(acknowledged()),
			when: classify(func(c *domain.ClassifySignal) {
				c.Kind, c.Category, c.Harm = domain.KindHarmfulIncident, domain.CategoryClinicalProcess, domain.HarmModerate
				c.Note = "Patient received part of the dose before it was caught."
			}),
			then: []domain.Event{classified(func(e *domain.SignalClassified) {
				e.Kind, e.Category, e.Harm = domain.KindHarmfulIncident, domain.CategoryClinicalProcess, domain.HarmModerate
				e.Note = "Patient received part of the dose before it was caught."
			})},
		},
		{
			name:  "a second reclassification starts from the first",
			given: history(acknowledged(), classified(func(e *domain.SignalClassified) { e.Kind, e.Harm = domain.KindHarmfulIncident, domain.HarmMild })),
			when:  classify(nil),
			then: []domain.Event{classified(func(e *domain.SignalClassified) {
				e.PreviousKind, e.PreviousHarm = domain.KindHarmfulIncident, domain.HarmMild
			})},
		},
		{
			name: "contributing factors are added once each, in the order given",
			given: history(acknowledged(), classified(func(e *domain.SignalClassified) {
				e.ContributingFactors = []domain.ContributingFactor{domain.FactorEquipment}
			})),
			when: classify(func(c *domain.ClassifySignal) {
				c.ContributingFactors = []domain.ContributingFactor{domain.FactorCommunication, domain.FactorEquipment, domain.FactorStaffingWorkload, domain.FactorCommunication}
			}),
			then: []domain.Event{classified(func(e *domain.SignalClassified) {
				e.ContributingFactors = []domain.ContributingFactor{domain.FactorCommunication, domain.FactorStaffingWorkload}
			})},
		},
		{
			name:  "marking an NL signal reportable sets the IGJ deadline, 3 working days after the report",
			given: history(acknowledged()),
			when:  classify(func(c *domain.ClassifySignal) { toHarmful(c); c.Reportable = true }),
			then:  []domain.Event{classifiedReportable(), deadlineSet()},
		},
		{
			name: "a Norwegian signal gets the Helsetilsynet deadline of 1 working day",
			given: []domain.Event{
				reported(func(e *domain.SignalReported) { e.Region = "NO-46"; e.Organisation = "stavanger" }),
				acknowledged(),
			},
			when: classify(func(c *domain.ClassifySignal) { toHarmful(c); c.Reportable = true }),
			then: []domain.Event{
				classifiedReportable(),
				domain.RegulatoryDeadlineSet{
					SignalID: signalID, Jurisdiction: "NO", Regulator: "Statens helsetilsyn",
					Notification: "varsel om alvorlig hendelse", WorkingDays: 1, StartsAt: now,
					DueAt: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), SetAt: hour(5),
				},
			},
		},
		{
			name:  "marking reportable again sets no second deadline",
			given: history(acknowledged(), classifiedReportable(), deadlineSet()),
			when:  classify(func(c *domain.ClassifySignal) { toHarmful(c); c.Reportable = true }),
			then: []domain.Event{classified(func(e *domain.SignalClassified) {
				e.Kind, e.Harm, e.PreviousKind, e.PreviousHarm = domain.KindHarmfulIncident, domain.HarmSevere, domain.KindHarmfulIncident, domain.HarmSevere
				e.Reportable = true
			})},
		},
		{
			name:  "a classification without the marking leaves the signal reportable",
			given: history(acknowledged(), classifiedReportable(), deadlineSet(), regulatorNotified()),
			when:  classify(nil),
			then: []domain.Event{classified(func(e *domain.SignalClassified) {
				e.PreviousKind, e.PreviousHarm = domain.KindHarmfulIncident, domain.HarmSevere
				e.Reportable = true
			})},
		},
		{
			name:       "a country without a regulatory rule cannot be marked reportable",
			given:      []domain.Event{reported(func(e *domain.SignalReported) { e.Region = "GB-ENG" }), acknowledged()},
			when:       classify(func(c *domain.ClassifySignal) { c.Reportable = true }),
			wantFields: []string{"reportable"},
		},
		{
			name:  "a country without a regulatory rule can be classified otherwise",
			given: []domain.Event{reported(func(e *domain.SignalReported) { e.Region = "GB-ENG" }), acknowledged()},
			when:  classify(nil),
			then:  []domain.Event{classified(nil)},
		},
		{
			name:    "a signal is acknowledged before it is classified",
			given:   history(),
			when:    classify(nil),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "a closed signal cannot be classified",
			given:   history(acknowledged(), closed()),
			when:    classify(nil),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:       "everything missing names every required field",
			given:      history(acknowledged()),
			when:       domain.ClassifySignal{},
			wantFields: []string{"at", "kind", "category", "harm"},
		},
	})
}

func TestClassifyValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		mod   func(*domain.ClassifySignal)
		field string
	}{
		{"unknown kind", func(c *domain.ClassifySignal) { c.Kind = "accident" }, "kind"},
		{"unknown category", func(c *domain.ClassifySignal) { c.Category = "other" }, "category"},
		{"unknown harm", func(c *domain.ClassifySignal) { c.Harm = "catastrophic" }, "harm"},
		{"harm on a near miss", func(c *domain.ClassifySignal) { c.Harm = domain.HarmMild }, "harm"},
		{"no harm on a harmful incident", func(c *domain.ClassifySignal) { c.Kind = domain.KindHarmfulIncident }, "harm"},
		{"unknown contributing factor", func(c *domain.ClassifySignal) {
			c.ContributingFactors = []domain.ContributingFactor{domain.FactorTeam, "bad_luck"}
		}, "contributingFactors[1]"},
		{"note too long", func(c *domain.ClassifySignal) { c.Note = strings.Repeat("n", domain.MaxMessageLength+1) }, "note"},
		{"note with a control character", func(c *domain.ClassifySignal) { c.Note = "see\x1b[31m" }, "note"},
	}
	specs := make([]spec, 0, len(cases))
	for _, c := range cases {
		specs = append(specs, spec{name: c.name, given: history(acknowledged()), when: classify(c.mod), wantFields: []string{c.field}})
	}
	runSpecs(t, specs)
}

func TestReject(t *testing.T) {
	t.Parallel()
	runSpecs(t, []spec{
		{
			name:  "a reported signal can be rejected without being acknowledged",
			given: history(),
			when:  domain.RejectSignal{Reason: domain.RejectTest, At: hour(7)},
			then:  []domain.Event{rejected()},
		},
		{
			name:  "an acknowledged signal is rejected with an optional text",
			given: history(acknowledged()),
			when:  domain.RejectSignal{Reason: domain.RejectNotPatientSafety, Text: "A billing complaint.", At: hour(7)},
			then: []domain.Event{domain.SignalRejected{
				SignalID: signalID, Reason: domain.RejectNotPatientSafety, Text: "A billing complaint.", RejectedAt: hour(7),
			}},
		},
		{
			name:  "reason other with its text",
			given: history(),
			when:  domain.RejectSignal{Reason: domain.RejectOther, Text: "Filed in the wrong network.", At: hour(7)},
			then: []domain.Event{domain.SignalRejected{
				SignalID: signalID, Reason: domain.RejectOther, Text: "Filed in the wrong network.", RejectedAt: hour(7),
			}},
		},
		{
			name:       "reason other needs a text",
			given:      history(),
			when:       domain.RejectSignal{Reason: domain.RejectOther, Text: "  ", At: hour(7)},
			wantFields: []string{"text"},
		},
		{
			name:       "an unknown reason",
			given:      history(),
			when:       domain.RejectSignal{Reason: "boring", At: hour(7)},
			wantFields: []string{"reason"},
		},
		{
			name:       "everything missing",
			given:      history(),
			when:       domain.RejectSignal{Text: strings.Repeat("t", domain.MaxMessageLength+1)},
			wantFields: []string{"at", "reason", "text"},
		},
		{
			name:    "a signal is rejected once",
			given:   history(rejected()),
			when:    domain.RejectSignal{Reason: domain.RejectTest, At: hour(8)},
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "a closed signal cannot be rejected",
			given:   history(acknowledged(), closed()),
			when:    domain.RejectSignal{Reason: domain.RejectTest, At: hour(9)},
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "a signal with a notification due to the regulator cannot be rejected",
			given:   history(acknowledged(), classifiedReportable(), deadlineSet()),
			when:    domain.RejectSignal{Reason: domain.RejectTest, At: hour(7)},
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:  "once the regulator was notified the signal can be rejected",
			given: history(acknowledged(), classifiedReportable(), deadlineSet(), regulatorNotified()),
			when:  domain.RejectSignal{Reason: domain.RejectTest, At: hour(7)},
			then:  []domain.Event{rejected()},
		},
	})
}

func TestLinkDuplicate(t *testing.T) {
	t.Parallel()
	runSpecs(t, []spec{
		{
			name:  "a reported signal is linked to the signal it repeats",
			given: history(),
			when:  domain.LinkDuplicate{DuplicateOf: otherSignalID, At: hour(7)},
			then:  []domain.Event{markedDuplicate()},
		},
		{
			name:  "an acknowledged signal is linked with a note",
			given: history(acknowledged()),
			when:  domain.LinkDuplicate{DuplicateOf: otherSignalID, Note: "Same patient, same shift.", At: hour(7)},
			then: []domain.Event{domain.SignalMarkedDuplicate{
				SignalID: signalID, DuplicateOf: otherSignalID, Note: "Same patient, same shift.", MarkedAt: hour(7),
			}},
		},
		{
			name:       "a signal cannot repeat itself",
			given:      history(),
			when:       domain.LinkDuplicate{DuplicateOf: signalID, At: hour(7)},
			wantFields: []string{"duplicateOf"},
		},
		{
			name:       "everything missing",
			given:      history(),
			when:       domain.LinkDuplicate{Note: "\x00"},
			wantFields: []string{"at", "duplicateOf", "note"},
		},
		{
			name:    "a duplicate is linked once",
			given:   history(markedDuplicate()),
			when:    domain.LinkDuplicate{DuplicateOf: otherSignalID, At: hour(8)},
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "a closed signal cannot be linked",
			given:   history(acknowledged(), closed()),
			when:    domain.LinkDuplicate{DuplicateOf: otherSignalID, At: hour(9)},
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "a signal with a notification due to the regulator cannot be linked",
			given:   history(acknowledged(), classifiedReportable(), deadlineSet()),
			when:    domain.LinkDuplicate{DuplicateOf: otherSignalID, At: hour(7)},
			wantErr: domain.ErrIllegalTransition,
		},
	})
}

func TestFeedback(t *testing.T) {
	t.Parallel()
	send := func(msg string) domain.SendFeedback { return domain.SendFeedback{Message: msg, At: hour(9)} }
	sent := func(msg string) domain.FeedbackSent {
		return domain.FeedbackSent{SignalID: signalID, Message: msg, SentAt: hour(9)}
	}
	long := strings.Repeat("å", domain.MaxMessageLength)
	runSpecs(t, []spec{
		{name: "to a reported signal", given: history(), when: send(feedbackSent().Message), then: []domain.Event{feedbackSent()}},
		{name: "to an acknowledged signal", given: history(acknowledged()), when: send("Thanks."), then: []domain.Event{sent("Thanks.")}},
		{name: "to a rejected signal", given: history(rejected()), when: send("Why we rejected it."), then: []domain.Event{sent("Why we rejected it.")}},
		{name: "to a duplicate", given: history(markedDuplicate()), when: send("Handled with the first."), then: []domain.Event{sent("Handled with the first.")}},
		{name: "to a closed signal", given: history(acknowledged(), closed()), when: send("What changed."), then: []domain.Event{sent("What changed.")}},
		{name: "again and again", given: history(feedbackSent()), when: send("More."), then: []domain.Event{sent("More.")}},
		{name: "of the maximum length", given: history(), when: send(long), then: []domain.Event{sent(long)}},
		{name: "one character too long", given: history(), when: send(long + "x"), wantFields: []string{"message"}},
		{name: "blank", given: history(), when: send(" \n "), wantFields: []string{"message"}},
		{name: "not UTF-8", given: history(), when: send("ok \xc3"), wantFields: []string{"message"}},
		{name: "everything missing", given: history(), when: domain.SendFeedback{}, wantFields: []string{"at", "message"}},
		{name: "to a signal never reported", when: send("Hello?"), wantErr: domain.ErrNotFound},
	})
}

func TestClose(t *testing.T) {
	t.Parallel()
	closeCmd := func() domain.CloseSignal {
		c := closed()
		return domain.CloseSignal{Outcome: c.Outcome, Summary: c.Summary, At: c.ClosedAt}
	}
	runSpecs(t, []spec{
		{
			name:  "an acknowledged signal is closed with outcome and summary",
			given: history(acknowledged()),
			when:  closeCmd(),
			then:  []domain.Event{closed()},
		},
		{
			name:  "with open escalations, which stay open to answers",
			given: history(acknowledged(), escalated()),
			when:  closeCmd(),
			then:  []domain.Event{closed()},
		},
		{
			name:  "once the regulator was notified",
			given: history(acknowledged(), classifiedReportable(), deadlineSet(), regulatorNotified()),
			when:  closeCmd(),
			then:  []domain.Event{closed()},
		},
		{
			name:    "not while the notification to the regulator is due",
			given:   history(acknowledged(), classifiedReportable(), deadlineSet()),
			when:    closeCmd(),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "not before it was acknowledged",
			given:   history(),
			when:    closeCmd(),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "not a rejected signal",
			given:   history(acknowledged(), rejected()),
			when:    closeCmd(),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "not twice",
			given:   history(acknowledged(), closed()),
			when:    closeCmd(),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:       "an unknown outcome",
			given:      history(acknowledged()),
			when:       domain.CloseSignal{Outcome: "fixed", Summary: "Done.", At: hour(8)},
			wantFields: []string{"outcome"},
		},
		{
			name:       "everything missing",
			given:      history(acknowledged()),
			when:       domain.CloseSignal{},
			wantFields: []string{"at", "outcome", "summary"},
		},
	})
}

func TestReopen(t *testing.T) {
	t.Parallel()
	reopen := domain.ReopenSignal{Reason: "It happened again on another ward.", At: hour(10)}
	reopened := func(from, to domain.Status) domain.SignalReopened {
		return domain.SignalReopened{SignalID: signalID, Reason: reopen.Reason, From: from, To: to, ReopenedAt: hour(10)}
	}
	runSpecs(t, []spec{
		{
			name:  "a closed signal returns to acknowledged",
			given: history(acknowledged(), closed()),
			when:  reopen,
			then:  []domain.Event{reopened(domain.StatusClosed, domain.StatusAcknowledged)},
		},
		{
			name:  "a signal rejected after acknowledgement returns to acknowledged",
			given: history(acknowledged(), rejected()),
			when:  reopen,
			then:  []domain.Event{reopened(domain.StatusRejected, domain.StatusAcknowledged)},
		},
		{
			name:  "a signal rejected unacknowledged returns to reported",
			given: history(rejected()),
			when:  reopen,
			then:  []domain.Event{reopened(domain.StatusRejected, domain.StatusReported)},
		},
		{
			name:  "a duplicate returns to reported if it was never acknowledged",
			given: history(markedDuplicate()),
			when:  reopen,
			then:  []domain.Event{reopened(domain.StatusDuplicate, domain.StatusReported)},
		},
		{
			name:  "a duplicate returns to acknowledged if it was",
			given: history(acknowledged(), markedDuplicate()),
			when:  reopen,
			then:  []domain.Event{reopened(domain.StatusDuplicate, domain.StatusAcknowledged)},
		},
		{
			name: "a signal reopened before can be closed and reopened again",
			given: history(acknowledged(), closed(),
				reopened(domain.StatusClosed, domain.StatusAcknowledged), closed()),
			when: reopen,
			then: []domain.Event{reopened(domain.StatusClosed, domain.StatusAcknowledged)},
		},
		{
			name:    "an acknowledged signal is open already",
			given:   history(acknowledged()),
			when:    reopen,
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "a reported signal is open already",
			given:   history(),
			when:    reopen,
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:       "a reason is required",
			given:      history(acknowledged(), closed()),
			when:       domain.ReopenSignal{Reason: "\t"},
			wantFields: []string{"at", "reason"},
		},
	})
}

type unknownCommand struct{}

func (unknownCommand) CommandName() string { return "teleport" }

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	runSpecs(t, []spec{{name: "is refused", given: history(), when: unknownCommand{}, wantErr: domain.ErrIllegalTransition}})
}
