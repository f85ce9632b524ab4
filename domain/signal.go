package domain

import (
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits on the free text of a signal.
const (
	MaxDescriptionLength      = 10_000
	MaxImmediateActionsLength = 5_000
	MaxOrganisationLength     = 64
	MaxReporterLength         = 128
	// ClockSkew is how far in the future an occurredAt may lie before it is
	// refused, to absorb clocks of reporting devices that run a little fast.
	ClockSkew = 5 * time.Minute
)

// Earliest is the earliest moment an incident may have occurred.
func Earliest() time.Time { return time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC) }

// Status is where a signal stands in its lifecycle.
type Status string

// Lifecycle states. docs/LIFECYCLE.md draws the moves between them.
const (
	// StatusNone is the status of a signal that was never reported.
	StatusNone Status = ""
	// StatusReported: filed, waiting for a safety officer to acknowledge it.
	StatusReported Status = "reported"
	// StatusAcknowledged: a safety officer has taken it up; it is being
	// classified, escalated, reported to the regulator and answered.
	StatusAcknowledged Status = "acknowledged"
	// StatusRejected: triage found it is not to be handled, for a reason.
	StatusRejected Status = "rejected"
	// StatusDuplicate: it repeats another signal, which is handled instead.
	StatusDuplicate Status = "duplicate"
	// StatusClosed: handled, with an outcome.
	StatusClosed Status = "closed"
)

// Statuses lists every status a reported signal can have.
func Statuses() []Status {
	return []Status{StatusReported, StatusAcknowledged, StatusRejected, StatusDuplicate, StatusClosed}
}

// Signal is the state of one patient-safety signal, folded from its events.
// The zero value is a signal that was never reported.
type Signal struct {
	ID                   uuid.UUID
	Version              int
	Status               Status
	Organisation         string
	Region               string
	Specialty            Specialty
	OccurredAt           time.Time
	Kind                 Kind
	Category             Category
	Harm                 Harm
	Description          string
	ImmediateActions     string
	Language             Language
	PeerSupportRequested bool
	Anonymous            bool
	Reporter             string
	ReportedAt           time.Time
	UpdatedAt            time.Time

	// AcknowledgedAt is when a safety officer first acknowledged it.
	AcknowledgedAt time.Time
	// Classifications counts the classifications; each is an event in the
	// signal's history with the values it replaced.
	Classifications int
	// ContributingFactors are the factors classifications have added, in
	// the order they were added.
	ContributingFactors []ContributingFactor
	// Reportable is set once a classification found the signal reportable
	// to the regulator; it is never unset.
	Reportable bool
	// Regulatory tracks the notification to the regulator, once reportable.
	Regulatory RegulatoryDeadline
	// Rejection is why the signal was rejected, while it is.
	Rejection Rejection
	// DuplicateOf is the signal this one repeats, while it is a duplicate.
	DuplicateOf uuid.UUID
	// Closure is the outcome the signal was closed with, while it is closed.
	Closure Closure
	// Escalations are the escalations to colleagues, oldest first.
	Escalations []Escalation
	// Feedback is every message sent to the reporter, oldest first.
	Feedback []Feedback
	// Reopened counts how often the signal was reopened.
	Reopened int
	// ReceiptHash is the hex SHA-256 of the receipt code an anonymous
	// reporter was given at filing (never the code), or empty.
	ReceiptHash string
	// Questions are the questions asked of the reporter and the replies,
	// oldest first.
	Questions []Question

	// ContentErased and ReporterErased say that the free text, or the
	// reporter's identity, was erased.
	ContentErased  bool
	ReporterErased bool
}

// Exists reports whether the signal has been reported.
func (s Signal) Exists() bool { return s.Status != StatusNone }

// Event is something that happened to a signal. Events are immutable facts.
type Event interface {
	EventType() string
}

// Command asks the signal to change. Decide answers with events or an error.
type Command interface {
	CommandName() string
}

// EventSignalReported is the type name of SignalReported.
const EventSignalReported = "SignalReported"

// SignalReported records that a specialist filed a signal.
type SignalReported struct {
	SignalID             uuid.UUID `json:"signalId"`
	Organisation         string    `json:"organisation"`
	Region               string    `json:"region"`
	Specialty            Specialty `json:"specialty"`
	OccurredAt           time.Time `json:"occurredAt"`
	Kind                 Kind      `json:"kind"`
	Category             Category  `json:"category"`
	Harm                 Harm      `json:"harm"`
	Description          string    `json:"description" sensitive:"signal"`
	ImmediateActions     string    `json:"immediateActions,omitempty" sensitive:"signal"`
	Language             Language  `json:"language"`
	PeerSupportRequested bool      `json:"peerSupportRequested"`
	Anonymous            bool      `json:"anonymous"`
	Reporter             string    `json:"reporter,omitempty" sensitive:"reporter"`
	ReportedAt           time.Time `json:"reportedAt"`
	// ReceiptHash is the hex SHA-256 of the anonymous reporter's receipt
	// code; the code itself is shown once and stored nowhere.
	ReceiptHash string `json:"receiptHash,omitempty"`
}

