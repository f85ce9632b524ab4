package domain

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Command names. They are the last segment of the command's URL,
// POST /api/v1/signals/{id}/{command}; report is POST /api/v1/signals.
const (
	CommandReport                      = "report"
	CommandAcknowledge                 = "acknowledge"
	CommandClassify                    = "classify"
	CommandReject                      = "reject"
	CommandLinkDuplicate               = "link-duplicate"
	CommandEscalate                    = "escalate"
	CommandAcknowledgeEscalation       = "acknowledge-escalation"
	CommandRespondEscalation           = "respond-escalation"
	CommandFeedback                    = "feedback"
	CommandClose                       = "close"
	CommandReopen                      = "reopen"
	CommandRecordRegulatorNotification = "record-regulator-notification"
)

// CommandNames lists every command in the order of the lifecycle.
func CommandNames() []string {
	return []string{
		CommandReport, CommandAcknowledge, CommandClassify, CommandReject, CommandLinkDuplicate,
		CommandEscalate, CommandAcknowledgeEscalation, CommandRespondEscalation, CommandFeedback,
		CommandClose, CommandReopen, CommandRecordRegulatorNotification, CommandAsk, CommandReply,
	}
}

// Event type names.
const (
	EventSignalAcknowledged     = "SignalAcknowledged"
	EventSignalClassified       = "SignalClassified"
	EventRegulatoryDeadlineSet  = "RegulatoryDeadlineSet"
	EventSignalRejected         = "SignalRejected"
	EventSignalMarkedDuplicate  = "SignalMarkedDuplicate"
	EventSignalEscalated        = "SignalEscalated"
	EventEscalationAcknowledged = "EscalationAcknowledged"
	EventEscalationResponded    = "EscalationResponded"
	EventFeedbackSent           = "FeedbackSent"
	EventSignalClosed           = "SignalClosed"
	EventSignalReopened         = "SignalReopened"
	EventRegulatorNotified      = "RegulatorNotified"
)

// EventTypes lists the type name of every event a signal can have.
func EventTypes() []string {
	return []string{
		EventSignalReported, EventSignalAcknowledged, EventSignalClassified, EventRegulatoryDeadlineSet,
		EventSignalRejected, EventSignalMarkedDuplicate, EventSignalEscalated, EventEscalationAcknowledged,
		EventEscalationResponded, EventFeedbackSent, EventSignalClosed, EventSignalReopened,
		EventRegulatorNotified, EventQuestionAsked, EventReporterReplied,
	}
}

// MaxMessageLength bounds every free text of the lifecycle other than the
// description: feedback, escalation message and summary, responses, notes,
// reasons and closing summaries. It counts characters.
const MaxMessageLength = 5_000

// Transition is one move of the lifecycle: Command, on a signal in status
// From, leaves it in status To. To equals From for commands that do not move
// the signal. Reopen has two entries per status it leaves, one for a signal
// that was acknowledged before and one for a signal that never was.
type Transition struct {
	Command string
	From    Status
	To      Status
}

