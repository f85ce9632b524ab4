// Package synth makes synthetic signal histories for tests of the trend
// views: every event comes from domain.Decide, so the data is what the
// real service would log.
package synth

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
)

// Filing is what a synthetic signal is filed with; empty fields take
// defaults (medication near miss in anaesthesiology at umc-utrecht, NL-UT).
type Filing struct {
	Organisation string
	Region       string
	Specialty    domain.Specialty
	Kind         domain.Kind
	Category     domain.Category
	Harm         domain.Harm
	OccurredAt   time.Time
	ReportedAt   time.Time
	// Description replaces the canary text when set.
	Description string
}

// Log builds a log of events, one commit per command, with increasing
// sequences. It is not safe for concurrent use.
type Log struct {
	seq     uint64
	state   map[uuid.UUID]domain.Signal
	events  []projections.Event
	ids     []uuid.UUID
	counter uint64
}

// New returns an empty log.
func New() *Log { return &Log{state: map[uuid.UUID]domain.Signal{}} }

// Events returns every event so far, in log order.
func (l *Log) Events() []projections.Event { return l.events }

// Last returns the sequence of the last commit.
func (l *Log) Last() uint64 { return l.seq }

// IDs returns the ids of the signals filed, in filing order.
func (l *Log) IDs() []uuid.UUID { return l.ids }

// Secret is the free text every synthetic signal carries; tests check it
// never reaches an answer of the trend views.
const Secret = "CANARY-free-text-7f3a"

// Reporter is the reporter of every named synthetic signal.
const Reporter = "CANARY-reporter-9c1e"

// Report files a signal and returns its id.
func (l *Log) Report(f Filing) (uuid.UUID, error) {
	if f.Organisation == "" {
		f.Organisation = "umc-utrecht"
	}
	if f.Region == "" {
		f.Region = "NL-UT"
	}
	if f.Specialty == "" {
		f.Specialty = "anaesthesiology"
	}
	if f.Kind == "" {
		f.Kind = domain.KindNearMiss
	}
	if f.Category == "" {
		f.Category = domain.CategoryMedication
	}
	if f.Harm == "" {
		f.Harm = domain.HarmNone
	}
	if f.ReportedAt.IsZero() {
		f.ReportedAt = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	}
	if f.OccurredAt.IsZero() {
		f.OccurredAt = f.ReportedAt.Add(-2 * time.Hour)
	}
	desc := Secret + " description"
	if f.Description != "" {
		desc = f.Description
	}
	l.counter++
	id := uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "synth-%d", l.counter))
	err := l.decide(id, domain.ReportSignal{
		SignalID: id, Organisation: f.Organisation, Region: f.Region, Specialty: f.Specialty,
		OccurredAt: f.OccurredAt, Kind: f.Kind, Category: f.Category, Harm: f.Harm,
		Description: desc, ImmediateActions: Secret + " actions",
		Language: "en", Reporter: Reporter, At: f.ReportedAt,
	}, f.ReportedAt)
	if err != nil {
		return uuid.Nil, err
	}
	l.ids = append(l.ids, id)
	return id, nil
}

// Acknowledge acknowledges a signal.
func (l *Log) Acknowledge(id uuid.UUID, at time.Time) error {
	return l.decide(id, domain.AcknowledgeSignal{At: at}, at)
}

// Classify reclassifies a signal (acknowledging it first when needed).
func (l *Log) Classify(id uuid.UUID, kind domain.Kind, cat domain.Category, harm domain.Harm, at time.Time) error {
	if l.state[id].Status == domain.StatusReported {
		if err := l.Acknowledge(id, at); err != nil {
			return err
		}
	}
	return l.decide(id, domain.ClassifySignal{Kind: kind, Category: cat, Harm: harm, Note: Secret + " note", At: at}, at)
}

// Reject rejects a signal.
func (l *Log) Reject(id uuid.UUID, at time.Time) error {
	return l.decide(id, domain.RejectSignal{Reason: domain.RejectionReason("other"), Text: Secret + " rejection", At: at}, at)
}

// Duplicate links a signal as a duplicate of another.
func (l *Log) Duplicate(id, of uuid.UUID, at time.Time) error {
	return l.decide(id, domain.LinkDuplicate{DuplicateOf: of, Note: Secret + " duplicate", At: at}, at)
}

