package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/safesignal/safesignal/adapters/httpapi"
)

// The administrator's screens: the audit trail and erasure. Both call the
// API like every other screen, so its access table, validation and audit
// apply unchanged.

// auditLimit is the most records the API answers at once.
const auditLimit = 1000

// auditRecord is the part of an audit record the page shows.
type auditRecord struct {
	Time         time.Time `json:"time"`
	Actor        string    `json:"actor"`
	Role         string    `json:"role"`
	Organisation string    `json:"organisation"`
	OnBehalfOf   string    `json:"onBehalfOf"`
	Action       string    `json:"action"`
	SignalID     string    `json:"signalId"`
	// Query is what a read of many signals (an export) selected.
	Query string `json:"query"`
}

// auditRow is one line of the audit table, translated.
type auditRow struct {
	auditRecord
	ActorLabel, RoleLabel, ActionLabel string
}

// actionLabel names an audited action in the user's language; a lifecycle
// command ("signal.<command>") is named as its button is.
func actionLabel(c *catalogue, action string) string {
	if c.has("auditaction." + action) {
		return c.T("auditaction." + action)
	}
	if cmd, ok := strings.CutPrefix(action, "signal."); ok && c.has("cmd."+cmd) {
		return c.T("cmd." + cmd)
	}
	return action
}

// roleLabel names a role, or the receipt holder's pseudo-role.
func roleLabel(c *catalogue, role string) string {
	for _, k := range []string{"role." + role, "audit.role." + role} {
		if c.has(k) {
			return c.T(k)
		}
	}
	return role
}

// actorLabel names the actors that are not a person's subject.
func actorLabel(c *catalogue, actor string) string {
	if c.has("audit.actor." + actor) {
		return c.T("audit.actor." + actor)
	}
	return actor
}

// AuditActionsUnnamed lists the API's audited actions that have no name in
// lang's catalogue, for the tests.
func AuditActionsUnnamed(lang string) []string {
	c, ok := catalogues[lang]
	if !ok {
		return httpapi.AuditActions()
	}
	var out []string
	for _, a := range httpapi.AuditActions() {
		if actionLabel(c, a) == a {
			out = append(out, a)
		}
	}
	return out
}

// auditTrail answers GET /ui/audit?signal=ID&actor=SUBJECT.
func (h *Handler) auditTrail(w http.ResponseWriter, r *http.Request, s session) {
	c := chooseLanguage(r)
	q := r.URL.Query()
	form := url.Values{"signal": {strings.TrimSpace(q.Get("signal"))}, "actor": {strings.TrimSpace(q.Get("actor"))}}
	data := map[string]any{"Form": form}
	if form.Get("signal") == "" && form.Get("actor") == "" {
		h.render(w, r, http.StatusOK, "audit", "audit.title", Page{Data: data})
		return
	}
	api := url.Values{}
	for _, k := range []string{"signal", "actor"} {
		if v := form.Get(k); v != "" {
			api.Set(k, v)
		}
	}
	res := h.call(r.Context(), r, s, http.MethodGet, "/api/v1/audit?"+api.Encode(), nil, nil)
	var body struct {
		Records []auditRecord `json:"records"`
	}
	if !res.ok() || res.decode(&body) != nil {
		status := res.status
		if res.ok() {
			status = http.StatusBadGateway
		}
		h.render(w, r, status, "audit", "audit.title", Page{Errors: problemMessages(c, res), Data: data})
		return
	}
	rows := make([]auditRow, 0, len(body.Records))
	for _, rec := range slices.Backward(body.Records) {
		rows = append(rows, auditRow{auditRecord: rec, ActorLabel: actorLabel(c, rec.Actor), RoleLabel: roleLabel(c, rec.Role), ActionLabel: actionLabel(c, rec.Action)})
	}
	data["Rows"], data["Searched"], data["More"] = rows, true, len(rows) >= auditLimit
	h.render(w, r, http.StatusOK, "audit", "audit.title", Page{Data: data})
}

// erasureForm answers GET /ui/erasures.
func (h *Handler) erasureForm(w http.ResponseWriter, r *http.Request, _ session) {
	c := chooseLanguage(r)
	notice := ""
	switch r.URL.Query().Get("done") {
	case "content":
		notice = c.T("erase.done.content")
	case "reporter":
		n, err1 := strconv.Atoi(r.URL.Query().Get("n"))
		peer, err2 := strconv.Atoi(r.URL.Query().Get("peer"))
		if err1 == nil && err2 == nil && n >= 0 && peer >= 0 {
			notice = c.F("erase.done.reporter", n, peer)
		}
	}
	h.render(w, r, http.StatusOK, "erase", "erase.title", Page{Notice: notice, Data: map[string]any{"Form": url.Values{}}})
}

// erasureSubmit answers POST /ui/erasures: one signal's text
// (what=signal) or one reporter's identity (what=reporter), after the
// administrator has confirmed that it cannot be undone.
func (h *Handler) erasureSubmit(w http.ResponseWriter, r *http.Request, s session) {
	c := chooseLanguage(r)
	f := r.PostForm
	fail := func(status int, errs []string) {
		h.render(w, r, status, "erase", "erase.title", Page{Errors: errs, Data: map[string]any{"Form": f}})
	}
	var body map[string]any
	switch f.Get("what") {
	case "signal":
		body = map[string]any{"signalId": strings.TrimSpace(f.Get("signalId"))}
	case "reporter":
		body = map[string]any{"reporter": strings.TrimSpace(f.Get("reporter"))}
	default:
		fail(http.StatusUnprocessableEntity, []string{c.T("problem.validation")})
		return
	}
	if f.Get("confirm") != "on" {
		fail(http.StatusUnprocessableEntity, []string{c.T("problem.validation"), c.T("field.confirm") + ": " + c.T("code.required")})
		return
	}
	if id, ok := body["signalId"].(string); ok && id == "" {
		fail(http.StatusUnprocessableEntity, []string{c.T("problem.validation"), c.T("field.signalId") + ": " + c.T("code.required")})
		return
	}
	if rep, ok := body["reporter"].(string); ok && rep == "" {
		fail(http.StatusUnprocessableEntity, []string{c.T("problem.validation"), c.T("erase.reporter.label") + ": " + c.T("code.required")})
		return
	}
	res := h.call(r.Context(), r, s, http.MethodPost, "/api/v1/admin/erasures", body, nil)
	var out struct {
		Erased              string `json:"erased"`
		Signals             int    `json:"signals"`
		PeerSupportRequests int    `json:"peerSupportRequests"`
	}
	if !res.ok() || res.decode(&out) != nil {
		fail(res.status, problemMessages(c, res))
		return
	}
	target := "/ui/erasures?done=content"
	if out.Erased == "reporter" {
		target = "/ui/erasures?done=reporter&n=" + strconv.Itoa(out.Signals) + "&peer=" + strconv.Itoa(out.PeerSupportRequests)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}
