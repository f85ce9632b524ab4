package httpapi

import (
	"net/http"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/commands"
	"github.com/safesignal/safesignal/adapters/peersupport"
)

type erasureRequest struct {
	SignalID *uuid.UUID `json:"signalId"`
	Reporter string     `json:"reporter"`
}

// postErasure answers POST /api/v1/admin/erasures: erase one signal's free
// text, or one reporter's identity from every signal they filed by name
// and from every peer-support request they made.
func (s *Server) postErasure(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	body, prob := readBody(w, r)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	var req erasureRequest
	if prob := decodeStrict(body, &req); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	if (req.SignalID == nil) == (req.Reporter == "") {
		writeProblem(w, r, fieldProblem(http.StatusUnprocessableEntity, "validation", "Invalid request", "signalId", "required", "give either signalId or reporter"))
		return
	}
	if len(req.Reporter) > 128 {
		writeProblem(w, r, fieldProblem(http.StatusUnprocessableEntity, "validation", "Invalid request", "reporter", "too_long", "reporter must be at most 128 bytes"))
		return
	}
	meta := commands.Meta{Actor: p.Subject, Caller: p.Subject, CorrelationID: correlationID(r.Context())}
	if req.SignalID != nil {
		if prob := s.record(r, "erasure.signal", req.SignalID.String()); prob != nil {
			writeProblem(w, r, prob)
			return
		}
		if err := s.deps.Commands.EraseSignal(r.Context(), *req.SignalID, meta); err != nil {
			writeProblem(w, r, s.commandProblem(r, err))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"erased": "content", "signals": 1})
		return
	}
	if prob := s.record(r, "erasure.reporter", ""); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	views, err := s.deps.Signals.ReportedBy(r.Context(), req.Reporter)
	if err != nil {
		writeProblem(w, r, s.commandProblem(r, err))
		return
	}
	ids := make([]uuid.UUID, 0, len(views))
	for _, v := range views {
		ids = append(ids, v.ID)
	}
	// The peer-support requests first: once the person's key is gone the
	// log no longer says which requests were theirs.
	peers, supported, err := s.erasePeerSupport(r, req.Reporter, meta)
	if err != nil {
		writeProblem(w, r, s.problemOf(r, err, "peer-support request"))
		return
	}
	n, err := s.deps.Commands.EraseReporter(r.Context(), req.Reporter, ids, meta)
	if err != nil {
		writeProblem(w, r, s.commandProblem(r, err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"erased": "reporter", "signals": n, "peerSupportRequests": peers, "peerSupportAcknowledgements": supported})
}

// erasePeerSupport erases the person from the peer-support requests they
// made and from those they acknowledged as supporter, when peer support is
// enabled, and waits for the read model to show it.
func (s *Server) erasePeerSupport(r *http.Request, subject string, meta commands.Meta) (requests, acknowledgements int, err error) {
	if s.deps.PeerSupport == nil || s.deps.PeerRequests == nil {
		return 0, 0, nil
	}
	ids, err := s.deps.PeerRequests.ByRequester(r.Context(), subject)
	if err != nil {
		return 0, 0, err
	}
	requests, last, err := peersupport.EraseRequester(r.Context(), s.deps.PeerSupport, subject, ids, meta.Actor, meta.CorrelationID)
	if err != nil {
		return requests, 0, err
	}
	if ids, err = s.deps.PeerRequests.BySupporter(r.Context(), subject); err != nil {
		return requests, 0, err
	}
	acknowledgements, lastAck, err := peersupport.EraseSupporter(r.Context(), s.deps.PeerSupport, subject, ids, meta.Actor, meta.CorrelationID)
	if err != nil {
		return requests, acknowledgements, err
	}
	if last = max(last, lastAck); last > 0 {
		s.waitForReadModel(r.Context(), last)
	}
	return requests, acknowledgements, nil
}
