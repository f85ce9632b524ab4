package domain

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxEscalationTargets bounds each list of an escalation's targets.
const MaxEscalationTargets = 50

// minQuotedDescription is the shortest description an escalation summary is
// checked for quoting: a shorter one could appear in a summary by chance.
const minQuotedDescription = 20

// Recipient is the colleague group answering an escalation: their
// organisation, specialty and region. The application takes it from the
// caller's credentials.
type Recipient struct {
	Organisation string    `json:"organisation"`
	Specialty    Specialty `json:"specialty"`
	Region       string    `json:"region"`
}

// EscalationTargets chooses the colleagues an escalation goes to. Every
// list that is not empty must match: specialties × regions, optionally
// narrowed to organisations. A region is an ISO 3166-2 code (NL-UT) or an
// ISO 3166-1 country code (NO) for the whole country.
type EscalationTargets struct {
	Specialties   []Specialty `json:"specialties,omitempty"`
	Regions       []string    `json:"regions,omitempty"`
	Organisations []string    `json:"organisations,omitempty"`
}

// Includes reports whether the targets choose r. It does not know the
// escalating organisation, which is never a recipient of its own
// escalation; Signal.Addresses accounts for that.
func (t EscalationTargets) Includes(r Recipient) bool {
	if len(t.Specialties) > 0 && !slices.Contains(t.Specialties, r.Specialty) {
		return false
	}
	if len(t.Regions) > 0 && !slices.ContainsFunc(t.Regions, func(g string) bool {
		return g == r.Region || g == Country(r.Region)
	}) {
		return false
	}
	if len(t.Organisations) > 0 && !slices.Contains(t.Organisations, r.Organisation) {
		return false
	}
	return true
}

func (t EscalationTargets) empty() bool {
	return len(t.Specialties) == 0 && len(t.Regions) == 0 && len(t.Organisations) == 0
}

// EscalationResponse is a colleague's answer to an escalation.
type EscalationResponse string

// Escalation responses.
const (
	// ResponseRiskPresent: checked, the risk is present here too.
	ResponseRiskPresent EscalationResponse = "risk_present"
	// ResponseRiskAbsent: checked, the risk is not present here.
	ResponseRiskAbsent EscalationResponse = "risk_absent"
	// ResponseNotApplicable: the situation does not occur here.
	ResponseNotApplicable EscalationResponse = "not_applicable"
)

// EscalationResponses lists every escalation response.
func EscalationResponses() []EscalationResponse {
	return []EscalationResponse{ResponseRiskPresent, ResponseRiskAbsent, ResponseNotApplicable}
}

// Valid reports whether r is a known escalation response.
func (r EscalationResponse) Valid() bool { return slices.Contains(EscalationResponses(), r) }

// EscalationState is where an escalation, or one recipient's part of it,
// stands.
type EscalationState string

// Escalation states.
const (
	// EscalationStateOpen: no recipient has acknowledged it yet.
	EscalationStateOpen EscalationState = "open"
	// EscalationStateAcknowledged: acknowledged, no response yet.
	EscalationStateAcknowledged EscalationState = "acknowledged"
	// EscalationStateResponded: at least one recipient responded.
	EscalationStateResponded EscalationState = "responded"
)

// Escalation is one escalation of a signal to colleagues elsewhere.
type Escalation struct {
	ID          uuid.UUID
	Targets     EscalationTargets
	Message     string
	Summary     string
	EscalatedAt time.Time
	// Receipts holds one entry per recipient organisation that
	// acknowledged, in the order they did.
	Receipts []EscalationReceipt
}

// EscalationReceipt is one recipient organisation's acknowledgement of an
// escalation and its response, once given.
type EscalationReceipt struct {
	Recipient      Recipient
	AcknowledgedAt time.Time
	Response       EscalationResponse
	Text           string
	RespondedAt    time.Time
}

// State is acknowledged until the recipient responds.
func (r EscalationReceipt) State() EscalationState {
	if r.Response != "" {
		return EscalationStateResponded
	}
	return EscalationStateAcknowledged
}

// State is responded once any recipient responded, acknowledged once any
// acknowledged, and open before.
func (e Escalation) State() EscalationState {
	st := EscalationStateOpen
	for _, r := range e.Receipts {
		if r.State() == EscalationStateResponded {
			return EscalationStateResponded
		}
		st = EscalationStateAcknowledged
	}
	return st
}

