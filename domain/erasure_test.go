package domain_test

import (
	"reflect"
	"testing"

	"github.com/safesignal/safesignal/domain"
)

func TestErasure(t *testing.T) {
	t.Parallel()
	anonymous := reported(func(e *domain.SignalReported) { e.Anonymous = true; e.Reporter = "" })
	runSpecs(t, []spec{
		{
			name:  "content is erased in any status",
			given: []domain.Event{reported(nil), acknowledged(), closed()},
			when:  domain.EraseContent{At: now},
			then:  []domain.Event{domain.SignalContentErased{SignalID: signalID, ErasedAt: now}},
		},
		{
			name:    "content is erased once",
			given:   []domain.Event{reported(nil), domain.SignalContentErased{SignalID: signalID, ErasedAt: now}},
			when:    domain.EraseContent{At: now},
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "an unknown signal has nothing to erase",
			when:    domain.EraseContent{At: now},
			wantErr: domain.ErrNotFound,
		},
		{
			name:       "erasure needs its time",
			given:      []domain.Event{reported(nil)},
			when:       domain.EraseContent{},
			wantFields: []string{"at"},
		},
		{
			name:  "a named reporter is erased",
			given: []domain.Event{reported(nil)},
			when:  domain.EraseReporter{At: now},
			then:  []domain.Event{domain.ReporterIdentityErased{SignalID: signalID, ErasedAt: now}},
		},
		{
			name:    "an anonymous signal names nobody to erase",
			given:   []domain.Event{anonymous},
			when:    domain.EraseReporter{At: now},
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "a reporter is erased once",
			given:   []domain.Event{reported(nil), domain.ReporterIdentityErased{SignalID: signalID, ErasedAt: now}},
			when:    domain.EraseReporter{At: now},
			wantErr: domain.ErrIllegalTransition,
		},
	})
}

func TestErasureEvolvesWithoutTouchingTheGivenState(t *testing.T) {
	t.Parallel()
	before := domain.Fold([]domain.Event{reported(nil), acknowledged(), escalated(), escalationAcknowledged(haukeland()), escalationResponded(haukeland()), feedbackSent()})
	keep := domain.Fold([]domain.Event{reported(nil), acknowledged(), escalated(), escalationAcknowledged(haukeland()), escalationResponded(haukeland()), feedbackSent()})
	after := domain.Evolve(before, domain.SignalContentErased{SignalID: signalID, ErasedAt: now})
	if !reflect.DeepEqual(before, keep) {
		t.Fatal("erasure changed the state it was given")
	}
	if !after.ContentErased || after.Description != "" || after.ImmediateActions != "" || after.Feedback[0].Message != "" ||
		after.Escalations[0].Summary != "" || after.Escalations[0].Message != "" || after.Escalations[0].Receipts[0].Text != "" {
		t.Fatalf("text left after erasure: %+v", after)
	}
	if after.Kind != before.Kind || after.Category != before.Category || after.Harm != before.Harm || after.Reporter != before.Reporter {
		t.Fatal("erasure of content changed the classification or the reporter")
	}
	gone := domain.Evolve(before, domain.ReporterIdentityErased{SignalID: signalID, ErasedAt: now})
	if gone.Reporter != "" || !gone.ReporterErased || gone.Description == "" {
		t.Fatalf("reporter erasure: %+v", gone)
	}
}
