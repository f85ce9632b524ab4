// Package web is Safesignal's browser interface: plain server-rendered HTML
// pages for every role, in the networks' languages. Every page calls the
// JSON API in-process with the signed-in user's token, so authentication,
// the access table, validation, audit and concurrency rules are the API's
// own; a screen is offered only to the roles the API's access table admits
// to the routes it uses.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/httpapi"
	"go.uber.org/zap"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// maxFormBytes bounds a form's body.
const maxFormBytes = 256 << 10

// Cookie names.
const (
	sessionCookie = "ss_session"
	csrfCookie    = "ss_csrf"
	langCookie    = "ss_lang"
	csrfField     = "csrf"
)

// Options are what the web interface needs.
type Options struct {
	// API is the JSON API the pages call in-process.
	API *httpapi.Server
	// Verifier reads the session's token (the API's verifier).
	Verifier auth.Verifier
	// Issuer, when set, is the local development issuer: the sign-in page
	// then lets one pick a role and mints a token. Nil when the
	// organisation's identity provider (OIDC) is used.
	Issuer *auth.LocalIssuer
	// OIDC, when set, signs users in at the organisation's OpenID Connect
	// provider (authorization code flow with PKCE).
	OIDC *OIDCSignIn
	// SessionTTL is how long a sign-in lasts at most (default 1 h; an
	// OIDC session also ends when its ID token expires).
	SessionTTL time.Duration
	Logger     *zap.Logger
}

// Handler serves the pages under / and /ui/.
type Handler struct {
	opts   Options
	mux    *http.ServeMux
	pages  map[string]*template.Template
	routes []httpapi.Route
}