// Receipt returns the receipt of the recipient organisation.
func (e Escalation) Receipt(organisation string) (EscalationReceipt, bool) {
	i := slices.IndexFunc(e.Receipts, func(r EscalationReceipt) bool { return r.Recipient.Organisation == organisation })
	if i < 0 {
		return EscalationReceipt{}, false
	}
	return e.Receipts[i], true
}

// Escalation returns the signal's escalation with the given id.
func (s Signal) Escalation(id uuid.UUID) (Escalation, bool) {
	i := s.escalationIndex(id)
	if i < 0 {
		return Escalation{}, false
	}
	return s.Escalations[i], true
}

// Addresses reports whether the escalation id of the signal goes to r: its
// targets include r and r is not the signal's own organisation.
func (s Signal) Addresses(id uuid.UUID, r Recipient) bool {
	e, ok := s.Escalation(id)
	return ok && r.Organisation != s.Organisation && e.Targets.Includes(r)
}

func (s Signal) escalationIndex(id uuid.UUID) int {
	return slices.IndexFunc(s.Escalations, func(e Escalation) bool { return e.ID == id })
}

// --- escalate ---

// EscalateSignal sends the signal to colleagues elsewhere, with a message
// and a summary written for them. The summary, not the reporter's
// description, is what colleagues and notifications see.
type EscalateSignal struct {
	// EscalationID is chosen by the caller and names the escalation in
	// later commands.
	EscalationID uuid.UUID
	Targets      EscalationTargets
	Message      string
	Summary      string
	At           time.Time
}

// CommandName implements Command.
func (EscalateSignal) CommandName() string { return CommandEscalate }

// SignalEscalated records an escalation to colleagues.
type SignalEscalated struct {
	SignalID     uuid.UUID         `json:"signalId"`
	EscalationID uuid.UUID         `json:"escalationId"`
	Targets      EscalationTargets `json:"targets"`
	Message      string            `json:"message" sensitive:"signal"`
	Summary      string            `json:"summary" sensitive:"signal"`
	EscalatedAt  time.Time         `json:"escalatedAt"`
}

// EventType implements Event.
func (SignalEscalated) EventType() string { return EventSignalEscalated }