// Transitions is the lifecycle's table: a command is refused, with a
// TransitionError, in every status it has no entry for. docs/LIFECYCLE.md
// draws the same table, and a test keeps the two alike. A command allowed by
// the table may still be refused by a rule that needs more than the status
// (a pending regulatory notification, an escalation's recipients).
func Transitions() []Transition {
	t := []Transition{
		{CommandReport, StatusNone, StatusReported},
		{CommandAcknowledge, StatusReported, StatusAcknowledged},
		{CommandClassify, StatusAcknowledged, StatusAcknowledged},
		{CommandReject, StatusReported, StatusRejected},
		{CommandReject, StatusAcknowledged, StatusRejected},
		{CommandLinkDuplicate, StatusReported, StatusDuplicate},
		{CommandLinkDuplicate, StatusAcknowledged, StatusDuplicate},
		{CommandEscalate, StatusAcknowledged, StatusAcknowledged},
		// Colleagues may still answer an escalation after the signal was
		// closed: what they found is worth keeping. A rejected or duplicate
		// signal withdraws its escalations.
		{CommandAcknowledgeEscalation, StatusAcknowledged, StatusAcknowledged},
		{CommandAcknowledgeEscalation, StatusClosed, StatusClosed},
		{CommandRespondEscalation, StatusAcknowledged, StatusAcknowledged},
		{CommandRespondEscalation, StatusClosed, StatusClosed},
		{CommandClose, StatusAcknowledged, StatusClosed},
		{CommandReopen, StatusRejected, StatusReported},
		{CommandReopen, StatusRejected, StatusAcknowledged},
		{CommandReopen, StatusDuplicate, StatusReported},
		{CommandReopen, StatusDuplicate, StatusAcknowledged},
		{CommandReopen, StatusClosed, StatusAcknowledged},
		{CommandRecordRegulatorNotification, StatusAcknowledged, StatusAcknowledged},
	}
	// The reporter is never left without an answer: feedback can be sent
	// whatever the status.
	// The dialogue does not close either: a rejected signal may be worth a
	// question, and a question asked may be answered after closure.
	for _, st := range Statuses() {
		t = append(t, Transition{CommandFeedback, st, st}, Transition{CommandAsk, st, st}, Transition{CommandReply, st, st})
	}
	return t
}

// Permitted reports whether the lifecycle table allows command in status.
func Permitted(command string, status Status) bool {
	return slices.ContainsFunc(Transitions(), func(t Transition) bool {
		return t.Command == command && t.From == status
	})
}

// permit refuses a command the signal's status does not allow.
func permit(s Signal, command string) error {
	if !s.Exists() {
		return &TransitionError{Command: command, Status: s.Status, Cause: ErrNotFound}
	}
	if Permitted(command, s.Status) {
		return nil
	}
	var from []string
	for _, t := range Transitions() {
		if t.Command == command && !slices.Contains(from, string(t.From)) {
			from = append(from, string(t.From))
		}
	}
	return &TransitionError{Command: command, Status: s.Status, Reason: "allowed only when the signal is " + strings.Join(from, " or ")}
}

// refuse is a TransitionError for a rule beyond the status table.
func refuse(s Signal, command, reason string) error {
	return &TransitionError{Command: command, Status: s.Status, Reason: reason}
}

// --- acknowledge ---

// AcknowledgeSignal says a safety officer has taken the signal up.
type AcknowledgeSignal struct {
	At time.Time
}

// CommandName implements Command.
func (AcknowledgeSignal) CommandName() string { return CommandAcknowledge }

// SignalAcknowledged records that a safety officer took the signal up.
type SignalAcknowledged struct {
	SignalID       uuid.UUID `json:"signalId"`
	AcknowledgedAt time.Time `json:"acknowledgedAt"`
}

// EventType implements Event.
func (SignalAcknowledged) EventType() string { return EventSignalAcknowledged }

func decideAcknowledge(s Signal, c AcknowledgeSignal) ([]Event, error) {
	if err := permit(s, c.CommandName()); err != nil {
		return nil, err
	}
	var fe fieldErrors
	validateAt(&fe, c.At)
	if err := fe.err(); err != nil {
		return nil, err
	}
	return []Event{SignalAcknowledged{SignalID: s.ID, AcknowledgedAt: c.At.UTC()}}, nil
}

// --- classify ---

// ClassifySignal confirms or changes the signal's kind, category and harm,
// adds contributing factors and may mark the signal reportable to the
// regulator of its jurisdiction. Kind, category and harm are always given,
// also when they are confirmed unchanged.
type ClassifySignal struct {
	Kind     Kind
	Category Category
	Harm     Harm
	// ContributingFactors are added to those already recorded.
	ContributingFactors []ContributingFactor
	// Reportable marks the signal reportable to the regulator and starts the
	// notification deadline. False leaves an earlier marking as it is:
	// reportability once found is not withdrawn.
	Reportable bool
	// Note is the safety officer's reasoning, optional.
	Note string
	At   time.Time
}