// New builds the web interface.
func New(opts Options) (*Handler, error) {
	if opts.SessionTTL == 0 {
		opts.SessionTTL = time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	h := &Handler{opts: opts, mux: http.NewServeMux(), pages: map[string]*template.Template{}, routes: opts.API.Routes()}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n)
		if err != nil {
			return nil, err
		}
		h.pages[base] = t
	}
	static, _ := fs.Sub(staticFS, "static")
	h.mux.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", cacheStatic(http.FileServerFS(static))))
	h.mux.HandleFunc("GET /{$}", h.front)
	h.mux.HandleFunc("GET /ui/{$}", h.front)
	h.mux.HandleFunc("GET /ui/signin", h.signinPage)
	h.mux.HandleFunc("POST /ui/signin", h.csrf(h.signin))
	h.mux.HandleFunc("POST /ui/signout", h.csrf(h.signout))
	if opts.OIDC != nil {
		h.mux.HandleFunc("GET /ui/signin/oidc", h.oidcStart)
		h.mux.HandleFunc("GET /ui/oidc/callback", h.oidcCallback)
	}
	h.mux.HandleFunc("POST /ui/lang", h.csrf(h.setLang))
	h.mux.HandleFunc("GET /ui/file", h.screen(screenFile, h.fileForm))
	h.mux.HandleFunc("POST /ui/file", h.csrf(h.screen(screenFile, h.fileSubmit)))
	h.mux.HandleFunc("GET /ui/mine", h.screen(screenMine, h.mine))
	h.mux.HandleFunc("GET /ui/triage", h.screen(screenTriage, h.triage))
	h.mux.HandleFunc("GET /ui/exports/signals", h.screen(screenExport, h.exportSignals))
	h.mux.HandleFunc("GET /ui/signals/{id}", h.screen(screenSignal, h.signal))
	h.mux.HandleFunc("POST /ui/signals/{id}/{command}", h.csrf(h.command))
	h.mux.HandleFunc("GET /ui/escalations", h.screen(screenInbox, h.inbox))
	h.mux.HandleFunc("GET /ui/trends", h.screen(screenTrends, h.trends))
	h.mux.HandleFunc("GET /ui/trends.csv", h.screen(screenTrends, h.trendsCSV))
	h.mux.HandleFunc("GET /ui/lessons", h.screen(screenLessons, h.lessons))
	h.mux.HandleFunc("GET /ui/lessons/new", h.screen(screenPublish, h.lessonForm))
	h.mux.HandleFunc("POST /ui/lessons", h.csrf(h.screen(screenPublish, h.lessonPublish)))
	h.mux.HandleFunc("GET /ui/lessons/{id}", h.screen(screenLesson, h.lesson))
	h.mux.HandleFunc("POST /ui/lessons/{id}/applied", h.csrf(h.screen(screenApplied, h.lessonApplied)))
	h.mux.HandleFunc("POST /ui/lessons/{id}/translations", h.csrf(h.screen(screenTranslate, h.lessonTranslate)))
	h.mux.HandleFunc("GET /ui/peer-support", h.screen(screenPeer, h.peerForm))
	h.mux.HandleFunc("POST /ui/peer-support", h.csrf(h.screen(screenPeer, h.peerSubmit)))
	h.mux.HandleFunc("GET /ui/peer-support/inbox", h.screen(screenPeerInbox, h.peerInbox))
	h.mux.HandleFunc("GET /ui/audit", h.screen(screenAudit, h.auditTrail))
	h.mux.HandleFunc("GET /ui/erasures", h.screen(screenErase, h.erasureForm))
	h.mux.HandleFunc("POST /ui/erasures", h.csrf(h.screen(screenErase, h.erasureSubmit)))
	h.mux.HandleFunc("POST /ui/peer-support/{id}/acknowledge", h.csrf(h.screen(screenPeerAck, h.peerAcknowledge)))
	// The anonymous reporter's follow-up is public: the receipt code is
	// the credential, and it travels only in POST bodies.
	h.mux.HandleFunc("GET /ui/receipt", h.receiptForm)
	h.mux.HandleFunc("POST /ui/receipt", h.csrf(h.receiptShow))
	h.mux.HandleFunc("POST /ui/receipt/reply", h.csrf(h.receiptReply))
	h.mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, http.StatusNotFound, "error.notfound")
	})
	return h, nil
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// Compose serves the web interface at / and under /ui/ and everything else
// from the API.
func Compose(api http.Handler, ui *Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" || strings.HasPrefix(r.URL.Path, "/ui/") || r.URL.Path == "/ui" {
			ui.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	if r.URL.Path == "/ui" {
		http.Redirect(w, r, "/ui/", http.StatusMovedPermanently)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// A screen is a page and the API route it is built on: it is offered to
// exactly the roles that route admits.
type screen struct {
	name    string
	method  string
	pattern string
	path    string
}

var (
	screenFile   = screen{"file", http.MethodPost, "/api/v1/signals", "/ui/file"}
	screenMine   = screen{"mine", http.MethodGet, "/api/v1/me/signals", "/ui/mine"}
	screenTriage = screen{"triage", http.MethodGet, "/api/v1/triage", "/ui/triage"}
	screenSignal = screen{"signal", http.MethodGet, "/api/v1/signals/{id}", ""}
	screenInbox  = screen{"escalations", http.MethodGet, "/api/v1/escalations", "/ui/escalations"}
	screenTrends = screen{"trends", http.MethodGet, "/api/v1/trends", "/ui/trends"}
	// The lesson library: search and read (every role), publish and
	// translate (safety officers), mark applied (colleagues, officers).
	screenLessons   = screen{"lessons", http.MethodGet, "/api/v1/lessons", "/ui/lessons"}
	screenLesson    = screen{"lesson", http.MethodGet, "/api/v1/lessons/{id}", ""}
	screenPublish   = screen{"publish", http.MethodPost, "/api/v1/lessons", "/ui/lessons/new"}
	screenTranslate = screen{"translate", http.MethodPost, "/api/v1/lessons/{id}/translations", ""}
	screenApplied   = screen{"applied", http.MethodPost, "/api/v1/lessons/{id}/applied", ""}
	// Peer support: asking (anyone who files) and the peer supporters'
	// inbox.
	screenPeer      = screen{"peer", http.MethodPost, "/api/v1/peer-support", "/ui/peer-support"}
	screenPeerInbox = screen{"peerinbox", http.MethodGet, "/api/v1/peer-support/inbox", "/ui/peer-support/inbox"}
	screenPeerAck   = screen{"peerack", http.MethodPost, "/api/v1/peer-support/{id}/acknowledge", ""}
	// The administrator's audit trail and erasure.
	screenAudit = screen{"audit", http.MethodGet, "/api/v1/audit", "/ui/audit"}
	screenErase = screen{"erase", http.MethodPost, "/api/v1/admin/erasures", "/ui/erasures"}
	// navScreens are the screens in the navigation, in order.
	navScreens = []screen{screenFile, screenMine, screenPeer, screenTriage, screenInbox, screenPeerInbox, screenTrends, screenLessons, screenAudit, screenErase}
)

// allowed reports whether the API's access table lets role call method
// pattern.
func (h *Handler) allowed(role auth.Role, method, pattern string) bool {
	for _, rt := range h.routes {
		if rt.Method == method && rt.Pattern == pattern {
			return rt.Public || slices.Contains(rt.Roles, role)
		}
	}
	return false
}

// session is the signed-in user of a request.
type session struct {
	token string
	p     auth.Principal
}

func (h *Handler) session(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return session{}, false
	}
	p, err := h.opts.Verifier.Verify(r.Context(), c.Value)
	if err != nil {
		return session{}, false
	}
	return session{token: c.Value, p: p}, true
}

type screenHandler func(w http.ResponseWriter, r *http.Request, s session)

// screen signs the user in and checks the access table before serving.
func (h *Handler) screen(sc screen, next screenHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := h.session(r)
		if !ok {
			target := "/ui/signin"
			if r.Method == http.MethodGet && r.URL.Path != sc.path && safeReturn(r.URL.RequestURI()) != "" {
				// A deep link (a signal, say) is where the user returns
				// after signing in.
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		if !h.allowed(s.p.Role, sc.method, sc.pattern) {
			h.errorPage(w, r, http.StatusForbidden, "error.forbidden")
			return
		}
		next(w, r, s)
	}
}

func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// setCookie sets an HttpOnly cookie for the whole site. The session cookie
// is SameSite=Lax: a browser that weighs the whole redirect chain would
// not send a Strict cookie after the identity provider's redirect back,
// nor on a link to a signal opened from a mail; Lax still keeps it off
// every cross-site POST, and every form also carries the double-submit
// token of the Strict CSRF cookie.
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	same := http.SameSiteStrictMode
	if name == sessionCookie {
		same = http.SameSiteLaxMode
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: secure(r), SameSite: same})
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// csrfToken returns the request's double-submit token, setting the cookie
// when there is none yet.
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	tok := randomToken()
	setCookie(w, r, csrfCookie, tok, 0)
	return tok
}

