package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/safesignal/safesignal/domain"
)

// The screens of learning across the network (docs/LEARNING.md): the
// lesson library, peer support and the anonymous reporter's follow-up with
// a receipt code.

// lessonText is a lesson's text as the API shows it.
type lessonText struct {
	Title           string `json:"title"`
	WhatHappened    string `json:"whatHappened"`
	WhatWasLearned  string `json:"whatWasLearned"`
	WhatWasChanged  string `json:"whatWasChanged"`
	WhatOthersCanDo string `json:"whatOthersCanDo"`
}

// lessonVersion is the text of a lesson in one language.
type lessonVersion struct {
	Language string `json:"language"`
	lessonText
}

// lessonView is a lesson of the library.
type lessonView struct {
	ID           string `json:"id"`
	Version      int    `json:"version"`
	Kind         string `json:"kind"`
	Organisation string `json:"organisation"`
	FromSignal   bool   `json:"fromSignal"`
	Language     string `json:"language"`
	lessonText
	Category     string          `json:"category"`
	Specialty    string          `json:"specialty"`
	Translations []lessonVersion `json:"translations"`
	AppliedCount int             `json:"appliedCount"`
	AppliedHere  bool            `json:"appliedHere"`
	PublishedAt  time.Time       `json:"publishedAt"`
}

// versions lists the original first, then the translations.
func (l lessonView) versions() []lessonVersion {
	return append([]lessonVersion{{Language: l.Language, lessonText: l.lessonText}}, l.Translations...)
}

// in returns the lesson's text in lang when it has one, else the original.
func (l lessonView) in(lang string) lessonVersion {
	for _, v := range l.versions() {
		if v.Language == lang {
			return v
		}
	}
	return l.versions()[0]
}

// lessonFilters are the library's search fields.
var lessonFilters = []string{"q", "kind", "category", "specialty", "language"}

func (h *Handler) lessons(w http.ResponseWriter, r *http.Request, s session) {
	c := chooseLanguage(r)
	in := r.URL.Query()
	q := url.Values{}
	for _, name := range lessonFilters {
		if v := strings.TrimSpace(in.Get(name)); v != "" {
			q.Set(name, v)
		}
	}
	q.Set("limit", "50")
	data := map[string]any{"Filter": in, "CanPublish": h.allowed(s.p.Role, screenPublish.method, screenPublish.pattern)}
	res := h.call(r.Context(), r, s, http.MethodGet, "/api/v1/lessons?"+q.Encode(), nil, nil)
	var body struct {
		Lessons []lessonView `json:"lessons"`
		Total   int          `json:"total"`
	}
	if !res.ok() || res.decode(&body) != nil {
		h.render(w, r, res.status, "lessons", "lessons.title", Page{Errors: problemMessages(c, res), Data: data})
		return
	}
	items := make([]map[string]any, 0, len(body.Lessons))
	for _, l := range body.Lessons {
		items = append(items, map[string]any{"L": l, "Text": l.in(c.lang)})
	}
	data["Items"], data["Total"] = items, body.Total
	h.render(w, r, http.StatusOK, "lessons", "lessons.title", Page{Data: data})
}

func (h *Handler) lesson(w http.ResponseWriter, r *http.Request, s session) {
	h.showLesson(w, r, s, http.StatusOK, nil)
}

func (h *Handler) showLesson(w http.ResponseWriter, r *http.Request, s session, status int, errs []string) {
	c := chooseLanguage(r)
	id := r.PathValue("id")
	res := h.call(r.Context(), r, s, http.MethodGet, "/api/v1/lessons/"+url.PathEscape(id), nil, nil)
	var l lessonView
	if !res.ok() || res.decode(&l) != nil {
		h.render(w, r, res.status, "error", "error.title", Page{Errors: problemMessages(c, res)})
		return
	}
	show := r.URL.Query().Get("show")
	if show == "" {
		show = c.lang
	}
	shown := l.in(show)
	var others []string
	for _, v := range l.versions() {
		if v.Language != shown.Language {
			others = append(others, v.Language)
		}
	}
	own := l.Organisation == s.p.Organisation
	var missing []string
	for _, lang := range domain.Languages() {
		if string(lang) != l.Language {
			missing = append(missing, string(lang))
		}
	}
	data := map[string]any{
		"L": l, "Shown": shown, "Others": others, "Own": own,
		"CanApply":     !own && s.p.Organisation != "" && !l.AppliedHere && h.allowed(s.p.Role, screenApplied.method, screenApplied.pattern),
		"CanTranslate": own && h.allowed(s.p.Role, screenTranslate.method, screenTranslate.pattern),
		"Languages":    missing, "Form": r.PostForm,
	}
	h.render(w, r, status, "lesson", "lesson.title", Page{Notice: noticeOf(c, r), Errors: errs, Data: data})
}

