package domain

import (
	"slices"
	"time"
	// The working days of a jurisdiction are counted on its own calendar;
	// the zone database is embedded so the result never depends on the host.
	_ "time/tzdata"

	"github.com/google/uuid"
)

// MaxReferenceLength bounds the regulator's reference of a notification.
const MaxReferenceLength = 256

// RegulatoryRule is what one jurisdiction requires of a signal that is
// reportable to its regulator.
type RegulatoryRule struct {
	// Country is the ISO 3166-1 alpha-2 code of the jurisdiction, the first
	// part of the signal's region.
	Country string
	// Regulator receives the notification.
	Regulator string
	// Notification is the name of the notification in the jurisdiction.
	Notification string
	// WorkingDays is the period to notify in, counted in working days
	// (Monday to Friday) from the moment the signal was reported.
	WorkingDays int
	// TimeZone is the IANA zone whose calendar the working days follow.
	TimeZone string
	// Source cites the legal basis, for display next to the deadline.
	Source string
}

// RegulatoryRules is the table of jurisdictions. To add one, append a rule
// that cites its source; a test checks every rule is complete.
//
// Every deadline is counted from the moment the signal was reported, the
// earliest moment the organisation provably knew of the event, and ends at
// the same time of day on the last working day: the conservative reading of
// the laws, which count from when the care provider became aware. Public
// holidays are not known to this table and count as working days, which
// again errs on the early side.
func RegulatoryRules() []RegulatoryRule {
	return []RegulatoryRule{
		{
			// Wet kwaliteit, klachten en geschillen zorg (Wkkgz) art. 11
			// lid 1 onder a: the care provider notifies the inspectorate of
			// a calamity "onverwijld" (without delay). The IGJ's guidance
			// on reporting calamities reads that as within 3 working days.
			Country:      "NL",
			Regulator:    "Inspectie Gezondheidszorg en Jeugd (IGJ)",
			Notification: "calamiteitenmelding",
			WorkingDays:  3,
			TimeZone:     "Europe/Amsterdam",
			Source:       "Wkkgz art. 11; IGJ guidance: within 3 working days",
		},
		{
			// Spesialisthelsetjenesteloven § 3-3 a: the health enterprise
			// notifies Statens helsetilsyn of serious events "straks"
			// (immediately). Immediately is taken as 1 working day, the
			// shortest period this table can express.
			Country:      "NO",
			Regulator:    "Statens helsetilsyn",
			Notification: "varsel om alvorlig hendelse",
			WorkingDays:  1,
			TimeZone:     "Europe/Oslo",
			Source:       "spesialisthelsetjenesteloven § 3-3 a (straks)",
		},
		{
			// Patientsäkerhetslagen (2010:659) 3 kap. 5 § (lex Maria): the
			// care provider notifies IVO of events that caused or could have
			// caused serious harm; Socialstyrelsen's HSLF-FS 2017:40 says it
			// is done "snarast" (as soon as possible) and gives no period
			// this table relies on. As soon as possible is taken as 3
			// working days, the shortest fixed period in this table.
			Country:      "SE",
			Regulator:    "Inspektionen för vård och omsorg (IVO)",
			Notification: "lex Maria-anmälan",
			WorkingDays:  3,
			TimeZone:     "Europe/Stockholm",
			Source:       "patientsäkerhetslagen 3 kap. 5 §; HSLF-FS 2017:40 (snarast)",
		},
		{
			// Sundhedsloven § 198 stk. 2: a health professional who becomes
			// aware of an adverse event reports it to the region (or the
			// municipality), into the Danish patient safety database; § 199
			// governs the database. The law sets no period; 3 working days
			// is taken, the shortest fixed period in this table.
			Country:      "DK",
			Regulator:    "Dansk Patientsikkerhedsdatabase (DPSD)",
			Notification: "rapportering af utilsigtet hændelse",
			WorkingDays:  3,
			TimeZone:     "Europe/Copenhagen",
			Source:       "sundhedsloven §§ 198-199",
		},
	}
}

// RegulatoryRuleFor returns the rule of a country, if the table has one.
func RegulatoryRuleFor(country string) (RegulatoryRule, bool) {
	rules := RegulatoryRules()
	i := slices.IndexFunc(rules, func(r RegulatoryRule) bool { return r.Country == country })
	if i < 0 {
		return RegulatoryRule{}, false
	}
	return rules[i], true
}

// DueAt is the deadline of a notification for a signal reported at start.
func (r RegulatoryRule) DueAt(start time.Time) time.Time {
	return AddWorkingDays(start, r.WorkingDays, mustLocation(r.TimeZone))
}

func (r RegulatoryRule) deadline(id uuid.UUID, start, at time.Time) RegulatoryDeadlineSet {
	return RegulatoryDeadlineSet{
		SignalID: id, Jurisdiction: r.Country, Regulator: r.Regulator, Notification: r.Notification,
		WorkingDays: r.WorkingDays, StartsAt: start.UTC(), DueAt: r.DueAt(start), SetAt: at.UTC(),
	}
}