// EventType implements Event.
func (SignalReported) EventType() string { return EventSignalReported }

// ReportSignal files a new signal. At is when the command was received; it
// bounds occurredAt and becomes the reporting time.
type ReportSignal struct {
	SignalID             uuid.UUID
	Organisation         string
	Region               string
	Specialty            Specialty
	OccurredAt           time.Time
	Kind                 Kind
	Category             Category
	Harm                 Harm
	Description          string
	ImmediateActions     string
	Language             Language
	PeerSupportRequested bool
	Anonymous            bool
	Reporter             string
	// ReceiptHash is the hex SHA-256 of the receipt code given to an
	// anonymous reporter; only an anonymous signal may carry one.
	ReceiptHash string
	At          time.Time
}

// CommandName implements Command.
func (ReportSignal) CommandName() string { return CommandReport }

// Decide is the signal decider: given the current state and a command, it
// returns the events the command causes, or an error that changes nothing.
func Decide(s Signal, c Command) ([]Event, error) {
	switch c := c.(type) {
	case ReportSignal:
		return decideReport(s, c)
	case AcknowledgeSignal:
		return decideAcknowledge(s, c)
	case ClassifySignal:
		return decideClassify(s, c)
	case RejectSignal:
		return decideReject(s, c)
	case LinkDuplicate:
		return decideLinkDuplicate(s, c)
	case EscalateSignal:
		return decideEscalate(s, c)
	case AcknowledgeEscalation:
		return decideAcknowledgeEscalation(s, c)
	case RespondToEscalation:
		return decideRespondToEscalation(s, c)
	case SendFeedback:
		return decideFeedback(s, c)
	case CloseSignal:
		return decideClose(s, c)
	case ReopenSignal:
		return decideReopen(s, c)
	case RecordRegulatorNotification:
		return decideRecordRegulatorNotification(s, c)
	case EraseContent:
		return decideEraseContent(s, c)
	case EraseReporter:
		return decideEraseReporter(s, c)
	case AskReporter:
		return decideAsk(s, c)
	case ReplyToQuestion:
		return decideReply(s, c)
	default:
		return nil, &TransitionError{Command: c.CommandName(), Status: s.Status, Reason: "unknown command"}
	}
}

// Evolve applies one event to the state. It never fails: events are facts.
// It never changes the slices of the state it is given, so a state may be
// shared while another is evolved from it.
func Evolve(s Signal, e Event) Signal {
	switch e := e.(type) {
	case SignalReported:
		s = Signal{
			ID:                   e.SignalID,
			Status:               StatusReported,
			Organisation:         e.Organisation,
			Region:               e.Region,
			Specialty:            e.Specialty,
			OccurredAt:           e.OccurredAt,
			Kind:                 e.Kind,
			Category:             e.Category,
			Harm:                 e.Harm,
			Description:          e.Description,
			ImmediateActions:     e.ImmediateActions,
			Language:             e.Language,
			PeerSupportRequested: e.PeerSupportRequested,
			Anonymous:            e.Anonymous,
			Reporter:             e.Reporter,
			ReportedAt:           e.ReportedAt,
			UpdatedAt:            e.ReportedAt,
			ReceiptHash:          e.ReceiptHash,
		}
	case SignalContentErased, ReporterIdentityErased:
		s = evolveErasure(s, e)
	case QuestionAsked, ReporterReplied:
		s = evolveDialogue(s, e)
	default:
		s = evolveLifecycle(s, e)
	}
	s.Version++
	return s
}

// Fold replays events onto the zero signal.
func Fold(events []Event) Signal {
	var s Signal
	for _, e := range events {
		s = Evolve(s, e)
	}
	return s
}

