package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/safesignal/safesignal/domain"
)

// fileData is the filing form's model.
type fileData struct {
	Form     url.Values
	Key      string
	Warnings []warning
	Checked  bool
}

type warning struct {
	Field string `json:"field"`
	Kind  string `json:"kind"`
}

func (h *Handler) fileForm(w http.ResponseWriter, r *http.Request, s session) {
	form := url.Values{
		"specialty": {s.p.Specialty}, "region": {s.p.Region},
		"date": {time.Now().Format(time.DateOnly)}, "kind": {""}, "harm": {"none"},
	}
	h.render(w, r, http.StatusOK, "file", "file.title", Page{Data: fileData{Form: form, Key: randomToken()}})
}

func (h *Handler) fileSubmit(w http.ResponseWriter, r *http.Request, s session) {
	c := chooseLanguage(r)
	f := r.PostForm
	d := fileData{Form: f, Key: f.Get("key")}
	if d.Key == "" {
		d.Key = randomToken()
	}
	if f.Get("action") == "check" {
		res := h.call(r.Context(), r, s, http.MethodPost, "/api/v1/text-checks", map[string]string{"description": f.Get("description"), "immediateActions": f.Get("immediateActions")}, nil)
		var body struct {
			Warnings []warning `json:"warnings"`
		}
		if !res.ok() || res.decode(&body) != nil {
			h.render(w, r, res.status, "file", "file.title", Page{Errors: problemMessages(c, res), Data: d})
			return
		}
		d.Warnings, d.Checked = body.Warnings, true
		h.render(w, r, http.StatusOK, "file", "file.title", Page{Data: d})
		return
	}
	occurred, ok := occurredAt(f.Get("date"), f.Get("time"))
	if !ok {
		h.render(w, r, http.StatusUnprocessableEntity, "file", "file.title", Page{Errors: []string{c.T("problem.validation"), c.T("field.occurredAt") + ": " + c.T("code.invalid")}, Data: d})
		return
	}
	harm := f.Get("harm")
	if f.Get("kind") != string(domain.KindHarmfulIncident) {
		harm = string(domain.HarmNone)
	}
	body := map[string]any{
		"region": f.Get("region"), "specialty": f.Get("specialty"), "occurredAt": occurred.Format(time.RFC3339),
		"kind": f.Get("kind"), "category": f.Get("category"), "harm": harm,
		"description": f.Get("description"), "immediateActions": f.Get("immediateActions"),
		"language": c.lang, "peerSupportRequested": f.Get("peerSupport") == "on", "anonymous": f.Get("anonymous") == "on",
	}
	res := h.call(r.Context(), r, s, http.MethodPost, "/api/v1/signals", body, map[string]string{"Idempotency-Key": d.Key})
	if !res.ok() {
		h.render(w, r, res.status, "file", "file.title", Page{Errors: problemMessages(c, res), Data: d})
		return
	}
	var out struct {
		ID                   string    `json:"id"`
		Warnings             []warning `json:"warnings"`
		Receipt              string    `json:"receipt"`
		PeerSupportRequested bool      `json:"peerSupportRequested"`
	}
	_ = res.decode(&out)
	// The receipt code of an anonymous filing is shown here once; the
	// server keeps only its hash.
	h.render(w, r, http.StatusCreated, "filed", "filed.title", Page{Data: map[string]any{
		"ID": out.ID, "Warnings": out.Warnings, "Anonymous": f.Get("anonymous") == "on", "Receipt": out.Receipt,
		"PeerSupport": out.PeerSupportRequested, "PeerAsked": f.Get("peerSupport") == "on",
		"CanSeeMine": h.allowed(s.p.Role, screenMine.method, screenMine.pattern),
		"CanAskPeer": h.allowed(s.p.Role, screenPeer.method, screenPeer.pattern),
	}})
}

// occurredAt reads the form's date and optional time in the server's
// zone; a moment a few hours ahead (another zone) becomes now.
func occurredAt(date, clock string) (time.Time, bool) {
	if clock == "" {
		clock = "12:00"
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, time.Local)
	if err != nil {
		return time.Time{}, false
	}
	if now := time.Now(); t.After(now) {
		if t.Sub(now) > 14*time.Hour {
			return time.Time{}, false
		}
		t = now
	}
	return t, true
}