// mustLocation loads a zone of the rule table. The table is code and the
// zone database is embedded, so a failure is a mistake in the table.
func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("regulatory rule table: " + err.Error())
	}
	return loc
}

// AddWorkingDays returns the moment n working days after t: the same time
// of day on the n-th Monday-to-Friday after t's date, on the calendar of
// loc. A t in a weekend counts from that weekend, so one working day after
// a Saturday is the Monday. The result is in UTC.
func AddWorkingDays(t time.Time, n int, loc *time.Location) time.Time {
	d := t.In(loc)
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return d.UTC()
}

// RegulatoryDeadline tracks a signal's notification to the regulator, from
// the classification that found it reportable until the notification is
// recorded. The zero value tracks nothing.
type RegulatoryDeadline struct {
	Jurisdiction string
	Regulator    string
	Notification string
	WorkingDays  int
	StartsAt     time.Time
	DueAt        time.Time
	SetAt        time.Time
	// NotifiedAt, Reference and RecordedAt are set once the notification
	// is recorded.
	NotifiedAt time.Time
	Reference  string
	RecordedAt time.Time
}

// Tracked reports whether a deadline was ever set.
func (d RegulatoryDeadline) Tracked() bool { return !d.DueAt.IsZero() }

// Pending reports whether the notification is still to be recorded.
func (d RegulatoryDeadline) Pending() bool { return d.Tracked() && d.NotifiedAt.IsZero() }

// Overdue reports whether, at the given moment, the notification is still
// to be recorded and its deadline has passed.
func (d RegulatoryDeadline) Overdue(at time.Time) bool { return d.Pending() && at.After(d.DueAt) }

// Late reports whether the notification was made after its deadline.
func (d RegulatoryDeadline) Late() bool { return !d.NotifiedAt.IsZero() && d.NotifiedAt.After(d.DueAt) }

// RegulatoryDeadlineSet records that a signal is reportable and when the
// regulator must have been notified.
type RegulatoryDeadlineSet struct {
	SignalID     uuid.UUID `json:"signalId"`
	Jurisdiction string    `json:"jurisdiction"`
	Regulator    string    `json:"regulator"`
	Notification string    `json:"notification"`
	WorkingDays  int       `json:"workingDays"`
	StartsAt     time.Time `json:"startsAt"`
	DueAt        time.Time `json:"dueAt"`
	SetAt        time.Time `json:"setAt"`
}

// EventType implements Event.
func (RegulatoryDeadlineSet) EventType() string { return EventRegulatoryDeadlineSet }

// RecordRegulatorNotification records that the regulator was notified, with
// the reference it gave; it ends the deadline's tracking.
type RecordRegulatorNotification struct {
	Reference  string
	NotifiedAt time.Time
	At         time.Time
}

// CommandName implements Command.
func (RecordRegulatorNotification) CommandName() string {
	return CommandRecordRegulatorNotification
}

// RegulatorNotified records the notification to the regulator.
type RegulatorNotified struct {
	SignalID   uuid.UUID `json:"signalId"`
	Regulator  string    `json:"regulator"`
	Reference  string    `json:"reference"`
	NotifiedAt time.Time `json:"notifiedAt"`
	DueAt      time.Time `json:"dueAt"`
	// Late is whether the notification was made after its deadline.
	Late       bool      `json:"late"`
	RecordedAt time.Time `json:"recordedAt"`
}

// EventType implements Event.
func (RegulatorNotified) EventType() string { return EventRegulatorNotified }

func decideRecordRegulatorNotification(s Signal, c RecordRegulatorNotification) ([]Event, error) {
	if err := permit(s, c.CommandName()); err != nil {
		return nil, err
	}
	var fe fieldErrors
	validateAt(&fe, c.At)
	validateText(&fe, "reference", c.Reference, true, MaxReferenceLength)
	switch {
	case c.NotifiedAt.IsZero():
		fe.add("notifiedAt", "required", "notifiedAt is required (RFC 3339)")
	case c.NotifiedAt.Before(s.OccurredAt):
		fe.add("notifiedAt", "out_of_range", "notifiedAt must not be before the incident occurred")
	case !c.At.IsZero() && c.NotifiedAt.After(c.At.Add(ClockSkew)):
		fe.add("notifiedAt", "out_of_range", "notifiedAt must not be in the future")
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	if !s.Regulatory.Pending() {
		return nil, refuse(s, c.CommandName(), "no notification to the regulator is due")
	}
	d := s.Regulatory
	d.NotifiedAt = c.NotifiedAt.UTC()
	return []Event{RegulatorNotified{
		SignalID: s.ID, Regulator: d.Regulator, Reference: c.Reference,
		NotifiedAt: d.NotifiedAt, DueAt: d.DueAt, Late: d.Late(), RecordedAt: c.At.UTC(),
	}}, nil
}