func (h *Handler) lessonApplied(w http.ResponseWriter, r *http.Request, s session) {
	c := chooseLanguage(r)
	id := r.PathValue("id")
	res := h.call(r.Context(), r, s, http.MethodPost, "/api/v1/lessons/"+url.PathEscape(id)+"/applied", map[string]any{}, nil)
	if !res.ok() {
		h.showLesson(w, r, s, res.status, problemMessages(c, res))
		return
	}
	http.Redirect(w, r, "/ui/lessons/"+url.PathEscape(id)+"?done=mark-lesson-applied", http.StatusSeeOther)
}

func (h *Handler) lessonTranslate(w http.ResponseWriter, r *http.Request, s session) {
	c := chooseLanguage(r)
	id := r.PathValue("id")
	f := r.PostForm
	body := map[string]any{"language": f.Get("language")}
	for k, v := range lessonTextForm(f) {
		body[k] = v
	}
	res := h.call(r.Context(), r, s, http.MethodPost, "/api/v1/lessons/"+url.PathEscape(id)+"/translations", body, nil)
	if !res.ok() {
		h.showLesson(w, r, s, res.status, problemMessages(c, res))
		return
	}
	http.Redirect(w, r, "/ui/lessons/"+url.PathEscape(id)+"?done=translate-lesson&show="+url.QueryEscape(f.Get("language")), http.StatusSeeOther)
}

// lessonTextForm reads a lesson's text fields from a form.
func lessonTextForm(f url.Values) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"title", "whatHappened", "whatWasLearned", "whatWasChanged", "whatOthersCanDo"} {
		out[k] = strings.TrimSpace(f.Get(k))
	}
	return out
}

// lessonForm is the publishing form; ?signal= starts a lesson from one of
// the organisation's signals, with its category and specialty.
func (h *Handler) lessonForm(w http.ResponseWriter, r *http.Request, s session) {
	c := chooseLanguage(r)
	form := url.Values{"kind": {domain.LessonGoodPractice}, "language": {c.lang}, "specialty": {s.p.Specialty}}
	if id := r.URL.Query().Get("signal"); id != "" {
		form.Set("kind", domain.LessonFromSignal)
		form.Set("signalId", id)
		if h.allowed(s.p.Role, screenSignal.method, screenSignal.pattern) {
			res := h.call(r.Context(), r, s, http.MethodGet, "/api/v1/signals/"+url.PathEscape(id), nil, nil)
			var v signalView
			if res.ok() && res.decode(&v) == nil {
				form.Set("category", v.Category)
				form.Set("specialty", v.Specialty)
			}
		}
	}
	h.render(w, r, http.StatusOK, "publish", "publish.title", Page{Data: map[string]any{"Form": form}})
}

func (h *Handler) lessonPublish(w http.ResponseWriter, r *http.Request, s session) {
	c := chooseLanguage(r)
	f := r.PostForm
	body := map[string]any{"kind": f.Get("kind"), "language": f.Get("language"), "category": f.Get("category"), "specialty": f.Get("specialty")}
	if f.Get("kind") == domain.LessonFromSignal {
		body["signalId"] = strings.TrimSpace(f.Get("signalId"))
	}
	for k, v := range lessonTextForm(f) {
		body[k] = v
	}
	res := h.call(r.Context(), r, s, http.MethodPost, "/api/v1/lessons", body, nil)
	var out struct {
		ID string `json:"id"`
	}
	if !res.ok() || res.decode(&out) != nil {
		h.render(w, r, res.status, "publish", "publish.title", Page{Errors: problemMessages(c, res), Data: map[string]any{"Form": f}})
		return
	}
	http.Redirect(w, r, "/ui/lessons/"+url.PathEscape(out.ID)+"?done=publish-lesson", http.StatusSeeOther)
}

// Peer support.

func (h *Handler) peerForm(w http.ResponseWriter, r *http.Request, s session) {
	h.render(w, r, http.StatusOK, "peer", "peer.title", Page{Data: map[string]any{"Form": url.Values{}}})
}

func (h *Handler) peerSubmit(w http.ResponseWriter, r *http.Request, s session) {
	c := chooseLanguage(r)
	f := r.PostForm
	body := map[string]string{"contact": strings.TrimSpace(f.Get("contact")), "message": strings.TrimSpace(f.Get("message"))}
	res := h.call(r.Context(), r, s, http.MethodPost, "/api/v1/peer-support", body, nil)
	if !res.ok() {
		h.render(w, r, res.status, "peer", "peer.title", Page{Errors: problemMessages(c, res), Data: map[string]any{"Form": f}})
		return
	}
	h.render(w, r, http.StatusCreated, "peer", "peer.title", Page{Data: map[string]any{"Sent": true}})
}