// mySignal is one of the reporter's named signals with its dialogue.
type mySignal struct {
	ID         string `json:"id"`
	Version    int    `json:"version"`
	Status     string `json:"status"`
	Kind       string `json:"kind"`
	Category   string `json:"category"`
	ReportedAt string `json:"reportedAt"`
	UpdatedAt  string `json:"updatedAt"`
	Feedback   []struct {
		Message string    `json:"message"`
		SentAt  time.Time `json:"sentAt"`
	} `json:"feedback"`
	Questions []questionView `json:"questions"`
}

func (h *Handler) mine(w http.ResponseWriter, r *http.Request, s session) {
	h.showMine(w, r, s, http.StatusOK, nil)
}

func (h *Handler) showMine(w http.ResponseWriter, r *http.Request, s session, status int, errs []string) {
	c := chooseLanguage(r)
	res := h.call(r.Context(), r, s, http.MethodGet, "/api/v1/me/signals", nil, nil)
	var body struct {
		Signals []mySignal `json:"signals"`
	}
	if !res.ok() || res.decode(&body) != nil {
		h.render(w, r, res.status, "error", "error.title", Page{Errors: problemMessages(c, res)})
		return
	}
	h.render(w, r, status, "mine", "mine.title", Page{Notice: noticeOf(c, r), Errors: errs, Data: map[string]any{
		"Signals": body.Signals, "Key": randomToken(),
		"CanReply":   h.allowed(s.p.Role, http.MethodPost, "/api/v1/signals/{id}/"+domain.CommandReply),
		"CanAskPeer": h.allowed(s.p.Role, screenPeer.method, screenPeer.pattern),
	}})
}

// triageRow is one row of the triage board.
type triageRow struct {
	ID                   string     `json:"id"`
	Status               string     `json:"status"`
	Kind                 string     `json:"kind"`
	Category             string     `json:"category"`
	Harm                 string     `json:"harm"`
	Specialty            string     `json:"specialty"`
	ReportedAt           time.Time  `json:"reportedAt"`
	AgeSeconds           int64      `json:"ageSeconds"`
	DeadlineDueAt        *time.Time `json:"deadlineDueAt"`
	DeadlineOverdue      bool       `json:"deadlineOverdue"`
	Escalations          int        `json:"escalations"`
	OpenEscalations      int        `json:"openEscalations"`
	PeerSupportRequested bool       `json:"peerSupportRequested"`
}

func (h *Handler) triage(w http.ResponseWriter, r *http.Request, s session) {
	c := chooseLanguage(r)
	in := r.URL.Query()
	q := url.Values{}
	for _, name := range []string{"status", "kind", "harm", "category"} {
		if v := in[name]; len(v) > 0 && v[0] != "" {
			q.Set(name, strings.Join(v, ","))
		}
	}
	if in.Get("overdue") == "on" {
		q.Set("overdue", "true")
	}
	if q.Get("status") == "" && !in.Has("filtered") {
		q.Set("status", "reported,acknowledged")
		in["status"] = []string{"reported", "acknowledged"}
	}
	q.Set("limit", "100")
	res := h.call(r.Context(), r, s, http.MethodGet, "/api/v1/triage?"+q.Encode(), nil, nil)
	var body struct {
		Total   int         `json:"total"`
		Signals []triageRow `json:"signals"`
	}
	if !res.ok() || res.decode(&body) != nil {
		h.render(w, r, res.status, "triage", "triage.title", Page{Errors: problemMessages(c, res), Data: map[string]any{"Filter": in}})
		return
	}
	h.render(w, r, http.StatusOK, "triage", "triage.title", Page{Notice: noticeOf(c, r), Data: map[string]any{"Filter": in, "Rows": body.Signals, "Total": body.Total,
		"CanExport": h.allowed(s.p.Role, screenExport.method, screenExport.pattern)}})
}

func noticeOf(c *catalogue, r *http.Request) string {
	if d := r.URL.Query().Get("done"); d != "" && c.has("cmd."+d) {
		return c.F("notice.done", c.T("cmd."+d))
	}
	return ""
}

