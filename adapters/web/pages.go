package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/domain"
	"go.uber.org/zap"
)

// Page is what every template gets.
type Page struct {
	c       *catalogue
	Lang    string
	Title   string
	User    *auth.Principal
	CSRF    string
	Nav     []NavItem
	Current string
	Path    string
	Notice  string
	Errors  []string
	Data    any
}

// NavItem is one link of the navigation.
type NavItem struct {
	Href, Label string
	Current     bool
}

// T translates key.
func (p *Page) T(key string) string { return p.c.T(key) }

// F translates key with arguments.
func (p *Page) F(key string, args ...any) string { return p.c.F(key, args...) }

// Term translates a taxonomy code of a group (kind, category, harm, ...).
func (p *Page) Term(group string, code any) string {
	s := fmt.Sprint(code)
	if s == "" {
		return "—"
	}
	return p.c.T(group + "." + s)
}

// Time formats a time for the page's language.
func (p *Page) Time(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x == nil {
			return "—"
		}
		t = *x
	case string:
		var err error
		if t, err = time.Parse(time.RFC3339Nano, x); err != nil {
			return x
		}
	default:
		return fmt.Sprint(v)
	}
	if t.IsZero() {
		return "—"
	}
	return t.Local().Format("2006-01-02 15:04")
}

// Languages lists the switcher's choices.
func (p *Page) Languages() []LangChoice {
	out := make([]LangChoice, 0, len(Languages))
	for _, l := range Languages {
		out = append(out, LangChoice{Code: l, Name: catalogues[l].T("lang.self"), Selected: l == p.Lang})
	}
	return out
}

// LangChoice is one language of the switcher.
type LangChoice struct {
	Code, Name string
	Selected   bool
}

// LangCodes lists the languages a text can be written in (a lesson's
// original or translation): the interface's languages.
func (p *Page) LangCodes() []string { return Languages }

// Taxonomy lists for forms.
func (p *Page) Kinds() []domain.Kind                 { return domain.Kinds() }
func (p *Page) Categories() []domain.Category        { return domain.Categories() }
func (p *Page) Harms() []domain.Harm                 { return domain.Harms() }
func (p *Page) Specialties() []domain.Specialty      { return domain.Specialties() }
func (p *Page) Statuses() []domain.Status            { return domain.Statuses() }
func (p *Page) Factors() []domain.ContributingFactor { return domain.ContributingFactors() }
func (p *Page) Reasons() []domain.RejectionReason    { return domain.RejectionReasons() }
func (p *Page) Outcomes() []domain.CloseOutcome      { return domain.CloseOutcomes() }
func (p *Page) Responses() []domain.EscalationResponse {
	return domain.EscalationResponses()
}

var funcs = template.FuncMap{
	"eq2": func(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) },
	"has": func(list []string, v any) bool {
		s := fmt.Sprint(v)
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
	"list": func(v ...string) []string { return v },
	"svg":  func(s string) template.HTML { return template.HTML(s) }, //nolint:gosec // built by chart.go from escaped parts
}

