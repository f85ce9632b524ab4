package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/commands"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections/signaldetail"
	"go.uber.org/zap"
)

// errAuditUnavailable stops an append whose audit record could not be
// written; the handler answers with the audit problem.
var errAuditUnavailable = errors.New("audit record not written")

// reportRequest is the body of POST /api/v1/signals.
type reportRequest struct {
	Organisation         string `json:"organisation"`
	Region               string `json:"region"`
	Specialty            string `json:"specialty"`
	OccurredAt           string `json:"occurredAt"`
	Kind                 string `json:"kind"`
	Category             string `json:"category"`
	Harm                 string `json:"harm"`
	Description          string `json:"description"`
	ImmediateActions     string `json:"immediateActions"`
	Language             string `json:"language"`
	PeerSupportRequested bool   `json:"peerSupportRequested"`
	Anonymous            bool   `json:"anonymous"`
}

// created is the answer to a filing.
type created struct {
	ID      uuid.UUID `json:"id"`
	Version int       `json:"version"`
	// Warnings list personal identification numbers found in the text.
	Warnings []identifierWarning `json:"warnings"`
	// PeerSupportRequested says that a confidential request went to the
	// organisation's peer-support contacts (named filings only).
	PeerSupportRequested bool `json:"peerSupportRequested,omitempty"`
	// Receipt is the code an anonymous reporter follows the signal with.
	// It is shown in this answer only: the log keeps its hash, and a
	// replayed answer cannot carry it.
	Receipt string `json:"receipt,omitempty"`
}

// signalResponse is a signal as the API shows it. What a caller sees
// depends on the role: reporters follow status and feedback, safety
// officers and admins see the whole case.
type signalResponse struct {
	ID                   uuid.UUID `json:"id"`
	Version              int       `json:"version"`
	Status               string    `json:"status"`
	Organisation         string    `json:"organisation"`
	Region               string    `json:"region"`
	Specialty            string    `json:"specialty"`
	OccurredAt           time.Time `json:"occurredAt"`
	Kind                 string    `json:"kind"`
	Category             string    `json:"category"`
	Harm                 string    `json:"harm"`
	Description          string    `json:"description"`
	ImmediateActions     string    `json:"immediateActions,omitempty"`
	Language             string    `json:"language"`
	PeerSupportRequested bool      `json:"peerSupportRequested"`
	Anonymous            bool      `json:"anonymous"`
	Reporter             string    `json:"reporter,omitempty"`
	ReportedAt           time.Time `json:"reportedAt"`
	UpdatedAt            time.Time `json:"updatedAt"`

	Feedback []feedbackView `json:"feedback"`
	// Questions asked of the reporter, with the replies.
	Questions []questionView `json:"questions"`
	// ContentErased and ReporterErased say what was erased on request.
	ContentErased  bool `json:"contentErased,omitempty"`
	ReporterErased bool `json:"reporterErased,omitempty"`

	// The case, for safety officers and admins.
	AcknowledgedAt      *time.Time          `json:"acknowledgedAt,omitempty"`
	Classifications     int                 `json:"classifications,omitempty"`
	ContributingFactors []string            `json:"contributingFactors,omitempty"`
	Reportable          bool                `json:"reportable,omitempty"`
	Regulatory          *regulatoryView     `json:"regulatory,omitempty"`
	Rejection           *rejectionView      `json:"rejection,omitempty"`
	DuplicateOf         *uuid.UUID          `json:"duplicateOf,omitempty"`
	Closure             *closureView        `json:"closure,omitempty"`
	Escalations         []domain.Escalation `json:"escalations,omitempty"`
}

type feedbackView struct {
	Message string    `json:"message"`
	SentAt  time.Time `json:"sentAt"`
}

type regulatoryView struct {
	Jurisdiction string     `json:"jurisdiction"`
	Regulator    string     `json:"regulator"`
	Notification string     `json:"notification"`
	DueAt        time.Time  `json:"dueAt"`
	Overdue      bool       `json:"overdue"`
	NotifiedAt   *time.Time `json:"notifiedAt,omitempty"`
	Reference    string     `json:"reference,omitempty"`
}