// signalView is the part of the API's signal the page shows.
type signalView struct {
	ID                   string     `json:"id"`
	Version              int        `json:"version"`
	Status               string     `json:"status"`
	Organisation         string     `json:"organisation"`
	Region               string     `json:"region"`
	Specialty            string     `json:"specialty"`
	OccurredAt           time.Time  `json:"occurredAt"`
	Kind                 string     `json:"kind"`
	Category             string     `json:"category"`
	Harm                 string     `json:"harm"`
	Description          string     `json:"description"`
	ImmediateActions     string     `json:"immediateActions"`
	Language             string     `json:"language"`
	PeerSupportRequested bool       `json:"peerSupportRequested"`
	Anonymous            bool       `json:"anonymous"`
	Reporter             string     `json:"reporter"`
	ReportedAt           time.Time  `json:"reportedAt"`
	AcknowledgedAt       *time.Time `json:"acknowledgedAt"`
	ContributingFactors  []string   `json:"contributingFactors"`
	Reportable           bool       `json:"reportable"`
	Feedback             []struct {
		Message string    `json:"message"`
		SentAt  time.Time `json:"sentAt"`
	} `json:"feedback"`
	Questions   []questionView `json:"questions"`
	Escalations []struct {
		ID      string `json:"id"`
		Message string `json:"message"`
		Summary string `json:"summary"`
		Targets struct {
			Specialties   []string `json:"specialties"`
			Regions       []string `json:"regions"`
			Organisations []string `json:"organisations"`
		} `json:"targets"`
		EscalatedAt time.Time `json:"escalatedAt"`
	} `json:"escalations"`
	Closure *struct {
		Outcome string `json:"outcome"`
		Summary string `json:"summary"`
	} `json:"closure"`
}

type historyEvent struct {
	Type       string          `json:"type"`
	Version    int             `json:"version"`
	OccurredAt time.Time       `json:"occurredAt"`
	Actor      string          `json:"actor"`
	Data       json.RawMessage `json:"data"`
}

// commandsFor lists the lifecycle commands a status allows, in the order
// a safety officer uses them (docs/LIFECYCLE.md).
func commandsFor(status string) []string {
	switch domain.Status(status) {
	case domain.StatusReported:
		return []string{"acknowledge", "feedback", "ask", "reject", "link-duplicate"}
	case domain.StatusAcknowledged:
		return []string{"classify", "escalate", "feedback", "ask", "record-regulator-notification", "close", "reject", "link-duplicate"}
	case domain.StatusRejected, domain.StatusDuplicate, domain.StatusClosed:
		return []string{"feedback", "ask", "reopen"}
	}
	return nil
}

func (h *Handler) signal(w http.ResponseWriter, r *http.Request, s session) {
	h.showSignal(w, r, s, http.StatusOK, nil)
}

func (h *Handler) showSignal(w http.ResponseWriter, r *http.Request, s session, status int, errs []string) {
	c := chooseLanguage(r)
	id := r.PathValue("id")
	res := h.call(r.Context(), r, s, http.MethodGet, "/api/v1/signals/"+url.PathEscape(id), nil, nil)
	var v signalView
	if !res.ok() || res.decode(&v) != nil {
		h.render(w, r, res.status, "error", "error.title", Page{Errors: problemMessages(c, res)})
		return
	}
	data := map[string]any{"S": v, "Form": r.PostForm, "Key": randomToken()}
	if h.allowed(s.p.Role, http.MethodGet, "/api/v1/signals/{id}/history") {
		hres := h.call(r.Context(), r, s, http.MethodGet, "/api/v1/signals/"+url.PathEscape(id)+"/history", nil, nil)
		var hist struct {
			Events []historyEvent `json:"events"`
		}
		if hres.ok() && hres.decode(&hist) == nil {
			data["History"] = hist.Events
		}
	}
	var cmds []string
	for _, cmd := range commandsFor(v.Status) {
		if h.allowed(s.p.Role, http.MethodPost, "/api/v1/signals/{id}/"+cmd) {
			cmds = append(cmds, cmd)
		}
	}
	data["Commands"] = cmds
	data["CanTriage"] = h.allowed(s.p.Role, screenTriage.method, screenTriage.pattern)
	// A lesson is drawn from a signal of the officer's own organisation.
	data["CanPublish"] = v.Organisation == s.p.Organisation && h.allowed(s.p.Role, screenPublish.method, screenPublish.pattern)
	h.render(w, r, status, "signal", "signal.title", Page{Notice: noticeOf(c, r), Errors: errs, Data: data})
}