func decideEscalate(s Signal, c EscalateSignal) ([]Event, error) {
	if err := permit(s, c.CommandName()); err != nil {
		return nil, err
	}
	var fe fieldErrors
	validateAt(&fe, c.At)
	if c.EscalationID == uuid.Nil {
		fe.add("escalationId", "required", "an escalation id is required")
	}
	validateTargets(&fe, s, c.Targets)
	validateText(&fe, "message", c.Message, true, MaxMessageLength)
	validateText(&fe, "summary", c.Summary, true, MaxMessageLength)
	if d := strings.TrimSpace(s.Description); utf8.RuneCountInString(d) >= minQuotedDescription && strings.Contains(c.Summary, d) {
		fe.add("summary", "quotes_description", "the summary must be written for colleagues, not quote the reporter's description")
	}
	if s.Reporter != "" && strings.Contains(c.Summary, s.Reporter) {
		fe.add("summary", "identifies_reporter", "the summary must not identify the reporter")
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	if _, ok := s.Escalation(c.EscalationID); ok {
		return nil, refuse(s, c.CommandName(), "an escalation with this id exists already")
	}
	return []Event{SignalEscalated{
		SignalID: s.ID, EscalationID: c.EscalationID,
		Targets: EscalationTargets{
			Specialties:   cloneOrNil(c.Targets.Specialties),
			Regions:       cloneOrNil(c.Targets.Regions),
			Organisations: cloneOrNil(c.Targets.Organisations),
		},
		Message: c.Message, Summary: c.Summary, EscalatedAt: c.At.UTC(),
	}}, nil
}

func validateTargets(fe *fieldErrors, s Signal, t EscalationTargets) {
	if t.empty() {
		fe.add("targets", "required", "choose the colleagues by specialty, region and/or organisation")
		return
	}
	tooMany := func(field string, n int) bool {
		if n > MaxEscalationTargets {
			fe.add(field, "too_many", "%s may list at most %d entries", field, MaxEscalationTargets)
			return true
		}
		return false
	}
	if !tooMany("targets.specialties", len(t.Specialties)) {
		for i, sp := range t.Specialties {
			if !sp.Valid() {
				fe.add(indexed("targets.specialties", i), "invalid", "unknown specialty %q", sp)
			}
		}
	}
	if !tooMany("targets.regions", len(t.Regions)) {
		for i, r := range t.Regions {
			if !ValidRegion(r) && !validCountry(r) {
				fe.add(indexed("targets.regions", i), "invalid", "a region is an ISO 3166-2 code such as NL-UT or a country code such as NO")
			}
		}
	}
	if !tooMany("targets.organisations", len(t.Organisations)) {
		for i, o := range t.Organisations {
			field := indexed("targets.organisations", i)
			if o == s.Organisation {
				fe.add(field, "own_organisation", "an escalation goes to other organisations than the signal's own")
				continue
			}
			validateIdentifier(fe, field, o, MaxOrganisationLength)
		}
	}
}

// validCountry reports whether s has the shape of an ISO 3166-1 alpha-2 code.
func validCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

func cloneOrNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// --- acknowledge-escalation ---

// AcknowledgeEscalation says a colleague group has seen an escalation.
// Each recipient organisation acknowledges once.
type AcknowledgeEscalation struct {
	EscalationID uuid.UUID
	Recipient    Recipient
	At           time.Time
}

// CommandName implements Command.
func (AcknowledgeEscalation) CommandName() string { return CommandAcknowledgeEscalation }

// EscalationAcknowledged records that a recipient saw an escalation.
type EscalationAcknowledged struct {
	SignalID       uuid.UUID `json:"signalId"`
	EscalationID   uuid.UUID `json:"escalationId"`
	Recipient      Recipient `json:"recipient"`
	AcknowledgedAt time.Time `json:"acknowledgedAt"`
}

// EventType implements Event.
func (EscalationAcknowledged) EventType() string { return EventEscalationAcknowledged }

func decideAcknowledgeEscalation(s Signal, c AcknowledgeEscalation) ([]Event, error) {
	if err := permit(s, c.CommandName()); err != nil {
		return nil, err
	}
	var fe fieldErrors
	validateAt(&fe, c.At)
	validateEscalationRef(&fe, c.EscalationID, c.Recipient)
	if err := fe.err(); err != nil {
		return nil, err
	}
	e, err := addressed(s, c.CommandName(), c.EscalationID, c.Recipient)
	if err != nil {
		return nil, err
	}
	if _, ok := e.Receipt(c.Recipient.Organisation); ok {
		return nil, refuse(s, c.CommandName(), "this organisation acknowledged the escalation already")
	}
	return []Event{EscalationAcknowledged{SignalID: s.ID, EscalationID: c.EscalationID, Recipient: c.Recipient, AcknowledgedAt: c.At.UTC()}}, nil
}

// --- respond-escalation ---

// RespondToEscalation answers an escalation the recipient acknowledged.
// Each recipient organisation responds once.
type RespondToEscalation struct {
	EscalationID uuid.UUID
	Recipient    Recipient
	Response     EscalationResponse
	// Text tells what was checked or done, optional.
	Text string
	At   time.Time
}

// CommandName implements Command.
func (RespondToEscalation) CommandName() string { return CommandRespondEscalation }

// EscalationResponded records a recipient's answer to an escalation.
type EscalationResponded struct {
	SignalID     uuid.UUID          `json:"signalId"`
	EscalationID uuid.UUID          `json:"escalationId"`
	Recipient    Recipient          `json:"recipient"`
	Response     EscalationResponse `json:"response"`
	Text         string             `json:"text,omitempty" sensitive:"signal"`
	RespondedAt  time.Time          `json:"respondedAt"`
}

// EventType implements Event.
func (EscalationResponded) EventType() string { return EventEscalationResponded }

func decideRespondToEscalation(s Signal, c RespondToEscalation) ([]Event, error) {
	if err := permit(s, c.CommandName()); err != nil {
		return nil, err
	}
	var fe fieldErrors
	validateAt(&fe, c.At)
	validateEscalationRef(&fe, c.EscalationID, c.Recipient)
	switch {
	case c.Response == "":
		fe.add("response", "required", "response is required")
	case !c.Response.Valid():
		fe.add("response", "invalid", "response must be one of risk_present, risk_absent, not_applicable")
	}
	validateText(&fe, "text", c.Text, false, MaxMessageLength)
	if err := fe.err(); err != nil {
		return nil, err
	}
	e, err := addressed(s, c.CommandName(), c.EscalationID, c.Recipient)
	if err != nil {
		return nil, err
	}
	r, ok := e.Receipt(c.Recipient.Organisation)
	switch {
	case !ok:
		return nil, refuse(s, c.CommandName(), "acknowledge the escalation before responding")
	case r.State() == EscalationStateResponded:
		return nil, refuse(s, c.CommandName(), "this organisation responded to the escalation already")
	}
	return []Event{EscalationResponded{
		SignalID: s.ID, EscalationID: c.EscalationID, Recipient: c.Recipient,
		Response: c.Response, Text: c.Text, RespondedAt: c.At.UTC(),
	}}, nil
}

func validateEscalationRef(fe *fieldErrors, id uuid.UUID, r Recipient) {
	if id == uuid.Nil {
		fe.add("escalationId", "required", "an escalation id is required")
	}
	validateIdentifier(fe, "recipient.organisation", r.Organisation, MaxOrganisationLength)
	switch {
	case r.Specialty == "":
		fe.add("recipient.specialty", "required", "the recipient's specialty is required")
	case !r.Specialty.Valid():
		fe.add("recipient.specialty", "invalid", "unknown specialty %q", r.Specialty)
	}
	switch {
	case r.Region == "":
		fe.add("recipient.region", "required", "the recipient's region is required")
	case !ValidRegion(r.Region):
		fe.add("recipient.region", "invalid", "the recipient's region must be an ISO 3166-2 code such as NL-UT")
	}
}

// addressed returns the escalation id if it goes to r.
func addressed(s Signal, command string, id uuid.UUID, r Recipient) (Escalation, error) {
	e, ok := s.Escalation(id)
	if !ok {
		return Escalation{}, &TransitionError{Command: command, Status: s.Status, Reason: "the signal has no escalation " + id.String(), Cause: ErrUnknownEscalation}
	}
	if !s.Addresses(id, r) {
		return Escalation{}, &TransitionError{Command: command, Status: s.Status, Reason: "the escalation was not addressed to this organisation, specialty and region", Cause: ErrNotAddressed}
	}
	return e, nil
}

// evolveEscalation applies escalation events without touching the slices
// of the state it was given.
func evolveEscalation(s Signal, e Event) Signal {
	switch e := e.(type) {
	case SignalEscalated:
		s.Escalations = append(slices.Clip(s.Escalations), Escalation{
			ID: e.EscalationID, Targets: e.Targets, Message: e.Message, Summary: e.Summary, EscalatedAt: e.EscalatedAt,
		})
		s.UpdatedAt = e.EscalatedAt
	case EscalationAcknowledged:
		s = updateEscalation(s, e.EscalationID, func(x *Escalation) {
			x.Receipts = append(slices.Clip(x.Receipts), EscalationReceipt{Recipient: e.Recipient, AcknowledgedAt: e.AcknowledgedAt})
		})
		s.UpdatedAt = e.AcknowledgedAt
	case EscalationResponded:
		s = updateEscalation(s, e.EscalationID, func(x *Escalation) {
			x.Receipts = slices.Clone(x.Receipts)
			for i := range x.Receipts {
				if x.Receipts[i].Recipient.Organisation == e.Recipient.Organisation {
					x.Receipts[i].Response, x.Receipts[i].Text, x.Receipts[i].RespondedAt = e.Response, e.Text, e.RespondedAt
				}
			}
		})
		s.UpdatedAt = e.RespondedAt
	}
	return s
}

// updateEscalation applies change to a copy of the escalation id.
func updateEscalation(s Signal, id uuid.UUID, change func(*Escalation)) Signal {
	i := s.escalationIndex(id)
	if i < 0 {
		return s
	}
	s.Escalations = slices.Clone(s.Escalations)
	change(&s.Escalations[i])
	return s
}