// CommandName implements Command.
func (ClassifySignal) CommandName() string { return CommandClassify }

// SignalClassified records one classification with the values it replaced,
// so the history shows every reclassification.
type SignalClassified struct {
	SignalID         uuid.UUID `json:"signalId"`
	Kind             Kind      `json:"kind"`
	Category         Category  `json:"category"`
	Harm             Harm      `json:"harm"`
	PreviousKind     Kind      `json:"previousKind"`
	PreviousCategory Category  `json:"previousCategory"`
	PreviousHarm     Harm      `json:"previousHarm"`
	// ContributingFactors are the factors this classification added.
	ContributingFactors []ContributingFactor `json:"contributingFactors,omitempty"`
	// Reportable is whether the signal is reportable after this
	// classification.
	Reportable   bool      `json:"reportable"`
	Note         string    `json:"note,omitempty" sensitive:"signal"`
	ClassifiedAt time.Time `json:"classifiedAt"`
}

// EventType implements Event.
func (SignalClassified) EventType() string { return EventSignalClassified }

func decideClassify(s Signal, c ClassifySignal) ([]Event, error) {
	if err := permit(s, c.CommandName()); err != nil {
		return nil, err
	}
	var fe fieldErrors
	validateAt(&fe, c.At)
	validateClassification(&fe, c.Kind, c.Category, c.Harm)
	for i, f := range c.ContributingFactors {
		if !f.Valid() {
			fe.add(indexed("contributingFactors", i), "invalid", "unknown contributing factor %q", f)
		}
	}
	rule, hasRule := RegulatoryRuleFor(Country(s.Region))
	if c.Reportable && !s.Reportable && !hasRule {
		fe.add("reportable", "no_regulator", "no regulatory notification is known for country %s", Country(s.Region))
	}
	validateText(&fe, "note", c.Note, false, MaxMessageLength)
	if err := fe.err(); err != nil {
		return nil, err
	}
	var added []ContributingFactor
	for _, f := range c.ContributingFactors {
		if !slices.Contains(s.ContributingFactors, f) && !slices.Contains(added, f) {
			added = append(added, f)
		}
	}
	at := c.At.UTC()
	events := []Event{SignalClassified{
		SignalID: s.ID, Kind: c.Kind, Category: c.Category, Harm: c.Harm,
		PreviousKind: s.Kind, PreviousCategory: s.Category, PreviousHarm: s.Harm,
		ContributingFactors: added, Reportable: s.Reportable || c.Reportable, Note: c.Note, ClassifiedAt: at,
	}}
	if c.Reportable && !s.Reportable {
		events = append(events, rule.deadline(s.ID, s.ReportedAt, at))
	}
	return events, nil
}

// --- reject ---

// RejectionReason says why triage rejected a signal.
type RejectionReason string

// Rejection reasons.
const (
	RejectInsufficientInformation RejectionReason = "insufficient_information"
	RejectNotPatientSafety        RejectionReason = "not_patient_safety"
	// RejectDuplicate is for a signal that repeats one reported elsewhere;
	// link-duplicate is the command for a repeat of a signal held here.
	RejectDuplicate RejectionReason = "duplicate"
	RejectTest      RejectionReason = "test"
	// RejectOther needs a text that says why.
	RejectOther RejectionReason = "other"
)

// RejectionReasons lists every rejection reason.
func RejectionReasons() []RejectionReason {
	return []RejectionReason{RejectInsufficientInformation, RejectNotPatientSafety, RejectDuplicate, RejectTest, RejectOther}
}

// Valid reports whether r is a known rejection reason.
func (r RejectionReason) Valid() bool { return slices.Contains(RejectionReasons(), r) }