type rejectionView struct {
	Reason     string    `json:"reason"`
	Text       string    `json:"text,omitempty"`
	RejectedAt time.Time `json:"rejectedAt"`
}

type closureView struct {
	Outcome  string    `json:"outcome"`
	Summary  string    `json:"summary"`
	ClosedAt time.Time `json:"closedAt"`
}

func (s *Server) fileSignal(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	key, prob := idempotencyKey(r)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	body, prob := readBody(w, r)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	var req reportRequest
	if prob := decodeStrict(body, &req); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	occurredAt, err := time.Parse(time.RFC3339Nano, req.OccurredAt)
	if req.OccurredAt != "" && err != nil {
		writeProblem(w, r, fieldProblem(http.StatusUnprocessableEntity, "validation", "Invalid signal", "occurredAt", "invalid", "occurredAt must be an RFC 3339 date-time such as 2026-11-20T14:30:00+01:00"))
		return
	}
	if req.Organisation == "" {
		req.Organisation = p.Organisation
	}
	if p.Organisation != "" && req.Organisation != p.Organisation {
		writeProblem(w, r, fieldProblem(http.StatusUnprocessableEntity, "validation", "Invalid signal", "organisation", "forbidden", "you can file signals only for your own organisation"))
		return
	}
	cmd := domain.ReportSignal{
		Organisation:         req.Organisation,
		Region:               req.Region,
		Specialty:            domain.Specialty(req.Specialty),
		OccurredAt:           occurredAt,
		Kind:                 domain.Kind(req.Kind),
		Category:             domain.Category(req.Category),
		Harm:                 domain.Harm(req.Harm),
		Description:          req.Description,
		ImmediateActions:     req.ImmediateActions,
		Language:             domain.Language(req.Language),
		PeerSupportRequested: req.PeerSupportRequested,
		Anonymous:            req.Anonymous,
	}
	meta := commands.Meta{Caller: p.Subject, CorrelationID: correlationID(r.Context()), IdempotencyKey: key}
	if !req.Anonymous {
		cmd.Reporter = p.Subject
		meta.Actor = p.Subject
	}
	if cmd.SignalID, err = s.deps.Commands.NewSignalID(meta.Caller, key); err != nil {
		writeProblem(w, r, s.commandProblem(r, err))
		return
	}
	var receipt string
	if req.Anonymous {
		if receipt, cmd.ReceiptHash, err = newReceipt(cmd.SignalID); err != nil {
			writeProblem(w, r, s.commandProblem(r, err))
			return
		}
	}
	// The trail records a filing. An anonymous one names neither the
	// caller nor the signal: the record cannot tie anyone to it. It is
	// written while the signal's data key is stored, and the event is
	// appended only once both are durable.
	audited := make(chan *Problem, 1)
	go func() {
		if req.Anonymous {
			audited <- s.recordAs(r, anonymousActor, string(p.Role), p.Organisation, actionFile, "")
		} else {
			audited <- s.record(r, actionFile, cmd.SignalID.String())
		}
	}()
	var auditProb *Problem
	var auditOnce sync.Once
	waitAudit := func() *Problem {
		auditOnce.Do(func() { auditProb = <-audited })
		return auditProb
	}
	meta.BeforeAppend = func(context.Context) error {
		if waitAudit() != nil {
			return errAuditUnavailable
		}
		return nil
	}
	res, err := s.deps.Commands.Report(r.Context(), cmd, meta)
	if prob := waitAudit(); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	if err != nil {
		writeProblem(w, r, s.commandProblem(r, err))
		return
	}
	s.waitForReadModel(r.Context(), res.Sequence)
	w.Header().Set("Location", "/api/v1/signals/"+res.ID.String())
	w.Header().Set("ETag", etag(res.Version))
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
		// The stored hash is of the first request's code, which is gone.
		receipt = ""
	}
	// A named filing that asks for peer support opens a request of its own
	// (not tied to the signal). An anonymous one cannot: the supporter
	// could not reach the reporter, and a request would name them.
	peer := req.PeerSupportRequested && !req.Anonymous && !res.Replayed && s.peerSupportAtFiling(r, p)
	writeJSON(w, http.StatusCreated, created{ID: res.ID, Version: res.Version, Receipt: receipt, PeerSupportRequested: peer,
		Warnings: identifierWarnings(map[string]string{"description": req.Description, "immediateActions": req.ImmediateActions})})
}