// render writes a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name, titleKey string, pg Page) {
	c := chooseLanguage(r)
	pg.c, pg.Lang, pg.Title, pg.Path = c, c.lang, c.T(titleKey), r.URL.RequestURI()
	pg.CSRF = csrfToken(w, r)
	if s, ok := h.session(r); ok {
		pg.User = &s.p
		// The current item is the one with the longest path the page's
		// path starts with (the peer supporters' inbox lies under the
		// request form's path).
		current := -1
		for _, sc := range navScreens {
			if h.allowed(s.p.Role, sc.method, sc.pattern) {
				if r.URL.Path == sc.path || strings.HasPrefix(r.URL.Path, sc.path+"/") {
					if current < 0 || len(sc.path) > len(pg.Nav[current].Href) {
						current = len(pg.Nav)
					}
				}
				pg.Nav = append(pg.Nav, NavItem{Href: sc.path, Label: c.T("nav." + sc.name)})
			}
		}
		if current >= 0 {
			pg.Nav[current].Current = true
		}
	}
	t, ok := h.pages[name]
	if !ok {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, &pg); err != nil {
		h.opts.Logger.Error("render page", zap.String("page", name), zap.Error(err))
		http.Error(w, "the page could not be shown", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Language", c.lang)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, key string) {
	c := chooseLanguage(r)
	h.render(w, r, status, "error", "error.title", Page{Errors: []string{c.T(key)}})
}

// home is where a role starts.
func (h *Handler) home(role auth.Role) string {
	for _, sc := range []screen{screenTriage, screenInbox, screenPeerInbox, screenTrends, screenFile, screenLessons} {
		if h.allowed(role, sc.method, sc.pattern) {
			return sc.path
		}
	}
	return "/"
}

func (h *Handler) front(w http.ResponseWriter, r *http.Request) {
	pg := Page{}
	if s, ok := h.session(r); ok {
		pg.Data = h.home(s.p.Role)
	}
	h.render(w, r, http.StatusOK, "front", "front.title", pg)
}

// signinData is the sign-in page's model.
type signinData struct {
	Local bool
	// OIDC is the link that starts the provider's sign-in; empty without.
	OIDC  string
	Roles []auth.Role
	Form  url.Values
}

func (h *Handler) signinPage(w http.ResponseWriter, r *http.Request) {
	form := url.Values{"role": {"reporter"}, "org": {"umc-utrecht"}, "specialty": {"anaesthesiology"}, "region": {"NL-UT"}}
	data := signinData{Local: h.opts.Issuer != nil, Roles: auth.Roles(), Form: form}
	if h.opts.OIDC != nil {
		data.OIDC = "/ui/signin/oidc"
		if next := safeReturn(r.URL.Query().Get("next")); next != "" {
			data.OIDC += "?next=" + url.QueryEscape(next)
		}
	}
	h.render(w, r, http.StatusOK, "signin", "signin.title", Page{Data: data})
}

func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	if h.opts.Issuer == nil {
		h.errorPage(w, r, http.StatusNotFound, "signin.oidc")
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	p := auth.Principal{
		Subject:      name,
		Role:         auth.Role(r.PostFormValue("role")),
		Organisation: strings.TrimSpace(r.PostFormValue("org")),
		Specialty:    r.PostFormValue("specialty"),
		Region:       strings.TrimSpace(r.PostFormValue("region")),
	}
	tok, err := h.opts.Issuer.Issue(p, h.opts.SessionTTL)
	if err != nil {
		c := chooseLanguage(r)
		h.render(w, r, http.StatusUnprocessableEntity, "signin", "signin.title", Page{Errors: []string{c.T("signin.invalid")},
			Data: signinData{Local: true, Roles: auth.Roles(), Form: r.PostForm}})
		return
	}
	setCookie(w, r, sessionCookie, tok, int(h.opts.SessionTTL.Seconds()))
	http.Redirect(w, r, h.home(p.Role), http.StatusSeeOther)
}

func (h *Handler) signout(w http.ResponseWriter, r *http.Request) {
	var idToken string
	if c, err := r.Cookie(sessionCookie); err == nil {
		idToken = c.Value
	}
	setCookie(w, r, sessionCookie, "", -1)
	// With a provider that supports RP-initiated logout, its session ends
	// too (otherwise the next sign-in would be silent).
	if end := h.opts.OIDC.endSessionURL(idToken); end != "" && idToken != "" {
		http.Redirect(w, r, end, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (h *Handler) setLang(w http.ResponseWriter, r *http.Request) {
	if _, ok := catalogues[r.PostFormValue("lang")]; ok {
		setCookie(w, r, langCookie, r.PostFormValue("lang"), 365*24*3600)
	}
	back := r.PostFormValue("back")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.Contains(back, "\\") {
		back = "/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