// Rejection is why a signal was rejected.
type Rejection struct {
	Reason     RejectionReason
	Text       string
	RejectedAt time.Time
}

// RejectSignal rejects the signal. Text is required for reason other.
type RejectSignal struct {
	Reason RejectionReason
	Text   string
	At     time.Time
}

// CommandName implements Command.
func (RejectSignal) CommandName() string { return CommandReject }

// SignalRejected records that triage rejected the signal.
type SignalRejected struct {
	SignalID   uuid.UUID       `json:"signalId"`
	Reason     RejectionReason `json:"reason"`
	Text       string          `json:"text,omitempty" sensitive:"signal"`
	RejectedAt time.Time       `json:"rejectedAt"`
}

// EventType implements Event.
func (SignalRejected) EventType() string { return EventSignalRejected }

func decideReject(s Signal, c RejectSignal) ([]Event, error) {
	if err := permit(s, c.CommandName()); err != nil {
		return nil, err
	}
	var fe fieldErrors
	validateAt(&fe, c.At)
	switch {
	case c.Reason == "":
		fe.add("reason", "required", "reason is required")
	case !c.Reason.Valid():
		fe.add("reason", "invalid", "reason must be one of insufficient_information, not_patient_safety, duplicate, test, other")
	}
	validateText(&fe, "text", c.Text, c.Reason == RejectOther, MaxMessageLength)
	if err := fe.err(); err != nil {
		return nil, err
	}
	if s.Regulatory.Pending() {
		return nil, refuse(s, c.CommandName(), "the notification to the regulator is still due; record it first")
	}
	return []Event{SignalRejected{SignalID: s.ID, Reason: c.Reason, Text: c.Text, RejectedAt: c.At.UTC()}}, nil
}

// --- link-duplicate ---

// LinkDuplicate marks the signal as a repeat of another signal.
type LinkDuplicate struct {
	DuplicateOf uuid.UUID
	Note        string
	At          time.Time
}

// CommandName implements Command.
func (LinkDuplicate) CommandName() string { return CommandLinkDuplicate }

// SignalMarkedDuplicate records that the signal repeats another.
type SignalMarkedDuplicate struct {
	SignalID    uuid.UUID `json:"signalId"`
	DuplicateOf uuid.UUID `json:"duplicateOf"`
	Note        string    `json:"note,omitempty" sensitive:"signal"`
	MarkedAt    time.Time `json:"markedAt"`
}

// EventType implements Event.
func (SignalMarkedDuplicate) EventType() string { return EventSignalMarkedDuplicate }

func decideLinkDuplicate(s Signal, c LinkDuplicate) ([]Event, error) {
	if err := permit(s, c.CommandName()); err != nil {
		return nil, err
	}
	var fe fieldErrors
	validateAt(&fe, c.At)
	switch c.DuplicateOf {
	case uuid.Nil:
		fe.add("duplicateOf", "required", "the id of the signal this one repeats is required")
	case s.ID:
		fe.add("duplicateOf", "self", "a signal cannot be a duplicate of itself")
	}
	validateText(&fe, "note", c.Note, false, MaxMessageLength)
	if err := fe.err(); err != nil {
		return nil, err
	}
	if s.Regulatory.Pending() {
		return nil, refuse(s, c.CommandName(), "the notification to the regulator is still due; record it first")
	}
	return []Event{SignalMarkedDuplicate{SignalID: s.ID, DuplicateOf: c.DuplicateOf, Note: c.Note, MarkedAt: c.At.UTC()}}, nil
}

// --- feedback ---

// Feedback is one message to the reporter.
type Feedback struct {
	Message string
	SentAt  time.Time
}

// SendFeedback sends a message to the reporter.
type SendFeedback struct {
	Message string
	At      time.Time
}

// CommandName implements Command.
func (SendFeedback) CommandName() string { return CommandFeedback }