// waitForReadModel gives read-your-writes: the answer to a command leaves
// only once the local read models hold it, or after ConsistencyWait (the
// write is durable either way).
func (s *Server) waitForReadModel(ctx context.Context, seq uint64) {
	ctx, cancel := context.WithTimeout(ctx, s.deps.ConsistencyWait)
	defer cancel()
	if err := s.deps.WaitFor(ctx, seq); err != nil {
		s.deps.Logger.Warn("read model behind after a write", zap.Uint64("sequence", seq), zap.Error(err))
	}
}

func (s *Server) getSignal(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	id, prob := signalID(r)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	v, ok, err := s.deps.Signals.Get(r.Context(), id)
	if err != nil {
		s.deps.Logger.Error("read signal", zap.Error(err))
		writeProblem(w, r, newProblem(http.StatusServiceUnavailable, "unavailable", "Read model unavailable", "the signal could not be read; try again"))
		return
	}
	// A signal the caller may not see is answered as one that does not
	// exist, so that ids cannot be probed.
	if !ok || !canRead(p, v) {
		writeProblem(w, r, newProblem(http.StatusNotFound, "not-found", "Signal not found", "no signal with this id is visible to you"))
		return
	}
	if prob := s.record(r, actionRead, id.String()); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	w.Header().Set("ETag", etag(v.Version))
	writeJSON(w, http.StatusOK, present(p, v, s.deps.Commands.Now()))
}

// canRead is the object-level rule for one signal.
func canRead(p auth.Principal, v signaldetail.View) bool {
	switch p.Role {
	case auth.RoleAdmin:
		return true
	case auth.RoleSafetyOfficer:
		return p.Organisation == v.Organisation
	case auth.RoleReporter:
		return !v.Anonymous && v.Reporter != "" && v.Reporter == p.Subject
	default:
		return false
	}
}

func present(p auth.Principal, v signaldetail.View, now time.Time) signalResponse {
	out := signalResponse{
		ID: v.ID, Version: v.Version, Status: string(v.Status), Organisation: v.Organisation,
		Region: v.Region, Specialty: string(v.Specialty), OccurredAt: v.OccurredAt,
		Kind: string(v.Kind), Category: string(v.Category), Harm: string(v.Harm),
		Description: v.Description, ImmediateActions: v.ImmediateActions,
		Language: string(v.Language), PeerSupportRequested: v.PeerSupportRequested,
		Anonymous: v.Anonymous, Reporter: v.Reporter, ReportedAt: v.ReportedAt, UpdatedAt: v.UpdatedAt,
		Feedback:      make([]feedbackView, 0, len(v.Feedback)),
		Questions:     questionViews(v.Questions),
		ContentErased: v.ContentErased, ReporterErased: v.ReporterErased,
	}
	for _, f := range v.Feedback {
		out.Feedback = append(out.Feedback, feedbackView{Message: f.Message, SentAt: f.SentAt})
	}
	if p.Role == auth.RoleReporter {
		return out
	}
	if !v.AcknowledgedAt.IsZero() {
		out.AcknowledgedAt = &v.AcknowledgedAt
	}
	out.Classifications = v.Classifications
	for _, f := range v.ContributingFactors {
		out.ContributingFactors = append(out.ContributingFactors, string(f))
	}
	out.Reportable = v.Reportable
	if d := v.Regulatory; d.Tracked() {
		rv := &regulatoryView{Jurisdiction: d.Jurisdiction, Regulator: d.Regulator, Notification: d.Notification, DueAt: d.DueAt, Overdue: d.Overdue(now), Reference: d.Reference}
		if !d.NotifiedAt.IsZero() {
			rv.NotifiedAt = &d.NotifiedAt
		}
		out.Regulatory = rv
	}
	if v.Status == domain.StatusRejected {
		out.Rejection = &rejectionView{Reason: string(v.Rejection.Reason), Text: v.Rejection.Text, RejectedAt: v.Rejection.RejectedAt}
	}
	if v.DuplicateOf != uuid.Nil {
		out.DuplicateOf = &v.DuplicateOf
	}
	if v.Status == domain.StatusClosed {
		out.Closure = &closureView{Outcome: string(v.Closure.Outcome), Summary: v.Closure.Summary, ClosedAt: v.Closure.ClosedAt}
	}
	out.Escalations = v.Escalations
	return out
}

