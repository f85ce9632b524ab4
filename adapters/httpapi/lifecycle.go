package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/commands"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections/signaldetail"
)

// commandBody is the body of one lifecycle command: it becomes the domain
// command, stamped with the time the request was received.
type commandBody interface {
	command(p auth.Principal, at time.Time) domain.Command
}

// commandSpec is one lifecycle command as the API offers it.
type commandSpec struct {
	name  string
	roles []auth.Role
	body  func() commandBody
	// access is the object rule: may p send this command to the signal?
	access func(p auth.Principal, v signaldetail.View) bool
}

func officerOfSignal(p auth.Principal, v signaldetail.View) bool {
	return p.Role == auth.RoleSafetyOfficer && p.Organisation == v.Organisation
}

// addressed reports whether one of the signal's escalations reaches the
// caller's organisation, specialty and region (a colleague elsewhere, or a
// safety officer of an organisation it was escalated to).
func addressed(p auth.Principal, v signaldetail.View) bool {
	for _, e := range v.Escalations {
		if v.Addresses(e.ID, recipientOf(p)) {
			return true
		}
	}
	return false
}

// ownSignal: the caller filed the signal by name.
func ownSignal(p auth.Principal, v signaldetail.View) bool {
	return !v.Anonymous && v.Reporter != "" && v.Reporter == p.Subject
}

func recipientOf(p auth.Principal) domain.Recipient {
	return domain.Recipient{Organisation: p.Organisation, Specialty: domain.Specialty(p.Specialty), Region: p.Region}
}

func commandSpecs() []commandSpec {
	officers := []auth.Role{auth.RoleSafetyOfficer}
	recipients := []auth.Role{auth.RoleColleague, auth.RoleSafetyOfficer}
	return []commandSpec{
		{domain.CommandAcknowledge, officers, func() commandBody { return &acknowledgeBody{} }, officerOfSignal},
		{domain.CommandClassify, officers, func() commandBody { return &classifyBody{} }, officerOfSignal},
		{domain.CommandReject, officers, func() commandBody { return &rejectBody{} }, officerOfSignal},
		{domain.CommandLinkDuplicate, officers, func() commandBody { return &linkDuplicateBody{} }, officerOfSignal},
		{domain.CommandEscalate, officers, func() commandBody { return &escalateBody{} }, officerOfSignal},
		{domain.CommandAcknowledgeEscalation, recipients, func() commandBody { return &acknowledgeEscalationBody{} }, addressed},
		{domain.CommandRespondEscalation, recipients, func() commandBody { return &respondEscalationBody{} }, addressed},
		{domain.CommandFeedback, officers, func() commandBody { return &feedbackBody{} }, officerOfSignal},
		{domain.CommandClose, officers, func() commandBody { return &closeBody{} }, officerOfSignal},
		{domain.CommandReopen, officers, func() commandBody { return &reopenBody{} }, officerOfSignal},
		{domain.CommandRecordRegulatorNotification, officers, func() commandBody { return &regulatorNotificationBody{} }, officerOfSignal},
		{domain.CommandAsk, officers, func() commandBody { return &askBody{} }, officerOfSignal},
		{domain.CommandReply, []auth.Role{auth.RoleReporter, auth.RoleSafetyOfficer, auth.RoleColleague}, func() commandBody { return &replyBody{} }, ownSignal},
	}
}

type acknowledgeBody struct{}

func (acknowledgeBody) command(_ auth.Principal, at time.Time) domain.Command {
	return domain.AcknowledgeSignal{At: at}
}

type classifyBody struct {
	Kind                string   `json:"kind"`
	Category            string   `json:"category"`
	Harm                string   `json:"harm"`
	ContributingFactors []string `json:"contributingFactors"`
	Reportable          bool     `json:"reportable"`
	Note                string   `json:"note"`
}

func (b *classifyBody) command(_ auth.Principal, at time.Time) domain.Command {
	factors := make([]domain.ContributingFactor, len(b.ContributingFactors))
	for i, f := range b.ContributingFactors {
		factors[i] = domain.ContributingFactor(f)
	}
	return domain.ClassifySignal{Kind: domain.Kind(b.Kind), Category: domain.Category(b.Category), Harm: domain.Harm(b.Harm), ContributingFactors: factors, Reportable: b.Reportable, Note: b.Note, At: at}
}

type rejectBody struct {
	Reason string `json:"reason"`
	Text   string `json:"text"`
}

func (b *rejectBody) command(_ auth.Principal, at time.Time) domain.Command {
	return domain.RejectSignal{Reason: domain.RejectionReason(b.Reason), Text: b.Text, At: at}
}

type linkDuplicateBody struct {
	DuplicateOf uuid.UUID `json:"duplicateOf"`
	Note        string    `json:"note"`
}

func (b *linkDuplicateBody) command(_ auth.Principal, at time.Time) domain.Command {
	return domain.LinkDuplicate{DuplicateOf: b.DuplicateOf, Note: b.Note, At: at}
}