// FeedbackSent records a message to the reporter.
type FeedbackSent struct {
	SignalID uuid.UUID `json:"signalId"`
	Message  string    `json:"message" sensitive:"signal"`
	SentAt   time.Time `json:"sentAt"`
}

// EventType implements Event.
func (FeedbackSent) EventType() string { return EventFeedbackSent }

func decideFeedback(s Signal, c SendFeedback) ([]Event, error) {
	if err := permit(s, c.CommandName()); err != nil {
		return nil, err
	}
	var fe fieldErrors
	validateAt(&fe, c.At)
	validateText(&fe, "message", c.Message, true, MaxMessageLength)
	if err := fe.err(); err != nil {
		return nil, err
	}
	return []Event{FeedbackSent{SignalID: s.ID, Message: c.Message, SentAt: c.At.UTC()}}, nil
}

// --- close ---

// CloseOutcome is what came of a handled signal.
type CloseOutcome string

// Close outcomes.
const (
	// OutcomeImprovementImplemented: measures were taken and are in place.
	OutcomeImprovementImplemented CloseOutcome = "improvement_implemented"
	// OutcomeImprovementPlanned: measures are decided and followed up
	// elsewhere (an improvement plan, a project).
	OutcomeImprovementPlanned CloseOutcome = "improvement_planned"
	// OutcomeNoActionRequired: analysis found nothing to change.
	OutcomeNoActionRequired CloseOutcome = "no_action_required"
	// OutcomeRiskAccepted: the risk is known and accepted, with a reason.
	OutcomeRiskAccepted CloseOutcome = "risk_accepted"
	// OutcomeReferred: handed on to another process, such as a formal
	// incident investigation or the supplier of a device.
	OutcomeReferred CloseOutcome = "referred"
)

// CloseOutcomes lists every close outcome.
func CloseOutcomes() []CloseOutcome {
	return []CloseOutcome{OutcomeImprovementImplemented, OutcomeImprovementPlanned, OutcomeNoActionRequired, OutcomeRiskAccepted, OutcomeReferred}
}

// Valid reports whether o is a known close outcome.
func (o CloseOutcome) Valid() bool { return slices.Contains(CloseOutcomes(), o) }

// Closure is how a signal was closed.
type Closure struct {
	Outcome  CloseOutcome
	Summary  string
	ClosedAt time.Time
}

// CloseSignal closes a handled signal with its outcome and a summary.
type CloseSignal struct {
	Outcome CloseOutcome
	Summary string
	At      time.Time
}

// CommandName implements Command.
func (CloseSignal) CommandName() string { return CommandClose }

// SignalClosed records that the signal was handled, with its outcome.
type SignalClosed struct {
	SignalID uuid.UUID    `json:"signalId"`
	Outcome  CloseOutcome `json:"outcome"`
	Summary  string       `json:"summary" sensitive:"signal"`
	ClosedAt time.Time    `json:"closedAt"`
}

// EventType implements Event.
func (SignalClosed) EventType() string { return EventSignalClosed }

func decideClose(s Signal, c CloseSignal) ([]Event, error) {
	if err := permit(s, c.CommandName()); err != nil {
		return nil, err
	}
	var fe fieldErrors
	validateAt(&fe, c.At)
	switch {
	case c.Outcome == "":
		fe.add("outcome", "required", "outcome is required")
	case !c.Outcome.Valid():
		fe.add("outcome", "invalid", "outcome must be one of improvement_implemented, improvement_planned, no_action_required, risk_accepted, referred")
	}
	validateText(&fe, "summary", c.Summary, true, MaxMessageLength)
	if err := fe.err(); err != nil {
		return nil, err
	}
	if s.Regulatory.Pending() {
		return nil, refuse(s, c.CommandName(), "the notification to the regulator is still due; record it first")
	}
	return []Event{SignalClosed{SignalID: s.ID, Outcome: c.Outcome, Summary: c.Summary, ClosedAt: c.At.UTC()}}, nil
}

// --- reopen ---

