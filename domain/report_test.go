package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
)

var (
	signalID = uuid.MustParse("0193a5f0-0000-7000-8000-000000000001")
	now      = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
)

func validReport() domain.ReportSignal {
	return domain.ReportSignal{
		SignalID:         signalID,
		Organisation:     "umc-utrecht",
		Region:           "NL-UT",
		Specialty:        "anaesthesiology",
		OccurredAt:       now.Add(-2 * time.Hour),
		Kind:             domain.KindNearMiss,
		Category:         domain.CategoryMedication,
		Harm:             domain.HarmNone,
		Description:      "Tenfold dose of morphine prepared; caught at the bedside check.",
		ImmediateActions: "Dose discarded, pharmacy informed.",
		Language:         "en",
		Reporter:         "subject-42",
		At:               now,
	}
}

func reported(mod func(*domain.SignalReported)) domain.SignalReported {
	c := validReport()
	e := domain.SignalReported{
		SignalID: c.SignalID, Organisation: c.Organisation, Region: c.Region, Specialty: c.Specialty,
		OccurredAt: c.OccurredAt, Kind: c.Kind, Category: c.Category, Harm: c.Harm,
		Description: c.Description, ImmediateActions: c.ImmediateActions, Language: c.Language,
		Reporter: c.Reporter, ReportedAt: c.At,
	}
	if mod != nil {
		mod(&e)
	}
	return e
}

func report(mod func(*domain.ReportSignal)) domain.ReportSignal {
	c := validReport()
	mod(&c)
	return c
}

func TestReportSignal(t *testing.T) {
	t.Parallel()
	runSpecs(t, []spec{
		{
			name: "a valid named report is recorded",
			when: validReport(),
			then: []domain.Event{reported(nil)},
		},
		{
			name: "an anonymous report carries no reporter",
			when: report(func(c *domain.ReportSignal) { c.Anonymous = true; c.Reporter = "" }),
			then: []domain.Event{reported(func(e *domain.SignalReported) { e.Anonymous = true; e.Reporter = "" })},
		},
		{
			name: "a harmful incident with harm is recorded",
			when: report(func(c *domain.ReportSignal) { c.Kind = domain.KindHarmfulIncident; c.Harm = domain.HarmSevere }),
			then: []domain.Event{reported(func(e *domain.SignalReported) { e.Kind = domain.KindHarmfulIncident; e.Harm = domain.HarmSevere })},
		},
		{
			name: "peer support can be requested at filing",
			when: report(func(c *domain.ReportSignal) { c.PeerSupportRequested = true }),
			then: []domain.Event{reported(func(e *domain.SignalReported) { e.PeerSupportRequested = true })},
		},
		{
			name: "times are stored in UTC",
			when: report(func(c *domain.ReportSignal) { c.OccurredAt = c.OccurredAt.In(time.FixedZone("CET", 3600)) }),
			then: []domain.Event{reported(nil)},
		},
		{
			name: "a description of exactly the maximum length is accepted",
			when: report(func(c *domain.ReportSignal) { c.Description = strings.Repeat("é", domain.MaxDescriptionLength) }),
			then: []domain.Event{reported(func(e *domain.SignalReported) { e.Description = strings.Repeat("é", domain.MaxDescriptionLength) })},
		},
		{
			name:    "a signal cannot be reported twice",
			given:   []domain.Event{reported(nil)},
			when:    validReport(),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:       "everything missing names every required field",
			when:       domain.ReportSignal{},
			wantFields: []string{"id", "at", "organisation", "region", "specialty", "occurredAt", "kind", "category", "harm", "description", "language", "reporter"},
		},
	})
}

func TestReportSignalValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		mod   func(*domain.ReportSignal)
		field string
	}{
		{"organisation with spaces", func(c *domain.ReportSignal) { c.Organisation = "umc utrecht" }, "organisation"},
		{"organisation too long", func(c *domain.ReportSignal) { c.Organisation = strings.Repeat("a", 65) }, "organisation"},
		{"organisation non-ascii", func(c *domain.ReportSignal) { c.Organisation = "sjukhus-ö" }, "organisation"},
		{"region lower case", func(c *domain.ReportSignal) { c.Region = "nl-ut" }, "region"},
		{"region without subdivision", func(c *domain.ReportSignal) { c.Region = "NL" }, "region"},
		{"region too long", func(c *domain.ReportSignal) { c.Region = "NL-UTRE" }, "region"},
		{"unknown specialty", func(c *domain.ReportSignal) { c.Specialty = "astrology" }, "specialty"},
		{"occurred in the future", func(c *domain.ReportSignal) { c.OccurredAt = now.Add(time.Hour) }, "occurredAt"},
		{"occurred before 1900", func(c *domain.ReportSignal) { c.OccurredAt = time.Date(1899, 12, 31, 23, 59, 0, 0, time.UTC) }, "occurredAt"},
		{"unknown kind", func(c *domain.ReportSignal) { c.Kind = "accident" }, "kind"},
		{"unknown category", func(c *domain.ReportSignal) { c.Category = "other" }, "category"},
		{"unknown harm", func(c *domain.ReportSignal) { c.Harm = "catastrophic" }, "harm"},
		{"harm on a near miss", func(c *domain.ReportSignal) { c.Harm = domain.HarmMild }, "harm"},
		{"no harm on a harmful incident", func(c *domain.ReportSignal) { c.Kind = domain.KindHarmfulIncident }, "harm"},
		{"blank description", func(c *domain.ReportSignal) { c.Description = " \n\t " }, "description"},
		{"description too long", func(c *domain.ReportSignal) { c.Description = strings.Repeat("x", domain.MaxDescriptionLength+1) }, "description"},
		{"description with NUL", func(c *domain.ReportSignal) { c.Description = "dose\x00given" }, "description"},
		{"description not UTF-8", func(c *domain.ReportSignal) { c.Description = "dose \xff given" }, "description"},
		{"immediate actions too long", func(c *domain.ReportSignal) {
			c.ImmediateActions = strings.Repeat("x", domain.MaxImmediateActionsLength+1)
		}, "immediateActions"},
		{"unknown language", func(c *domain.ReportSignal) { c.Language = "de" }, "language"},
		{"anonymous with a reporter", func(c *domain.ReportSignal) { c.Anonymous = true }, "reporter"},
		{"named without a reporter", func(c *domain.ReportSignal) { c.Reporter = "" }, "reporter"},
		{"reporter too long", func(c *domain.ReportSignal) { c.Reporter = strings.Repeat("r", domain.MaxReporterLength+1) }, "reporter"},
	}
	specs := make([]spec, 0, len(cases))
	for _, c := range cases {
		specs = append(specs, spec{name: c.name, when: report(c.mod), wantFields: []string{c.field}})
	}
	runSpecs(t, specs)
}

func TestEvolveFoldsReportedSignal(t *testing.T) {
	t.Parallel()
	s := domain.Fold([]domain.Event{reported(nil)})
	if s.Version != 1 || s.Status != domain.StatusReported || s.ID != signalID {
		t.Fatalf("unexpected state after SignalReported: %+v", s)
	}
	if !s.UpdatedAt.Equal(now) || !s.ReportedAt.Equal(now) {
		t.Fatalf("reporting time not kept: %+v", s)
	}
}

func TestValidRegion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"NL-UT", true}, {"NO-18", true}, {"SE-AB", true}, {"DK-84", true}, {"GB-ENG", true},
		{"", false}, {"NL", false}, {"NL-", false}, {"nl-UT", false}, {"NL_UT", false}, {"NL-UTRE", false}, {"N1-UT", false}, {"NL-ü", false},
	} {
		if got := domain.ValidRegion(tc.in); got != tc.want {
			t.Errorf("ValidRegion(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