func decideReport(s Signal, c ReportSignal) ([]Event, error) {
	if s.Exists() {
		return nil, &TransitionError{Command: c.CommandName(), Status: s.Status, Reason: "the signal was already reported"}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	e := SignalReported{
		SignalID:             c.SignalID,
		Organisation:         c.Organisation,
		Region:               c.Region,
		Specialty:            c.Specialty,
		OccurredAt:           c.OccurredAt.UTC(),
		Kind:                 c.Kind,
		Category:             c.Category,
		Harm:                 c.Harm,
		Description:          c.Description,
		ImmediateActions:     c.ImmediateActions,
		Language:             c.Language,
		PeerSupportRequested: c.PeerSupportRequested,
		Anonymous:            c.Anonymous,
		ReportedAt:           c.At.UTC(),
		ReceiptHash:          c.ReceiptHash,
	}
	if !c.Anonymous {
		e.Reporter = c.Reporter
	}
	return []Event{e}, nil
}

func (c ReportSignal) validate() error {
	var fe fieldErrors
	if c.SignalID == uuid.Nil {
		fe.add("id", "required", "a signal id is required")
	}
	validateAt(&fe, c.At)
	validateIdentifier(&fe, "organisation", c.Organisation, MaxOrganisationLength)
	switch {
	case c.Region == "":
		fe.add("region", "required", "region is required (an ISO 3166-2 code such as NL-UT)")
	case !ValidRegion(c.Region):
		fe.add("region", "invalid", "region must be an ISO 3166-2 code such as NL-UT, NO-18 or SE-AB")
	}
	switch {
	case c.Specialty == "":
		fe.add("specialty", "required", "specialty is required")
	case !c.Specialty.Valid():
		fe.add("specialty", "invalid", "unknown specialty %q", c.Specialty)
	}
	switch {
	case c.OccurredAt.IsZero():
		fe.add("occurredAt", "required", "occurredAt is required (RFC 3339)")
	case c.OccurredAt.Before(Earliest()):
		fe.add("occurredAt", "out_of_range", "occurredAt must not be before 1900")
	case !c.At.IsZero() && c.OccurredAt.After(c.At.Add(ClockSkew)):
		fe.add("occurredAt", "out_of_range", "occurredAt must not be in the future")
	}
	validateClassification(&fe, c.Kind, c.Category, c.Harm)
	validateText(&fe, "description", c.Description, true, MaxDescriptionLength)
	validateText(&fe, "immediateActions", c.ImmediateActions, false, MaxImmediateActionsLength)
	switch {
	case c.Language == "":
		fe.add("language", "required", "language is required")
	case !c.Language.Valid():
		fe.add("language", "invalid", "language must be one of nl, nb, nn, sv, da, en")
	}
	switch {
	case c.Anonymous && c.Reporter != "":
		// The application drops the identity of an anonymous reporter before
		// it gets here; refusing is a guard against a caller that did not.
		fe.add("reporter", "forbidden", "an anonymous signal must not carry a reporter")
	case !c.Anonymous && c.Reporter == "":
		fe.add("reporter", "required", "a named signal needs a reporter; file it anonymously otherwise")
	case len(c.Reporter) > MaxReporterLength:
		fe.add("reporter", "too_long", "reporter is longer than %d bytes", MaxReporterLength)
	}
	switch {
	case c.ReceiptHash == "":
	case !c.Anonymous:
		fe.add("receiptHash", "forbidden", "only an anonymous signal has a receipt; a named reporter follows it in their own list")
	case !validReceiptHash(c.ReceiptHash):
		fe.add("receiptHash", "invalid", "receiptHash must be a lowercase hex SHA-256")
	}
	return fe.err()
}

// validateClassification checks kind, category and harm and that they agree:
// harm is none unless the signal is a harmful incident, and then it is not.
// Filing and every reclassification keep to the same rule.
func validateClassification(fe *fieldErrors, kind Kind, category Category, harm Harm) {
	switch {
	case kind == "":
		fe.add("kind", "required", "kind is required")
	case !kind.Valid():
		fe.add("kind", "invalid", "kind must be one of unsafe_situation, near_miss, no_harm_incident, harmful_incident")
	}
	switch {
	case category == "":
		fe.add("category", "required", "category is required")
	case !category.Valid():
		fe.add("category", "invalid", "unknown category %q (one of the 13 WHO ICPS incident types)", category)
	}
	switch {
	case harm == "":
		fe.add("harm", "required", "harm is required")
	case !harm.Valid():
		fe.add("harm", "invalid", "harm must be one of none, mild, moderate, severe, death")
	case kind == KindHarmfulIncident && harm == HarmNone:
		fe.add("harm", "inconsistent", "a harmful incident must have a degree of harm other than none")
	case kind.Valid() && kind != KindHarmfulIncident && harm != HarmNone:
		fe.add("harm", "inconsistent", "harm must be none unless kind is harmful_incident")
	}
}

// validateAt checks the time the application received a command.
func validateAt(fe *fieldErrors, at time.Time) {
	if at.IsZero() {
		fe.add("at", "required", "the time the command was received is required")
	}
}

// validateIdentifier checks a short code: letters, digits, '.', '_' and '-'.
func validateIdentifier(fe *fieldErrors, field, v string, maxLen int) {
	if v == "" {
		fe.add(field, "required", "%s is required", field)
		return
	}
	if len(v) > maxLen {
		fe.add(field, "too_long", "%s must be at most %d characters", field, maxLen)
		return
	}
	for _, r := range v {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' || r == '-') {
			fe.add(field, "invalid", "%s may contain only letters, digits, '.', '_' and '-'", field)
			return
		}
	}
}

// validateText checks free text: valid UTF-8, no control characters other
// than tab and line breaks, within a length counted in characters.
func validateText(fe *fieldErrors, field, v string, required bool, maxLen int) {
	if !utf8.ValidString(v) {
		fe.add(field, "invalid", "%s is not valid UTF-8", field)
		return
	}
	n := utf8.RuneCountInString(v)
	switch {
	case required && isBlank(v):
		fe.add(field, "required", "%s is required", field)
		return
	case n > maxLen:
		fe.add(field, "too_long", "%s must be at most %d characters (it has %d)", field, maxLen, n)
		return
	}
	for _, r := range v {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			fe.add(field, "invalid", "%s contains a control character", field)
			return
		}
	}
}

func isBlank(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}