type escalateBody struct {
	EscalationID uuid.UUID `json:"escalationId"`
	Targets      struct {
		Specialties   []string `json:"specialties"`
		Regions       []string `json:"regions"`
		Organisations []string `json:"organisations"`
	} `json:"targets"`
	Message string `json:"message"`
	Summary string `json:"summary"`
}

func (b *escalateBody) command(_ auth.Principal, at time.Time) domain.Command {
	if b.EscalationID == uuid.Nil {
		// A failure here leaves the id nil, which the decider refuses.
		b.EscalationID, _ = uuid.NewV7()
	}
	specs := make([]domain.Specialty, len(b.Targets.Specialties))
	for i, s := range b.Targets.Specialties {
		specs[i] = domain.Specialty(s)
	}
	return domain.EscalateSignal{
		EscalationID: b.EscalationID,
		Targets:      domain.EscalationTargets{Specialties: specs, Regions: b.Targets.Regions, Organisations: b.Targets.Organisations},
		Message:      b.Message, Summary: b.Summary, At: at,
	}
}

type acknowledgeEscalationBody struct {
	EscalationID uuid.UUID `json:"escalationId"`
}

func (b *acknowledgeEscalationBody) command(p auth.Principal, at time.Time) domain.Command {
	return domain.AcknowledgeEscalation{EscalationID: b.EscalationID, Recipient: recipientOf(p), At: at}
}

type respondEscalationBody struct {
	EscalationID uuid.UUID `json:"escalationId"`
	Response     string    `json:"response"`
	Text         string    `json:"text"`
}

func (b *respondEscalationBody) command(p auth.Principal, at time.Time) domain.Command {
	return domain.RespondToEscalation{EscalationID: b.EscalationID, Recipient: recipientOf(p), Response: domain.EscalationResponse(b.Response), Text: b.Text, At: at}
}

type feedbackBody struct {
	Message string `json:"message"`
}

func (b *feedbackBody) command(_ auth.Principal, at time.Time) domain.Command {
	return domain.SendFeedback{Message: b.Message, At: at}
}

type askBody struct {
	QuestionID uuid.UUID `json:"questionId"`
	Question   string    `json:"question"`
}

func (b *askBody) command(_ auth.Principal, at time.Time) domain.Command {
	if b.QuestionID == uuid.Nil {
		// A failure here leaves the id nil, which the decider refuses.
		b.QuestionID, _ = uuid.NewV7()
	}
	return domain.AskReporter{QuestionID: b.QuestionID, Question: b.Question, At: at}
}

type replyBody struct {
	QuestionID uuid.UUID `json:"questionId"`
	Reply      string    `json:"reply"`
}

func (b *replyBody) command(_ auth.Principal, at time.Time) domain.Command {
	return domain.ReplyToQuestion{QuestionID: b.QuestionID, Reply: b.Reply, At: at}
}

type closeBody struct {
	Outcome string `json:"outcome"`
	Summary string `json:"summary"`
}

func (b *closeBody) command(_ auth.Principal, at time.Time) domain.Command {
	return domain.CloseSignal{Outcome: domain.CloseOutcome(b.Outcome), Summary: b.Summary, At: at}
}

type reopenBody struct {
	Reason string `json:"reason"`
}

func (b *reopenBody) command(_ auth.Principal, at time.Time) domain.Command {
	return domain.ReopenSignal{Reason: b.Reason, At: at}
}

type regulatorNotificationBody struct {
	Reference  string    `json:"reference"`
	NotifiedAt time.Time `json:"notifiedAt"`
}

func (b *regulatorNotificationBody) command(_ auth.Principal, at time.Time) domain.Command {
	return domain.RecordRegulatorNotification{Reference: b.Reference, NotifiedAt: b.NotifiedAt, At: at}
}

// ifMatch reads the required If-Match header: the version the caller saw,
// as the ETag of GET /api/v1/signals/{id} gave it.
func ifMatch(r *http.Request) (int, *Problem) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return 0, fieldProblem(http.StatusPreconditionRequired, "precondition-required", "If-Match required", "If-Match", "required",
			"send the signal's current ETag in If-Match, so that a change made meanwhile is not overwritten")
	}
	v, err := strconv.Atoi(strings.Trim(h, `"`))
	if err != nil || v < 1 || !strings.HasPrefix(h, `"`) || !strings.HasSuffix(h, `"`) {
		return 0, fieldProblem(http.StatusBadRequest, "invalid-header", "Invalid If-Match", "If-Match", "invalid", `If-Match must be the signal's ETag, a quoted version such as "3"`)
	}
	return v, nil
}

