package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections/signaldetail"
)

// queryList reads a comma-separated query parameter whose every value
// must pass valid.
func queryList[T ~string](q url.Values, name string, valid func(T) bool) ([]T, *Problem) {
	raw := q.Get(name)
	if raw == "" {
		return nil, nil
	}
	var out []T
	for _, part := range strings.Split(raw, ",") {
		v := T(strings.TrimSpace(part))
		if !valid(v) {
			return nil, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", name, "invalid", "unknown value "+strconv.Quote(string(v))+" for "+name)
		}
		out = append(out, v)
	}
	return out, nil
}

func queryInt(q url.Values, name string, def, lo, hi int) (int, *Problem) {
	raw := q.Get(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", name, "invalid", name+" must be a whole number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
	}
	return n, nil
}

func queryBool(q url.Values, name string) (bool, *Problem) {
	switch q.Get(name) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", name, "invalid", name+" must be true or false")
}

// knownParams refuses parameters a route does not read, so that a typo
// does not silently widen a list.
func knownParams(q url.Values, names ...string) *Problem {
	for k := range q {
		if !slices.Contains(names, k) {
			return fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", k, "unknown", "unknown query parameter "+strconv.Quote(k))
		}
	}
	return nil
}

// getTriage answers GET /api/v1/triage: the caller's organisation's board.
func (s *Server) getTriage(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	f, prob := parseTriageFilter(r.URL.Query())
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	if prob := s.record(r, "triage.list", ""); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	rows, total, err := s.deps.Signals.Triage(r.Context(), p.Organisation, f, s.deps.Commands.Now())
	if err != nil {
		writeProblem(w, r, s.commandProblem(r, err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"organisation": p.Organisation, "total": total, "offset": f.Offset, "limit": f.Limit, "signals": rows})
}

// parseTriageFilter reads the triage board's query: every parameter
// known, every value valid, else a problem naming the parameter.
func parseTriageFilter(q url.Values) (signaldetail.TriageFilter, *Problem) {
	var f signaldetail.TriageFilter
	if prob := knownParams(q, "status", "kind", "harm", "category", "overdue", "deadline", "sort", "limit", "offset"); prob != nil {
		return f, prob
	}
	var prob *Problem
	if f.Statuses, prob = queryList(q, "status", func(st domain.Status) bool { return slices.Contains(domain.Statuses(), st) }); prob != nil {
		return f, prob
	}
	if f.Kinds, prob = queryList(q, "kind", domain.Kind.Valid); prob != nil {
		return f, prob
	}
	if f.Harms, prob = queryList(q, "harm", domain.Harm.Valid); prob != nil {
		return f, prob
	}
	if f.Categories, prob = queryList(q, "category", domain.Category.Valid); prob != nil {
		return f, prob
	}
	if f.Overdue, prob = queryBool(q, "overdue"); prob != nil {
		return f, prob
	}
	switch q.Get("deadline") {
	case "":
	case "pending":
		f.DeadlinePending = true
	default:
		return f, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", "deadline", "invalid", "deadline must be pending")
	}
	if f.Sort = q.Get("sort"); f.Sort != "" && !slices.Contains(signaldetail.TriageSorts(), f.Sort) {
		return f, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", "sort", "invalid", "sort must be one of "+strings.Join(signaldetail.TriageSorts(), ", "))
	}
	if f.Limit, prob = queryInt(q, "limit", 50, 1, 500); prob != nil {
		return f, prob
	}
	if f.Offset, prob = queryInt(q, "offset", 0, 0, 1_000_000); prob != nil {
		return f, prob
	}
	return f, nil
}

// getEscalations answers GET /api/v1/escalations: what was escalated to
// the caller's organisation, specialty and region.
func (s *Server) getEscalations(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	if prob := knownParams(r.URL.Query()); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	if prob := s.record(r, "escalations.list", ""); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	items, err := s.deps.Signals.EscalationsFor(r.Context(), recipientOf(p))
	if err != nil {
		writeProblem(w, r, s.commandProblem(r, err))
		return
	}
	if items == nil {
		items = []signaldetail.EscalationItem{}
	}
	// Escalations go beyond the signal's organisation: personal numbers
	// in what was written for colleagues are masked.
	for i := range items {
		items[i].Message, items[i].Summary = maskIdentifiers(items[i].Message), maskIdentifiers(items[i].Summary)
	}
	writeJSON(w, http.StatusOK, map[string]any{"escalations": items})
}

// mySignal is a signal in its reporter's own list.
type mySignal struct {
	ID string `json:"id"`
	// Version is the signal's ETag value, for If-Match on a reply.
	Version    int            `json:"version"`
	Status     string         `json:"status"`
	Kind       string         `json:"kind"`
	Category   string         `json:"category"`
	ReportedAt string         `json:"reportedAt"`
	UpdatedAt  string         `json:"updatedAt"`
	Feedback   []feedbackView `json:"feedback"`
	Questions  []questionView `json:"questions"`
}

// getMySignals answers GET /api/v1/me/signals: the caller's named signals
// with their status and every feedback message.
func (s *Server) getMySignals(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	if prob := knownParams(r.URL.Query()); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	if prob := s.record(r, "signals.mine", ""); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	views, err := s.deps.Signals.ReportedBy(r.Context(), p.Subject)
	if err != nil {
		writeProblem(w, r, s.commandProblem(r, err))
		return
	}
	out := make([]mySignal, 0, len(views))
	for _, v := range views {
		full := present(p, v, s.deps.Commands.Now())
		out = append(out, mySignal{ID: v.ID.String(), Version: v.Version, Status: full.Status, Kind: full.Kind, Category: full.Category,
			ReportedAt: v.ReportedAt.Format("2006-01-02T15:04:05Z07:00"), UpdatedAt: v.UpdatedAt.Format("2006-01-02T15:04:05Z07:00"), Feedback: full.Feedback, Questions: full.Questions})
	}
	writeJSON(w, http.StatusOK, map[string]any{"signals": out})
}

// getServiceLevels answers GET /api/v1/service-levels: median time to
// acknowledge and to first feedback of the caller's organisation (admins
// name one with ?organisation=).
func (s *Server) getServiceLevels(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	q := r.URL.Query()
	if prob := knownParams(q, "organisation"); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	org := p.Organisation
	if p.Role == auth.RoleAdmin {
		org = q.Get("organisation")
		if org == "" {
			writeProblem(w, r, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", "organisation", "required", "name the organisation"))
			return
		}
	} else if q.Has("organisation") && q.Get("organisation") != org {
		writeProblem(w, r, fieldProblem(http.StatusForbidden, "forbidden", "Forbidden", "organisation", "forbidden", "you see your own organisation's service levels only"))
		return
	}
	sl, err := s.deps.Signals.ServiceLevels(r.Context(), org)
	if err != nil {
		writeProblem(w, r, s.commandProblem(r, err))
		return
	}
	writeJSON(w, http.StatusOK, sl)
}