// peerItem is a request in the peer supporters' inbox.
type peerItem struct {
	ID             string     `json:"id"`
	Requester      string     `json:"requester"`
	Contact        string     `json:"contact"`
	Message        string     `json:"message"`
	Source         string     `json:"source"`
	RequestedAt    time.Time  `json:"requestedAt"`
	AcknowledgedAt *time.Time `json:"acknowledgedAt"`
	AcknowledgedBy string     `json:"acknowledgedBy"`
	// RequesterErased: the requester was erased (GDPR); name, contact
	// and message are gone.
	RequesterErased bool `json:"requesterErased"`
	// SupporterErased: the supporter who took it up was erased.
	SupporterErased bool `json:"supporterErased"`
}

func (h *Handler) peerInbox(w http.ResponseWriter, r *http.Request, s session) {
	h.showPeerInbox(w, r, s, http.StatusOK, nil)
}

func (h *Handler) showPeerInbox(w http.ResponseWriter, r *http.Request, s session, status int, errs []string) {
	c := chooseLanguage(r)
	res := h.call(r.Context(), r, s, http.MethodGet, "/api/v1/peer-support/inbox", nil, nil)
	var body struct {
		Requests []peerItem `json:"requests"`
	}
	if !res.ok() || res.decode(&body) != nil {
		h.render(w, r, res.status, "error", "error.title", Page{Errors: problemMessages(c, res)})
		return
	}
	h.render(w, r, status, "peerinbox", "peerinbox.title", Page{Notice: noticeOf(c, r), Errors: errs, Data: map[string]any{
		"Items": body.Requests, "CanAcknowledge": h.allowed(s.p.Role, screenPeerAck.method, screenPeerAck.pattern)}})
}

func (h *Handler) peerAcknowledge(w http.ResponseWriter, r *http.Request, s session) {
	c := chooseLanguage(r)
	res := h.call(r.Context(), r, s, http.MethodPost, "/api/v1/peer-support/"+url.PathEscape(r.PathValue("id"))+"/acknowledge", map[string]any{}, nil)
	if !res.ok() {
		h.showPeerInbox(w, r, s, res.status, problemMessages(c, res))
		return
	}
	http.Redirect(w, r, "/ui/peer-support/inbox?done=acknowledge-peer-support", http.StatusSeeOther)
}

// The anonymous follow-up. The receipt code is read from POST forms only,
// sent to the API in the body, and written back only into the page's own
// reply forms (never into a URL, a cookie or a log).

// receiptView is what the API shows the holder of a receipt code.
type receiptView struct {
	Status     string    `json:"status"`
	ReportedAt time.Time `json:"reportedAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
	Feedback   []struct {
		Message string    `json:"message"`
		SentAt  time.Time `json:"sentAt"`
	} `json:"feedback"`
	Questions []questionView `json:"questions"`
}

// questionView is a question to the reporter with its reply.
type questionView struct {
	ID        string     `json:"id"`
	Question  string     `json:"question"`
	AskedAt   time.Time  `json:"askedAt"`
	Reply     string     `json:"reply"`
	RepliedAt *time.Time `json:"repliedAt"`
}

func (h *Handler) receiptForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "receipt", "receipt.title", Page{})
}

func (h *Handler) receiptShow(w http.ResponseWriter, r *http.Request) {
	h.showReceipt(w, r, "", nil)
}

// showReceipt looks the code of the form up and shows the signal's status
// and dialogue, or the form again with the API's refusal.
func (h *Handler) showReceipt(w http.ResponseWriter, r *http.Request, notice string, errs []string) {
	c := chooseLanguage(r)
	code := strings.TrimSpace(r.PostFormValue("receipt"))
	res := h.call(r.Context(), r, session{}, http.MethodPost, "/api/v1/receipts/signal", map[string]string{"receipt": code}, nil)
	var v receiptView
	if !res.ok() || res.decode(&v) != nil {
		msgs := problemMessages(c, res)
		if res.status == http.StatusNotFound || res.status == http.StatusUnprocessableEntity {
			msgs = []string{c.T("receipt.unknown")}
		}
		h.render(w, r, res.status, "receipt", "receipt.title", Page{Errors: append(errs, msgs...)})
		return
	}
	h.render(w, r, http.StatusOK, "receipt", "receipt.title", Page{Notice: notice, Errors: errs, Data: map[string]any{"V": v, "Code": code}})
}

func (h *Handler) receiptReply(w http.ResponseWriter, r *http.Request) {
	c := chooseLanguage(r)
	f := r.PostForm
	body := map[string]string{"receipt": strings.TrimSpace(f.Get("receipt")), "questionId": f.Get("questionId"), "reply": strings.TrimSpace(f.Get("reply"))}
	res := h.call(r.Context(), r, session{}, http.MethodPost, "/api/v1/receipts/replies", body, nil)
	if !res.ok() {
		h.showReceipt(w, r, "", problemMessages(c, res))
		return
	}
	h.showReceipt(w, r, c.F("notice.done", c.T("cmd.reply")), nil)
}
