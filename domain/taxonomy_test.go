package domain_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/safesignal/safesignal/domain"
)

func TestHarmRank(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		harm domain.Harm
		want int
	}{
		{domain.HarmNone, 0}, {domain.HarmMild, 1}, {domain.HarmModerate, 2}, {domain.HarmSevere, 3}, {domain.HarmDeath, 4},
		{"catastrophic", -1}, {"", -1},
	} {
		if got := tc.harm.Rank(); got != tc.want {
			t.Errorf("Rank(%q) = %d, want %d", tc.harm, got, tc.want)
		}
	}
}

func TestCountry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ region, want string }{
		{"NL-UT", "NL"}, {"NO-46", "NO"}, {"SE", "SE"}, {"N", ""}, {"", ""},
	} {
		if got := domain.Country(tc.region); got != tc.want {
			t.Errorf("Country(%q) = %q, want %q", tc.region, got, tc.want)
		}
	}
}

func TestCodeLists(t *testing.T) {
	t.Parallel()
	if !domain.FactorMedicationProcess.Valid() || domain.ContributingFactor("bad_luck").Valid() {
		t.Error("ContributingFactor.Valid")
	}
	if !domain.RejectOther.Valid() || domain.RejectionReason("boring").Valid() {
		t.Error("RejectionReason.Valid")
	}
	if !domain.OutcomeReferred.Valid() || domain.CloseOutcome("fixed").Valid() {
		t.Error("CloseOutcome.Valid")
	}
	if !domain.ResponseRiskAbsent.Valid() || domain.EscalationResponse("maybe").Valid() {
		t.Error("EscalationResponse.Valid")
	}
	for name, codes := range map[string][]string{
		"contributing factors": strs(domain.ContributingFactors()),
		"rejection reasons":    strs(domain.RejectionReasons()),
		"close outcomes":       strs(domain.CloseOutcomes()),
		"responses":            strs(domain.EscalationResponses()),
		"statuses":             strs(domain.Statuses()),
	} {
		if distinct := slices.Compact(slices.Sorted(slices.Values(codes))); len(distinct) != len(codes) || slices.Contains(codes, "") {
			t.Errorf("%s are not distinct, non-empty codes: %v", name, codes)
		}
	}
}

func strs[T ~string](codes []T) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = string(c)
	}
	return out
}

func TestValidationErrorMessage(t *testing.T) {
	t.Parallel()
	_, err := domain.Decide(domain.Fold(history()), domain.SendFeedback{})
	var ve *domain.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a validation error, got %v", err)
	}
	want := "invalid command: at: the time the command was received is required; message: message is required"
	if err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
}

func TestEventTypesOfEvents(t *testing.T) {
	t.Parallel()
	events := []domain.Event{
		reported(nil), acknowledged(), classifiedReportable(), deadlineSet(), rejected(), markedDuplicate(),
		escalated(), escalationAcknowledged(haukeland()), escalationResponded(haukeland()), feedbackSent(),
		closed(), domain.SignalReopened{}, regulatorNotified(), questionAsked(), reporterReplied(),
	}
	var got []string
	for _, e := range events {
		got = append(got, e.EventType())
	}
	if !slices.Equal(got, domain.EventTypes()) {
		t.Errorf("event types %v, want %v", got, domain.EventTypes())
	}
}