// runCommand handles POST /api/v1/signals/{id}/{command}.
func (s *Server) runCommand(spec commandSpec) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		id, prob := signalID(r)
		if prob != nil {
			writeProblem(w, r, prob)
			return
		}
		version, prob := ifMatch(r)
		if prob != nil {
			writeProblem(w, r, prob)
			return
		}
		key, prob := idempotencyKey(r)
		if prob != nil {
			writeProblem(w, r, prob)
			return
		}
		body := spec.body()
		raw, prob := readOptionalBody(w, r)
		if prob != nil {
			writeProblem(w, r, prob)
			return
		}
		if prob := decodeStrict(raw, body); prob != nil {
			writeProblem(w, r, prob)
			return
		}
		v, ok, err := s.deps.Signals.Get(r.Context(), id)
		if err != nil {
			writeProblem(w, r, s.commandProblem(r, err))
			return
		}
		if !ok || !spec.access(p, v) {
			writeProblem(w, r, newProblem(http.StatusNotFound, "not-found", "Signal not found", "no signal with this id is visible to you"))
			return
		}
		if prob := s.checkReferences(r, p, body); prob != nil {
			writeProblem(w, r, prob)
			return
		}
		if prob := s.record(r, "signal."+spec.name, id.String()); prob != nil {
			writeProblem(w, r, prob)
			return
		}
		meta := commands.Meta{Actor: p.Subject, Caller: p.Subject, CorrelationID: correlationID(r.Context()), IdempotencyKey: key}
		res, err := s.deps.Commands.Execute(r.Context(), id, &version, body.command(p, s.deps.Commands.Now().UTC()), meta)
		if err != nil {
			writeProblem(w, r, s.commandProblem(r, err))
			return
		}
		s.waitForReadModel(r.Context(), res.Sequence)
		w.Header().Set("ETag", etag(res.Version))
		if res.Replayed {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		answer := map[string]any{"id": res.ID, "version": res.Version}
		if esc, ok := body.(*escalateBody); ok {
			answer["escalationId"] = esc.EscalationID
		}
		if ask, ok := body.(*askBody); ok {
			answer["questionId"] = ask.QuestionID
		}
		writeJSON(w, http.StatusOK, answer)
	}
}

// checkReferences checks what a command points at beyond its own signal: a
// duplicate must be a signal of the same organisation.
func (s *Server) checkReferences(r *http.Request, p auth.Principal, body commandBody) *Problem {
	link, ok := body.(*linkDuplicateBody)
	if !ok || link.DuplicateOf == uuid.Nil {
		return nil
	}
	other, found, err := s.deps.Signals.Get(r.Context(), link.DuplicateOf)
	if err != nil {
		return s.commandProblem(r, err)
	}
	if !found || other.Organisation != p.Organisation {
		return fieldProblem(http.StatusUnprocessableEntity, "validation", "Invalid command", "duplicateOf", "not_found", "duplicateOf must be a signal of your organisation")
	}
	return nil
}

// readOptionalBody reads a JSON body; an empty one stands for {}.
func readOptionalBody(w http.ResponseWriter, r *http.Request) ([]byte, *Problem) {
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return []byte("{}"), nil
	}
	return readBody(w, r)
}

// historyEntry is one event of a signal's history.
type historyEntry struct {
	EventID    uuid.UUID `json:"eventId"`
	Type       string    `json:"type"`
	Version    int       `json:"version"`
	OccurredAt time.Time `json:"occurredAt"`
	Actor      string    `json:"actor,omitempty"`
	Data       any       `json:"data"`
}

// getHistory answers GET /api/v1/signals/{id}/history: the signal's events
// in order, read from the log.
func (s *Server) getHistory(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	id, prob := signalID(r)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	v, ok, err := s.deps.Signals.Get(r.Context(), id)
	if err != nil {
		writeProblem(w, r, s.commandProblem(r, err))
		return
	}
	if !ok || !canReadHistory(p, v) {
		writeProblem(w, r, newProblem(http.StatusNotFound, "not-found", "Signal not found", "no signal with this id is visible to you"))
		return
	}
	if prob := s.record(r, "signal.history", id.String()); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	events, err := s.deps.Commands.History(r.Context(), id)
	if err != nil {
		writeProblem(w, r, s.commandProblem(r, err))
		return
	}
	out := make([]historyEntry, 0, len(events))
	for _, e := range events {
		entry := historyEntry{EventID: e.Envelope.ID, Type: e.Envelope.Type, Version: e.Envelope.AggregateVersion, OccurredAt: e.Envelope.OccurredAt, Data: e.Data}
		if p.Role != auth.RoleReporter {
			entry.Actor = e.Envelope.Actor
		}
		out = append(out, entry)
	}
	w.Header().Set("ETag", etag(v.Version))
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "version": v.Version, "events": out})
}

// canReadHistory: the whole history is for the organisation's safety
// officers and admins; reporters follow their signal through its detail.
func canReadHistory(p auth.Principal, v signaldetail.View) bool {
	switch p.Role {
	case auth.RoleAdmin:
		return true
	case auth.RoleSafetyOfficer:
		return p.Organisation == v.Organisation
	}
	return false
}