// ReopenSignal takes a rejected, duplicate or closed signal up again. It
// returns to acknowledged, or to reported if it was never acknowledged.
type ReopenSignal struct {
	Reason string
	At     time.Time
}

// CommandName implements Command.
func (ReopenSignal) CommandName() string { return CommandReopen }

// SignalReopened records that the signal was taken up again.
type SignalReopened struct {
	SignalID   uuid.UUID `json:"signalId"`
	Reason     string    `json:"reason" sensitive:"signal"`
	From       Status    `json:"from"`
	To         Status    `json:"to"`
	ReopenedAt time.Time `json:"reopenedAt"`
}

// EventType implements Event.
func (SignalReopened) EventType() string { return EventSignalReopened }

func decideReopen(s Signal, c ReopenSignal) ([]Event, error) {
	if err := permit(s, c.CommandName()); err != nil {
		return nil, err
	}
	var fe fieldErrors
	validateAt(&fe, c.At)
	validateText(&fe, "reason", c.Reason, true, MaxMessageLength)
	if err := fe.err(); err != nil {
		return nil, err
	}
	to := StatusAcknowledged
	if s.AcknowledgedAt.IsZero() {
		to = StatusReported
	}
	return []Event{SignalReopened{SignalID: s.ID, Reason: c.Reason, From: s.Status, To: to, ReopenedAt: c.At.UTC()}}, nil
}

// evolveLifecycle applies the events after SignalReported.
func evolveLifecycle(s Signal, e Event) Signal {
	switch e := e.(type) {
	case SignalAcknowledged:
		s.Status = StatusAcknowledged
		s.AcknowledgedAt = e.AcknowledgedAt
		s.UpdatedAt = e.AcknowledgedAt
	case SignalClassified:
		s.Kind, s.Category, s.Harm = e.Kind, e.Category, e.Harm
		s.Classifications++
		s.ContributingFactors = append(slices.Clip(s.ContributingFactors), e.ContributingFactors...)
		s.Reportable = e.Reportable
		s.UpdatedAt = e.ClassifiedAt
	case RegulatoryDeadlineSet:
		s.Regulatory = RegulatoryDeadline{
			Jurisdiction: e.Jurisdiction, Regulator: e.Regulator, Notification: e.Notification,
			WorkingDays: e.WorkingDays, StartsAt: e.StartsAt, DueAt: e.DueAt, SetAt: e.SetAt,
		}
		s.UpdatedAt = e.SetAt
	case RegulatorNotified:
		s.Regulatory.NotifiedAt = e.NotifiedAt
		s.Regulatory.Reference = e.Reference
		s.Regulatory.RecordedAt = e.RecordedAt
		s.UpdatedAt = e.RecordedAt
	case SignalRejected:
		s.Status = StatusRejected
		s.Rejection = Rejection{Reason: e.Reason, Text: e.Text, RejectedAt: e.RejectedAt}
		s.UpdatedAt = e.RejectedAt
	case SignalMarkedDuplicate:
		s.Status = StatusDuplicate
		s.DuplicateOf = e.DuplicateOf
		s.UpdatedAt = e.MarkedAt
	case SignalEscalated, EscalationAcknowledged, EscalationResponded:
		s = evolveEscalation(s, e)
	case FeedbackSent:
		s.Feedback = append(slices.Clip(s.Feedback), Feedback{Message: e.Message, SentAt: e.SentAt})
		s.UpdatedAt = e.SentAt
	case SignalClosed:
		s.Status = StatusClosed
		s.Closure = Closure{Outcome: e.Outcome, Summary: e.Summary, ClosedAt: e.ClosedAt}
		s.UpdatedAt = e.ClosedAt
	case SignalReopened:
		s.Status = e.To
		s.Rejection = Rejection{}
		s.DuplicateOf = uuid.Nil
		s.Closure = Closure{}
		s.Reopened++
		s.UpdatedAt = e.ReopenedAt
	}
	return s
}