// csrf refuses a state-changing request whose form does not carry the
// token of its cookie (double submit; the cookie is SameSite=Strict and
// HttpOnly, so another site can neither send nor read it).
func (h *Handler) csrf(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				h.errorPage(w, r, http.StatusRequestEntityTooLarge, "error.tooLarge")
				return
			}
		}
		c, err := r.Cookie(csrfCookie)
		form := r.PostFormValue(csrfField)
		if err != nil || c.Value == "" || form == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) != 1 {
			h.errorPage(w, r, http.StatusForbidden, "error.csrf")
			return
		}
		next(w, r)
	}
}

// apiResult is the answer of an in-process API call.
type apiResult struct {
	status int
	header http.Header
	body   []byte
}

// problem is an API problem+json answer.
type problem struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
	Errors []struct {
		Field string `json:"field"`
		Code  string `json:"code"`
	} `json:"errors"`
}

func (a apiResult) ok() bool { return a.status >= 200 && a.status < 300 }

func (a apiResult) decode(v any) error { return json.Unmarshal(a.body, v) }

// call runs one API request in-process with the session's token (none
// for a public route: an empty session).
func (h *Handler) call(ctx context.Context, r *http.Request, s session, method, path string, body any, header map[string]string) apiResult {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return apiResult{status: http.StatusInternalServerError}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return apiResult{status: http.StatusBadRequest}
	}
	req.RemoteAddr = r.RemoteAddr
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if id := r.Header.Get("X-Correlation-ID"); id != "" {
		req.Header.Set("X-Correlation-ID", id)
	}
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	rec := &recorder{header: http.Header{}}
	h.opts.API.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return apiResult{status: rec.status, header: rec.header, body: rec.buf.Bytes()}
}

// recorder collects an in-process API answer.
type recorder struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (rc *recorder) Header() http.Header { return rc.header }
func (rc *recorder) WriteHeader(code int) {
	if rc.status == 0 {
		rc.status = code
	}
}
func (rc *recorder) Write(b []byte) (int, error) {
	if rc.status == 0 {
		rc.status = http.StatusOK
	}
	return rc.buf.Write(b)
}

// problemMessages turns an API refusal into translated messages.
func problemMessages(c *catalogue, res apiResult) []string {
	var p problem
	_ = res.decode(&p)
	kind := strings.TrimPrefix(p.Type, "/problems/")
	key := "problem." + kind
	if !c.has(key) {
		key = "problem.other"
	}
	out := []string{c.T(key)}
	for _, e := range p.Errors {
		label := c.T("field." + e.Field)
		if !c.has("field." + e.Field) {
			label = e.Field
		}
		code := "code." + e.Code
		if !c.has(code) {
			code = "code.invalid"
		}
		out = append(out, label+": "+c.T(code))
	}
	return out
}
