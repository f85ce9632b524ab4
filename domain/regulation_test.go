package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/safesignal/safesignal/domain"
)

func TestAddWorkingDays(t *testing.T) {
	t.Parallel()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	local := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, ams) }
	cases := []struct {
		name  string
		start time.Time
		n     int
		loc   *time.Location
		want  time.Time
	}{
		{"zero days is the start itself", utc(2026, 11, 18, 9, 30), 0, time.UTC, utc(2026, 11, 18, 9, 30)},
		{"negative days are zero", utc(2026, 11, 18, 9, 30), -2, time.UTC, utc(2026, 11, 18, 9, 30)},
		{"Monday + 1 is Tuesday", utc(2026, 11, 16, 9, 0), 1, time.UTC, utc(2026, 11, 17, 9, 0)},
		{"Monday + 4 is Friday", utc(2026, 11, 16, 9, 0), 4, time.UTC, utc(2026, 11, 20, 9, 0)},
		{"Monday + 5 is the next Monday", utc(2026, 11, 16, 9, 0), 5, time.UTC, utc(2026, 11, 23, 9, 0)},
		{"Wednesday + 3 skips the weekend to Monday", utc(2026, 11, 18, 9, 0), 3, time.UTC, utc(2026, 11, 23, 9, 0)},
		{"Friday + 1 is Monday", utc(2026, 11, 20, 16, 45), 1, time.UTC, utc(2026, 11, 23, 16, 45)},
		{"Friday + 3 is Wednesday", utc(2026, 11, 20, 10, 0), 3, time.UTC, utc(2026, 11, 25, 10, 0)},
		{"Saturday + 1 is Monday", utc(2026, 11, 21, 11, 0), 1, time.UTC, utc(2026, 11, 23, 11, 0)},
		{"Sunday + 1 is Monday", utc(2026, 11, 22, 23, 59), 1, time.UTC, utc(2026, 11, 23, 23, 59)},
		{"Sunday + 3 is Wednesday", utc(2026, 11, 22, 8, 0), 3, time.UTC, utc(2026, 11, 25, 8, 0)},
		{"Friday + 10 spans two weekends", utc(2026, 11, 20, 10, 0), 10, time.UTC, utc(2026, 12, 4, 10, 0)},
		{"Thursday 31 December 2026 + 3 crosses the year and a weekend", utc(2026, 12, 31, 14, 0), 3, time.UTC, utc(2027, 1, 5, 14, 0)},
		{"Friday 31 December 2027 + 1 is Monday 3 January 2028", utc(2027, 12, 31, 8, 0), 1, time.UTC, utc(2028, 1, 3, 8, 0)},
		{"Saturday 30 December 2028 + 2 is Tuesday 2 January 2029", utc(2028, 12, 30, 8, 0), 2, time.UTC, utc(2029, 1, 2, 8, 0)},
		{"Friday 29 December 2028 + 3 is Wednesday 3 January 2029", utc(2028, 12, 29, 8, 0), 3, time.UTC, utc(2029, 1, 3, 8, 0)},
		{"into a leap day", utc(2028, 2, 25, 12, 0), 2, time.UTC, utc(2028, 2, 29, 12, 0)},
		{
			"Friday 23:30 UTC is Saturday in Amsterdam, so + 1 is Monday 00:30 there",
			utc(2026, 11, 20, 23, 30), 1, ams, local(2026, 11, 23, 0, 30).UTC(),
		},
		{
			"Sunday 23:30 UTC is Monday in Amsterdam, so + 1 is Tuesday",
			utc(2026, 11, 22, 23, 30), 1, ams, local(2026, 11, 24, 0, 30).UTC(),
		},
		{
			"the local time of day is kept across the spring clock change",
			local(2026, 3, 27, 10, 0), 1, ams, utc(2026, 3, 30, 8, 0),
		},
		{
			"and across the autumn clock change",
			local(2026, 10, 23, 10, 0), 1, ams, utc(2026, 10, 26, 9, 0),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := domain.AddWorkingDays(tc.start, tc.n, tc.loc)
			if !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Fatalf("AddWorkingDays(%s, %d) = %s, want %s in UTC", tc.start, tc.n, got, tc.want)
			}
			if wd := got.In(tc.loc).Weekday(); tc.n > 0 && (wd == time.Saturday || wd == time.Sunday) {
				t.Fatalf("a deadline fell on a %s", wd)
			}
		})
	}
}

func TestRegulatoryRules(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range domain.RegulatoryRules() {
		if !validCountry(r.Country) || seen[r.Country] {
			t.Errorf("rule %q: country must be a unique ISO 3166-1 code", r.Country)
		}
		seen[r.Country] = true
		if r.Regulator == "" || r.Notification == "" || r.Source == "" {
			t.Errorf("rule %s: regulator, notification and source are required: %+v", r.Country, r)
		}
		if r.WorkingDays < 1 {
			t.Errorf("rule %s: a deadline of %d working days", r.Country, r.WorkingDays)
		}
		if _, err := time.LoadLocation(r.TimeZone); err != nil {
			t.Errorf("rule %s: time zone: %v", r.Country, err)
		}
		got, ok := domain.RegulatoryRuleFor(r.Country)
		if !ok || got != r {
			t.Errorf("RegulatoryRuleFor(%s) = %+v, %v", r.Country, got, ok)
		}
	}
	for _, c := range []string{"NL", "NO", "SE", "DK"} {
		if !seen[c] {
			t.Errorf("no rule for %s", c)
		}
	}
	for _, c := range []string{"GB", "FI", "", "nl"} {
		if _, ok := domain.RegulatoryRuleFor(c); ok {
			t.Errorf("a rule for %q", c)
		}
	}
}

func validCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

func TestRegulatoryRuleDueAt(t *testing.T) {
	t.Parallel()
	// Reported Thursday 17 December 2026 at 16:00 in each country (15:00 UTC).
	start := time.Date(2026, 12, 17, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		country string
		want    time.Time
	}{
		{"NL", time.Date(2026, 12, 22, 15, 0, 0, 0, time.UTC)}, // Tuesday
		{"SE", time.Date(2026, 12, 22, 15, 0, 0, 0, time.UTC)},
		{"DK", time.Date(2026, 12, 22, 15, 0, 0, 0, time.UTC)},
		{"NO", time.Date(2026, 12, 18, 15, 0, 0, 0, time.UTC)}, // Friday
	} {
		r, ok := domain.RegulatoryRuleFor(tc.country)
		if !ok {
			t.Fatalf("no rule for %s", tc.country)
		}
		if got := r.DueAt(start); !got.Equal(tc.want) {
			t.Errorf("%s: due %s, want %s", tc.country, got, tc.want)
		}
	}
}

func TestRegulatoryDeadline(t *testing.T) {
	t.Parallel()
	pending := domain.Fold(history(acknowledged(), classifiedReportable(), deadlineSet())).Regulatory
	notified := domain.Fold(history(acknowledged(), classifiedReportable(), deadlineSet(), regulatorNotified())).Regulatory
	late := notified
	late.NotifiedAt = nlDue.Add(time.Minute)
	var none domain.RegulatoryDeadline
	cases := []struct {
		name                    string
		d                       domain.RegulatoryDeadline
		at                      time.Time
		tracked, pending, owing bool
		late                    bool
	}{
		{"nothing tracked", none, nlDue.Add(time.Hour), false, false, false, false},
		{"pending before the deadline", pending, nlDue.Add(-time.Hour), true, true, false, false},
		{"pending at the deadline", pending, nlDue, true, true, false, false},
		{"pending after the deadline", pending, nlDue.Add(time.Nanosecond), true, true, true, false},
		{"notified in time, asked later", notified, nlDue.Add(48 * time.Hour), true, false, false, false},
		{"notified late", late, nlDue.Add(48 * time.Hour), true, false, false, true},
	}
	for _, tc := range cases {
		if got := tc.d.Tracked(); got != tc.tracked {
			t.Errorf("%s: Tracked = %v", tc.name, got)
		}
		if got := tc.d.Pending(); got != tc.pending {
			t.Errorf("%s: Pending = %v", tc.name, got)
		}
		if got := tc.d.Overdue(tc.at); got != tc.owing {
			t.Errorf("%s: Overdue = %v", tc.name, got)
		}
		if got := tc.d.Late(); got != tc.late {
			t.Errorf("%s: Late = %v", tc.name, got)
		}
	}
}

func TestRecordRegulatorNotification(t *testing.T) {
	t.Parallel()
	due := history(acknowledged(), classifiedReportable(), deadlineSet())
	record := func(notifiedAt time.Time) domain.RecordRegulatorNotification {
		return domain.RecordRegulatorNotification{Reference: "IGJ-2026-0042", NotifiedAt: notifiedAt, At: hour(6)}
	}
	lateAt := nlDue.Add(2 * time.Hour)
	runSpecs(t, []spec{
		{
			name:  "a notification in time ends the tracking",
			given: due,
			when:  domain.RecordRegulatorNotification{Reference: "IGJ-2026-0042", NotifiedAt: hour(6).In(cet), At: hour(6)},
			then:  []domain.Event{regulatorNotified()},
		},
		{
			name:  "a late notification is recorded as late",
			given: due,
			when:  domain.RecordRegulatorNotification{Reference: "IGJ-2026-0042", NotifiedAt: lateAt, At: lateAt.Add(time.Hour)},
			then: []domain.Event{domain.RegulatorNotified{
				SignalID: signalID, Regulator: "Inspectie Gezondheidszorg en Jeugd (IGJ)", Reference: "IGJ-2026-0042",
				NotifiedAt: lateAt, DueAt: nlDue, Late: true, RecordedAt: lateAt.Add(time.Hour),
			}},
		},
		{
			name:  "a notification made before the signal was filed here",
			given: due,
			when:  record(now.Add(-time.Hour)),
			then: []domain.Event{func() domain.Event {
				e := regulatorNotified()
				e.NotifiedAt = now.Add(-time.Hour)
				return e
			}()},
		},
		{
			name:    "nothing is due on a signal that is not reportable",
			given:   history(acknowledged()),
			when:    record(hour(6)),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "a notification is recorded once",
			given:   append(due, regulatorNotified()),
			when:    record(hour(6)),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "not on a signal that was only reported",
			given:   history(),
			when:    record(hour(6)),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:       "a notification in the future",
			given:      due,
			when:       record(hour(7)),
			wantFields: []string{"notifiedAt"},
		},
		{
			name:       "a notification before the incident",
			given:      due,
			when:       record(now.Add(-3 * time.Hour)),
			wantFields: []string{"notifiedAt"},
		},
		{
			name:       "a reference too long",
			given:      due,
			when:       domain.RecordRegulatorNotification{Reference: strings.Repeat("r", domain.MaxReferenceLength+1), NotifiedAt: hour(6), At: hour(6)},
			wantFields: []string{"reference"},
		},
		{
			name:       "everything missing",
			given:      due,
			when:       domain.RecordRegulatorNotification{},
			wantFields: []string{"at", "reference", "notifiedAt"},
		},
	})
}
