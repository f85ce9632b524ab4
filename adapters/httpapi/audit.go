package httpapi

import (
	"net/http"
	"strconv"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/adapters/audit"
	"github.com/safesignal/safesignal/adapters/auth"
	"go.uber.org/zap"
)

// Audited actions.
const (
	actionFile       = "signal.file"
	actionRead       = "signal.read"
	actionAuditQuery = "audit.read"
)

// AuditActions lists the actions the API records in the audit trail,
// for the screens that show the trail. A lifecycle command is recorded as
// "signal." followed by the command's name (domain.Command*).
func AuditActions() []string {
	out := []string{actionFile, actionRead, actionAuditQuery, actionTrendsRead,
		"signal.receipt.read", "signal.fhir", "signal.history", "signal.import",
		"signals.mine", "triage.list", "escalations.list", "lesson.publish",
		"peer_support.inbox", "peer_support.acknowledge", "erasure.signal", "erasure.reporter", actionExport}
	for _, c := range commandSpecs() {
		out = append(out, "signal."+c.name)
	}
	return out
}

// record writes an audit record for the caller. It answers the problem to
// send when the trail cannot be written: then the access must not happen.
func (s *Server) record(r *http.Request, action, signalID string) *Problem {
	p, _ := auth.FromContext(r.Context())
	return s.recordAs(r, p.Subject, string(p.Role), p.Organisation, action, signalID)
}

// recordAs writes an audit record for an actor that is not the token's
// subject: an anonymous filing, the holder of a receipt code.
func (s *Server) recordAs(r *http.Request, actor, role, organisation, action, signalID string) *Problem {
	return s.writeRecord(r, audit.Record{Actor: actor, Role: role, Organisation: organisation, Action: action, SignalID: signalID})
}

// recordQuery writes an audit record for the caller's read of many
// signals, with what the read selected.
func (s *Server) recordQuery(r *http.Request, action, query string) *Problem {
	p, _ := auth.FromContext(r.Context())
	return s.writeRecord(r, audit.Record{Actor: p.Subject, Role: string(p.Role), Organisation: p.Organisation, Action: action, Query: query})
}

func (s *Server) writeRecord(r *http.Request, rec audit.Record) *Problem {
	rec.CorrelationID = correlationID(r.Context())
	if err := s.deps.Audit.Write(r.Context(), rec); err != nil {
		s.deps.Logger.Error("audit write failed; refusing the request", zap.Error(err), zap.String("action", rec.Action), zap.String("correlationId", rec.CorrelationID))
		return newProblem(http.StatusServiceUnavailable, "audit-unavailable", "Audit trail unavailable", "the access could not be recorded, so it was not carried out; try again")
	}
	return nil
}

// getAudit answers GET /api/v1/audit?signal=ID&actor=SUBJECT&after=SEQ.
func (s *Server) getAudit(w http.ResponseWriter, r *http.Request) {
	q := audit.Query{SignalID: r.URL.Query().Get("signal"), Actor: r.URL.Query().Get("actor")}
	if q.SignalID == "" && q.Actor == "" {
		writeProblem(w, r, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", "signal", "required", "give signal, actor or both"))
		return
	}
	if q.SignalID != "" {
		if _, err := uuid.Parse(q.SignalID); err != nil {
			writeProblem(w, r, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", "signal", "invalid", "signal must be a UUID"))
			return
		}
	}
	if len(q.Actor) > 128 {
		writeProblem(w, r, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", "actor", "too_long", "actor must be at most 128 bytes"))
		return
	}
	if after := r.URL.Query().Get("after"); after != "" {
		n, err := strconv.ParseUint(after, 10, 64)
		if err != nil {
			writeProblem(w, r, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", "after", "invalid", "after must be a sequence number"))
			return
		}
		q.After = n
	}
	if prob := s.record(r, actionAuditQuery, q.SignalID); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	records, err := s.deps.Audit.Find(r.Context(), q)
	if err != nil {
		s.deps.Logger.Error("audit query", zap.Error(err))
		writeProblem(w, r, newProblem(http.StatusServiceUnavailable, "audit-unavailable", "Audit trail unavailable", "the audit trail could not be read; try again"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": records})
}