// Reopen reopens a rejected, duplicate or closed signal.
func (l *Log) Reopen(id uuid.UUID, at time.Time) error {
	return l.decide(id, domain.ReopenSignal{Reason: Secret + " reopen", At: at}, at)
}

func (l *Log) decide(id uuid.UUID, c domain.Command, at time.Time) error {
	s := l.state[id]
	events, err := domain.Decide(s, c)
	if err != nil {
		return fmt.Errorf("synth: %s on %s: %w", c.CommandName(), id, err)
	}
	l.seq++
	for _, e := range events {
		s = domain.Evolve(s, e)
		l.events = append(l.events, projections.Event{
			Sequence: l.seq,
			Envelope: eventstore.Envelope{
				Type: e.EventType(), SchemaVersion: 1, AggregateType: projections.AggregateSignal,
				AggregateID: id.String(), AggregateVersion: s.Version, OccurredAt: at.UTC(), RecordedAt: at.UTC(),
				Actor: Reporter,
			},
			Data: e,
		})
	}
	l.state[id] = s
	return nil
}

// Options shape a random data set.
type Options struct {
	Seed uint64
	// Signals is how many to file.
	Signals int
	// Start is the first day; reports spread over Weeks weeks from it.
	Start time.Time
	Weeks int
	// Organisations per region; few organisations and many dimensions
	// make many small cells.
	Regions       []string
	Organisations int
	// Specialties and Categories to draw from (all when empty).
	Specialties []domain.Specialty
	Categories  []domain.Category
	// RejectShare, DuplicateShare and ReclassifyShare are fractions of
	// the filed signals that are rejected, linked as duplicates, or
	// reclassified to another category.
	RejectShare, DuplicateShare, ReclassifyShare float64
}

// Random files a random data set into the log.
func (l *Log) Random(o Options) error {
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	if len(o.Regions) == 0 {
		o.Regions = []string{"NL-UT", "NL-NH", "NO-46", "SE-AB"}
	}
	if o.Organisations == 0 {
		o.Organisations = 3
	}
	if len(o.Specialties) == 0 {
		o.Specialties = domain.Specialties()
	}
	if len(o.Categories) == 0 {
		o.Categories = domain.Categories()
	}
	if o.Weeks == 0 {
		o.Weeks = 12
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	}
	kinds := domain.Kinds()
	harms := domain.Harms()[1:]
	for range o.Signals {
		region := o.Regions[r.IntN(len(o.Regions))]
		kind := kinds[r.IntN(len(kinds))]
		harm := domain.HarmNone
		if kind == domain.KindHarmfulIncident {
			harm = harms[r.IntN(len(harms))]
		}
		reported := o.Start.Add(time.Duration(r.IntN(o.Weeks*7*24)) * time.Hour)
		_, err := l.Report(Filing{
			Organisation: fmt.Sprintf("org-%s-%d", region, r.IntN(o.Organisations)),
			Region:       region,
			Specialty:    o.Specialties[r.IntN(len(o.Specialties))],
			Kind:         kind, Category: o.Categories[r.IntN(len(o.Categories))], Harm: harm,
			ReportedAt: reported, OccurredAt: reported.Add(-time.Duration(r.IntN(72)) * time.Hour),
		})
		if err != nil {
			return err
		}
	}
	ids := l.ids
	later := o.Start.AddDate(0, 0, o.Weeks*7+1)
	for i, id := range ids {
		x := r.Float64()
		var err error
		switch {
		case x < o.RejectShare:
			err = l.Reject(id, later)
		case x < o.RejectShare+o.DuplicateShare && len(ids) > 1:
			err = l.Duplicate(id, ids[(i+1)%len(ids)], later)
		case x < o.RejectShare+o.DuplicateShare+o.ReclassifyShare:
			s := l.state[id]
			err = l.Classify(id, s.Kind, o.Categories[r.IntN(len(o.Categories))], s.Harm, later)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Close acknowledges (when needed) and closes a signal.
func (l *Log) Close(id uuid.UUID, at time.Time) error {
	if l.state[id].Status == domain.StatusReported {
		if err := l.Acknowledge(id, at); err != nil {
			return err
		}
	}
	return l.decide(id, domain.CloseSignal{Outcome: domain.CloseOutcomes()[0], Summary: Secret + " summary", At: at}, at)
}