// command sends one lifecycle command from a form to the API with the
// version the form was rendered at (If-Match).
func (h *Handler) command(w http.ResponseWriter, r *http.Request) {
	s, ok := h.session(r)
	if !ok {
		http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
		return
	}
	c := chooseLanguage(r)
	id, cmd := r.PathValue("id"), r.PathValue("command")
	if !c.has("cmd."+cmd) || !h.allowed(s.p.Role, http.MethodPost, "/api/v1/signals/{id}/"+cmd) {
		h.errorPage(w, r, http.StatusForbidden, "error.forbidden")
		return
	}
	f := r.PostForm
	body := commandBody(cmd, f)
	res := h.call(r.Context(), r, s, http.MethodPost, "/api/v1/signals/"+url.PathEscape(id)+"/"+cmd, body,
		map[string]string{"If-Match": `"` + f.Get("version") + `"`, "Idempotency-Key": f.Get("key")})
	back := "/ui/signals/" + url.PathEscape(id)
	switch f.Get("from") {
	case "inbox":
		back = "/ui/escalations"
	case "mine":
		back = "/ui/mine"
	}
	if !res.ok() {
		switch f.Get("from") {
		case "inbox":
			h.showInbox(w, r, s, res.status, problemMessages(c, res))
		case "mine":
			h.showMine(w, r, s, res.status, problemMessages(c, res))
		default:
			h.showSignal(w, r, s, res.status, problemMessages(c, res))
		}
		return
	}
	http.Redirect(w, r, back+"?done="+url.QueryEscape(cmd), http.StatusSeeOther)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// commandBody builds the API body of a command from its form.
func commandBody(cmd string, f url.Values) map[string]any {
	switch cmd {
	case "classify":
		harm := f.Get("harm")
		if f.Get("kind") != string(domain.KindHarmfulIncident) {
			harm = string(domain.HarmNone)
		}
		factors := f["factor"]
		if factors == nil {
			factors = []string{}
		}
		return map[string]any{"kind": f.Get("kind"), "category": f.Get("category"), "harm": harm, "contributingFactors": factors, "reportable": f.Get("reportable") == "on", "note": f.Get("note")}
	case "reject":
		return map[string]any{"reason": f.Get("reason"), "text": f.Get("text")}
	case "link-duplicate":
		return map[string]any{"duplicateOf": f.Get("duplicateOf"), "note": f.Get("note")}
	case "escalate":
		specs := f["specialties"]
		if specs == nil {
			specs = []string{}
		}
		regions, orgs := splitList(f.Get("regions")), splitList(f.Get("organisations"))
		if regions == nil {
			regions = []string{}
		}
		if orgs == nil {
			orgs = []string{}
		}
		return map[string]any{"targets": map[string]any{"specialties": specs, "regions": regions, "organisations": orgs}, "message": f.Get("message"), "summary": f.Get("summary")}
	case "acknowledge-escalation":
		return map[string]any{"escalationId": f.Get("escalationId")}
	case "respond-escalation":
		return map[string]any{"escalationId": f.Get("escalationId"), "response": f.Get("response"), "text": f.Get("text")}
	case "feedback":
		return map[string]any{"message": f.Get("message")}
	case "ask":
		return map[string]any{"question": f.Get("question")}
	case "reply":
		return map[string]any{"questionId": f.Get("questionId"), "reply": f.Get("reply")}
	case "close":
		return map[string]any{"outcome": f.Get("outcome"), "summary": f.Get("summary")}
	case "reopen":
		return map[string]any{"reason": f.Get("reason")}
	case "record-regulator-notification":
		at := f.Get("notifiedAt")
		if t, err := time.ParseInLocation(time.DateOnly, at, time.Local); err == nil {
			if t.After(time.Now()) {
				t = time.Now()
			}
			at = t.Format(time.RFC3339)
		}
		return map[string]any{"reference": f.Get("reference"), "notifiedAt": at}
	}
	// acknowledge: an empty object.
	return map[string]any{}
}

// inboxItem is one escalation in the inbox.
type inboxItem struct {
	SignalID     string    `json:"signalId"`
	Version      int       `json:"version"`
	EscalationID string    `json:"escalationId"`
	From         string    `json:"fromOrganisation"`
	FromRegion   string    `json:"fromRegion"`
	Specialty    string    `json:"specialty"`
	Kind         string    `json:"kind"`
	Category     string    `json:"category"`
	Harm         string    `json:"harm"`
	Message      string    `json:"message"`
	Summary      string    `json:"summary"`
	EscalatedAt  time.Time `json:"escalatedAt"`
	State        string    `json:"state"`
	Mine         *struct {
		AcknowledgedAt *time.Time `json:"acknowledgedAt"`
		Response       string     `json:"response"`
		Text           string     `json:"text"`
	} `json:"myAnswer"`
}

func (h *Handler) inbox(w http.ResponseWriter, r *http.Request, s session) {
	h.showInbox(w, r, s, http.StatusOK, nil)
}

func (h *Handler) showInbox(w http.ResponseWriter, r *http.Request, s session, status int, errs []string) {
	c := chooseLanguage(r)
	res := h.call(r.Context(), r, s, http.MethodGet, "/api/v1/escalations", nil, nil)
	var body struct {
		Escalations []inboxItem `json:"escalations"`
	}
	if !res.ok() || res.decode(&body) != nil {
		h.render(w, r, res.status, "error", "error.title", Page{Errors: problemMessages(c, res)})
		return
	}
	h.render(w, r, status, "inbox", "inbox.title", Page{Notice: noticeOf(c, r), Errors: errs, Data: map[string]any{"Items": body.Escalations, "Key": randomToken()}})
}

// trendQuery is the dashboard's query from its form.
func trendQuery(in url.Values) (dim, period string, filters url.Values) {
	dim = in.Get("by")
	switch dim {
	case "kind", "harm", "specialty", "region", "category":
	default:
		dim = "category"
	}
	period = in.Get("period")
	if period != "week" {
		period = "month"
	}
	filters = url.Values{}
	for _, name := range []string{"from", "to"} {
		if v := in.Get(name); v != "" {
			filters.Set(name, v)
		}
	}
	return dim, period, filters
}

type trendCell struct {
	Label      string
	Count      int
	Suppressed bool
}

func (h *Handler) trends(w http.ResponseWriter, r *http.Request, s session) {
	c := chooseLanguage(r)
	dim, period, filters := trendQuery(r.URL.Query())
	byDim, byPeriod := url.Values{}, url.Values{}
	for k, v := range filters {
		byDim[k], byPeriod[k] = v, v
	}
	byDim.Set("groupBy", dim)
	byPeriod.Set("groupBy", "period")
	byPeriod.Set("period", period)
	data := map[string]any{"By": dim, "Period": period, "From": filters.Get("from"), "To": filters.Get("to"),
		"CSV": "/ui/trends.csv?" + r.URL.Query().Encode()}
	var errs []string
	var k int
	for _, q := range []struct {
		name string
		v    url.Values
		dim  string
	}{{"Bars", byDim, dim}, {"Line", byPeriod, "period"}} {
		res := h.call(r.Context(), r, s, http.MethodGet, "/api/v1/trends?"+q.v.Encode(), nil, nil)
		var body struct {
			K     int              `json:"k"`
			Cells []map[string]any `json:"cells"`
		}
		if !res.ok() || res.decode(&body) != nil {
			errs = problemMessages(c, res)
			continue
		}
		k = body.K
		cells := make([]trendCell, 0, len(body.Cells))
		for _, cell := range body.Cells {
			key, _ := cell[q.dim].(string)
			label := key
			if q.dim != "period" && q.dim != "region" {
				label = c.T(q.dim + "." + key)
			}
			n, _ := cell["count"].(float64)
			sup, _ := cell["suppressed"].(bool)
			cells = append(cells, trendCell{Label: label, Count: int(n), Suppressed: sup})
		}
		data[q.name] = cells
		if q.name == "Bars" {
			data["BarsSVG"] = barChart(cells, c.T("trends.suppressed"), c.F("trends.chart.by", c.T("trends.by."+dim)))
		} else {
			data["LineSVG"] = lineChart(cells, c.T("trends.suppressed"), c.T("trends.chart.period"))
		}
	}
	data["K"] = k
	h.render(w, r, http.StatusOK, "trends", "trends.title", Page{Errors: errs, Data: data})
}

// trendsCSV hands the API's CSV of the dashboard's first query through.
func (h *Handler) trendsCSV(w http.ResponseWriter, r *http.Request, s session) {
	c := chooseLanguage(r)
	dim, period, filters := trendQuery(r.URL.Query())
	filters.Set("groupBy", dim+",period")
	filters.Set("period", period)
	res := h.call(r.Context(), r, s, http.MethodGet, "/api/v1/trends?"+filters.Encode(), nil, map[string]string{"Accept": "text/csv"})
	if !res.ok() {
		h.render(w, r, res.status, "error", "error.title", Page{Errors: problemMessages(c, res)})
		return
	}
	w.Header().Set("Content-Type", res.header.Get("Content-Type"))
	w.Header().Set("Content-Disposition", `attachment; filename="safesignal-trends-`+dim+`-`+strconv.Itoa(time.Now().Year())+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(res.body)
}
