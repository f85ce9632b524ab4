package httpapi

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/domain"
	peerread "github.com/safesignal/safesignal/projections/peersupport"
	"go.uber.org/zap"
)

// Peer support is confidential: a request is shown to its organisation's
// peer-support contacts (role peer_supporter) and to no one else, not even
// its requester's safety officer or an admin; the routes below are the
// only ones that read it. Asking for support writes no audit record (the
// trail is readable by admins); what peer supporters read and do is
// audited without naming the request.

// peerSupportBody is the body of POST /api/v1/peer-support.
type peerSupportBody struct {
	Contact string `json:"contact"`
	Message string `json:"message"`
}

// peerSupportItem is a request in the peer supporters' inbox.
type peerSupportItem struct {
	ID                        uuid.UUID  `json:"id"`
	Version                   int        `json:"version"`
	Requester                 string     `json:"requester"`
	Contact                   string     `json:"contact,omitempty"`
	Message                   string     `json:"message,omitempty"`
	Source                    string     `json:"source"`
	RequestedAt               time.Time  `json:"requestedAt"`
	AcknowledgedAt            *time.Time `json:"acknowledgedAt,omitempty"`
	AcknowledgedBy            string     `json:"acknowledgedBy,omitempty"`
	TimeToFirstContactSeconds *int64     `json:"timeToFirstContactSeconds,omitempty"`
	// RequesterErased says the requester was erased: requester, contact
	// and message are empty for good.
	RequesterErased bool `json:"requesterErased,omitempty"`
	// SupporterErased says the supporter who acknowledged it was erased:
	// acknowledgedBy is empty for good, acknowledgedAt stays.
	SupporterErased bool `json:"supporterErased,omitempty"`
}

func peerSupportItemOf(v peerread.View) peerSupportItem {
	it := peerSupportItem{ID: v.ID, Version: v.Version, Requester: v.Requester, Contact: v.Contact, Message: v.Message, Source: v.Source, RequestedAt: v.RequestedAt, RequesterErased: v.RequesterErased, SupporterErased: v.SupporterErased}
	if !v.AcknowledgedAt.IsZero() {
		at := v.AcknowledgedAt
		secs := int64(v.TimeToFirstContact().Seconds())
		it.AcknowledgedAt, it.AcknowledgedBy, it.TimeToFirstContactSeconds = &at, v.AcknowledgedBy, &secs
	}
	return it
}

func (s *Server) peerSupportEnabled(w http.ResponseWriter, r *http.Request) bool {
	if s.deps.PeerSupport == nil || s.deps.PeerRequests == nil {
		writeProblem(w, r, newProblem(http.StatusNotFound, "not-found", "Not found", "peer support is not enabled"))
		return false
	}
	return true
}

// requestPeerSupport answers POST /api/v1/peer-support: the caller asks
// their organisation's peer-support contacts for support.
func (s *Server) requestPeerSupport(w http.ResponseWriter, r *http.Request) {
	if !s.peerSupportEnabled(w, r) {
		return
	}
	p, _ := auth.FromContext(r.Context())
	raw, prob := readOptionalBody(w, r)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	var body peerSupportBody
	if prob := decodeStrict(raw, &body); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	id, res, err := s.openPeerSupport(r, p, body, domain.PeerSupportDirect)
	if err != nil {
		writeProblem(w, r, s.problemOf(r, err, "peer-support request"))
		return
	}
	s.waitForReadModel(r.Context(), res)
	writeJSON(w, http.StatusCreated, map[string]any{"id": id})
}

// openPeerSupport appends a new request and returns its id and sequence.
func (s *Server) openPeerSupport(r *http.Request, p auth.Principal, body peerSupportBody, source string) (uuid.UUID, uint64, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, 0, err
	}
	cmd := domain.RequestPeerSupport{
		RequestID: id, Organisation: p.Organisation, Requester: p.Subject, Contact: body.Contact,
		Message: body.Message, Source: source, At: s.deps.PeerSupport.Now().UTC(),
	}
	res, err := s.deps.PeerSupport.Execute(r.Context(), id, cmd, p.Subject, correlationID(r.Context()))
	if err != nil {
		return uuid.Nil, 0, err
	}
	return id, res.Sequence, nil
}

// peerSupportAtFiling opens a request for a named filing that asked for
// peer support. The filing is stored already, so a failure here is logged
// and reported in the answer, not turned into a failed filing.
func (s *Server) peerSupportAtFiling(r *http.Request, p auth.Principal) bool {
	if s.deps.PeerSupport == nil {
		return false
	}
	_, seq, err := s.openPeerSupport(r, p, peerSupportBody{}, domain.PeerSupportAtFiling)
	if err != nil {
		s.deps.Logger.Error("peer-support request at filing failed", zap.Error(err), zap.String("correlationId", correlationID(r.Context())))
		return false
	}
	s.waitForReadModel(r.Context(), seq)
	return true
}

// getPeerSupportInbox answers GET /api/v1/peer-support/inbox: the
// requests of the caller's organisation, newest first.
func (s *Server) getPeerSupportInbox(w http.ResponseWriter, r *http.Request) {
	if !s.peerSupportEnabled(w, r) {
		return
	}
	p, _ := auth.FromContext(r.Context())
	if prob := knownParams(r.URL.Query()); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	if prob := s.record(r, "peer_support.inbox", ""); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	views, err := s.deps.PeerRequests.Inbox(r.Context(), p.Organisation)
	if err != nil {
		writeProblem(w, r, s.problemOf(r, err, "peer-support request"))
		return
	}
	out := make([]peerSupportItem, 0, len(views))
	for _, v := range views {
		out = append(out, peerSupportItemOf(v))
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": out})
}

// acknowledgePeerSupport answers POST /api/v1/peer-support/{id}/acknowledge:
// a peer supporter of the request's organisation took it up.
func (s *Server) acknowledgePeerSupport(w http.ResponseWriter, r *http.Request) {
	if !s.peerSupportEnabled(w, r) {
		return
	}
	p, _ := auth.FromContext(r.Context())
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil || len(r.PathValue("id")) != 36 {
		writeProblem(w, r, fieldProblem(http.StatusBadRequest, "invalid-id", "Invalid request id", "id", "invalid", "the request id must be a UUID"))
		return
	}
	raw, prob := readOptionalBody(w, r)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	if prob := decodeStrict(raw, &struct{}{}); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	v, ok, err := s.deps.PeerRequests.Get(r.Context(), id)
	if err != nil {
		writeProblem(w, r, s.problemOf(r, err, "peer-support request"))
		return
	}
	if !ok || v.Organisation != p.Organisation {
		writeProblem(w, r, newProblem(http.StatusNotFound, "not-found", "Request not found", "no peer-support request with this id is visible to you"))
		return
	}
	if prob := s.record(r, "peer_support.acknowledge", ""); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	res, err := s.deps.PeerSupport.Execute(r.Context(), id, domain.AcknowledgePeerSupport{Supporter: p.Subject, At: s.deps.PeerSupport.Now().UTC()}, p.Subject, correlationID(r.Context()))
	if err != nil {
		writeProblem(w, r, s.problemOf(r, err, "peer-support request"))
		return
	}
	s.waitForReadModel(r.Context(), res.Sequence)
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "version": res.Version})
}