func etag(version int) string { return `"` + strconv.Itoa(version) + `"` }

func signalID(r *http.Request) (uuid.UUID, *Problem) {
	raw := r.PathValue("id")
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		return uuid.Nil, fieldProblem(http.StatusBadRequest, "invalid-id", "Invalid signal id", "id", "invalid", "the signal id must be a UUID")
	}
	return id, nil
}

// idempotencyKey reads the optional Idempotency-Key header.
func idempotencyKey(r *http.Request) (string, *Problem) {
	vals := r.Header.Values("Idempotency-Key")
	switch {
	case len(vals) == 0:
		return "", nil
	case len(vals) > 1:
		return "", fieldProblem(http.StatusBadRequest, "invalid-header", "Invalid Idempotency-Key", "Idempotency-Key", "duplicate", "send one Idempotency-Key header")
	}
	key := vals[0]
	if len(key) > 255 || key == "" {
		return "", fieldProblem(http.StatusBadRequest, "invalid-header", "Invalid Idempotency-Key", "Idempotency-Key", "invalid", "the Idempotency-Key must be 1 to 255 characters")
	}
	for _, c := range []byte(key) {
		if c < 0x21 || c > 0x7e {
			return "", fieldProblem(http.StatusBadRequest, "invalid-header", "Invalid Idempotency-Key", "Idempotency-Key", "invalid", "the Idempotency-Key must be printable ASCII without spaces")
		}
	}
	return key, nil
}

// commandProblem maps an error of the command side to a problem. Anything
// unexpected is logged and answered 503: the command was not applied and
// may be retried.
func (s *Server) commandProblem(r *http.Request, err error) *Problem {
	return s.problemOf(r, err, "signal")
}

// problemOf is commandProblem for a command on another kind of object
// (a lesson, a peer-support request), named in the messages.
func (s *Server) problemOf(r *http.Request, err error, object string) *Problem {
	var ve *domain.ValidationError
	var te *domain.TransitionError
	switch {
	case errors.As(err, &ve):
		return newProblem(http.StatusUnprocessableEntity, "validation", "Invalid request", "one or more fields are not acceptable", ve.Fields...)
	case errors.Is(err, domain.ErrUnknownQuestion):
		return fieldProblem(http.StatusNotFound, "not-found", "Question not found", "questionId", "unknown", "the signal has no question with this id")
	case errors.Is(err, domain.ErrUnknownEscalation), errors.Is(err, domain.ErrNotAddressed):
		return newProblem(http.StatusNotFound, "not-found", "Escalation not found", "no escalation with this id is addressed to you")
	case errors.Is(err, domain.ErrNotFound):
		return newProblem(http.StatusNotFound, "not-found", titleCase(object)+" not found", "no "+object+" with this id is visible to you")
	case errors.As(err, &te):
		return newProblem(http.StatusConflict, "illegal-transition", "Not possible in this state", te.Error())
	case errors.Is(err, commands.ErrVersionMismatch):
		return newProblem(http.StatusConflict, "version-mismatch", "The "+object+" has changed", "the "+object+" changed since you read it; reload it and send the command again with its current ETag in If-Match")
	case errors.Is(err, eventstore.ErrConflict):
		return newProblem(http.StatusConflict, "conflict", "Concurrent change", "another change to this "+object+" came first; try again")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return newProblem(http.StatusServiceUnavailable, "unavailable", "Try again", "the request did not complete in time; it was not applied unless a retry with the same Idempotency-Key says so")
	default:
		s.deps.Logger.Error("command failed", zap.Error(err), zap.String("route", r.Pattern), zap.String("correlationId", correlationID(r.Context())))
		return newProblem(http.StatusServiceUnavailable, "unavailable", "Service unavailable", fmt.Sprintf("the command could not be stored; retry with the same Idempotency-Key (correlation id %s)", correlationID(r.Context())))
	}
}

// titleCase capitalises the first letter of an ASCII noun.
func titleCase(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
