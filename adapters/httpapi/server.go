// Package httpapi is Safesignal's HTTP API: routes with their access rules,
// strict JSON decoding, RFC 9457 problems, and the handlers that turn
// requests into commands and queries.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/safesignal/safesignal/adapters/audit"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/commands"
	lessonsvc "github.com/safesignal/safesignal/adapters/lessons"
	"github.com/safesignal/safesignal/adapters/metrics"
	"github.com/safesignal/safesignal/adapters/peersupport"
	"github.com/safesignal/safesignal/projections/lessons"
	peerread "github.com/safesignal/safesignal/projections/peersupport"
	"github.com/safesignal/safesignal/projections/signaldetail"
	"github.com/safesignal/safesignal/projections/trends"
	"github.com/safesignal/safesignal/projections/trends/detect"
	"go.uber.org/zap"
)

// Deps are what the API needs.
type Deps struct {
	Commands *commands.Service
	Signals  signaldetail.Store
	Verifier auth.Verifier
	// Audit records every read of signal data and every command; when it
	// fails, the request fails.
	Audit Auditor
	// WaitFor blocks until the read models have applied stream sequence
	// seq (read-your-writes after a command).
	WaitFor func(ctx context.Context, seq uint64) error
	// Ready reports nil once the read models have caught up with the log.
	Ready  func(ctx context.Context) error
	Logger *zap.Logger
	// ConsistencyWait bounds how long a write waits for its read model.
	ConsistencyWait time.Duration
	// RateLimit per identity (default 20 requests/s, bursts of 40).
	RateLimit RateLimit
	// Metrics, when set, counts requests and serves GET /metrics.
	Metrics *metrics.Metrics
	// Trends, when set, serves the national trend views.
	Trends trends.Store
	// TrendSignals, when set, serves the policy inbox of detected trend
	// signals.
	TrendSignals detect.Store
	// PeerSupport and PeerRequests, when set, serve peer-support requests
	// and the peer supporters' inbox.
	PeerSupport  *peersupport.Service
	PeerRequests peerread.Store
	// Lessons and LessonLibrary, when set, serve the lesson library.
	Lessons       *lessonsvc.Service
	LessonLibrary lessons.Store
	// TrendsK is the disclosure threshold: counts 1..TrendsK−1 are never
	// shown (default trends.DefaultK).
	TrendsK int
}

// Auditor writes audit records and answers audit queries.
type Auditor interface {
	Write(ctx context.Context, r audit.Record) error
	Find(ctx context.Context, q audit.Query) ([]audit.Record, error)
}

// Server serves the API.
type Server struct {
	deps     Deps
	handler  http.Handler
	limiters *limiters
}

// Route is one entry of the API's access table: the single place that says
// who may call what. The middleware enforces it and a test walks it.
type Route struct {
	Method  string
	Pattern string
	// Public routes need no token; every other route needs one of Roles.
	Public bool
	// Limited public routes count against the caller's address in the
	// rate limiter, as failed sign-ins do.
	Limited bool
	Roles   []auth.Role
	handler http.HandlerFunc
}

// New builds the server.
func New(deps Deps) *Server {
	if deps.ConsistencyWait == 0 {
		deps.ConsistencyWait = 2 * time.Second
	}
	s := &Server{deps: deps, limiters: newLimiters(deps.RateLimit)}
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, rt := range s.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, s.guard(rt))
		allowed[rt.Pattern] = append(allowed[rt.Pattern], rt.Method)
	}
	// A known path with another method is 405 with Allow, not 404.
	for pattern, methods := range allowed {
		allow := strings.Join(methods, ", ")
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeProblem(w, r, newProblem(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", "allowed: "+allow))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, newProblem(http.StatusNotFound, "not-found", "Not found", "no such resource"))
	})
	s.handler = s.recoverer(s.correlate(s.logRequests(securityHeaders(mux))))
	return s
}

// Routes is the access table.
func (s *Server) Routes() []Route {
	reporters := []auth.Role{auth.RoleReporter, auth.RoleSafetyOfficer, auth.RoleColleague}
	readers := []auth.Role{auth.RoleReporter, auth.RoleSafetyOfficer, auth.RoleAdmin}
	policy := []auth.Role{auth.RolePolicyAnalyst, auth.RoleAdmin}
	routes := []Route{
		{Method: http.MethodGet, Pattern: "/healthz", Public: true, handler: s.healthz},
		{Method: http.MethodGet, Pattern: "/readyz", Public: true, handler: s.readyz},
		{Method: http.MethodGet, Pattern: "/metrics", Public: true, handler: s.serveMetrics},
		{Method: http.MethodPost, Pattern: "/api/v1/signals", Roles: reporters, handler: s.fileSignal},
		// The anonymous reporter's follow-up: no token, the receipt code
		// in the body is the credential; limited per client address.
		{Method: http.MethodPost, Pattern: "/api/v1/receipts/signal", Public: true, Limited: true, handler: s.getByReceipt},
		{Method: http.MethodPost, Pattern: "/api/v1/receipts/replies", Public: true, Limited: true, handler: s.replyByReceipt},
		{Method: http.MethodPost, Pattern: "/api/v1/text-checks", Roles: reporters, handler: s.checkText},
		{Method: http.MethodGet, Pattern: "/api/v1/signals/{id}", Roles: readers, handler: s.getSignal},
		{Method: http.MethodGet, Pattern: "/api/v1/signals/{id}/history", Roles: []auth.Role{auth.RoleSafetyOfficer, auth.RoleAdmin}, handler: s.getHistory},
		{Method: http.MethodGet, Pattern: "/api/v1/signals/{id}/fhir", Roles: []auth.Role{auth.RoleSafetyOfficer}, handler: s.getFHIR},
		{Method: http.MethodPost, Pattern: "/api/v1/imports/signals", Roles: []auth.Role{auth.RoleSafetyOfficer}, handler: s.importSignals},
		{Method: http.MethodGet, Pattern: "/api/v1/audit", Roles: []auth.Role{auth.RoleAdmin}, handler: s.getAudit},
		{Method: http.MethodGet, Pattern: "/api/v1/triage", Roles: []auth.Role{auth.RoleSafetyOfficer}, handler: s.getTriage},
		// Bulk export of the caller's organisation's signals, for its own
		// analysts: the triage board's readers, the safety officers. Not
		// admins, who have no organisation and read one signal at a time.
		{Method: http.MethodGet, Pattern: "/api/v1/exports/signals", Roles: []auth.Role{auth.RoleSafetyOfficer}, handler: s.exportSignals},
		{Method: http.MethodGet, Pattern: "/api/v1/escalations", Roles: []auth.Role{auth.RoleColleague, auth.RoleSafetyOfficer}, handler: s.getEscalations},
		{Method: http.MethodGet, Pattern: "/api/v1/me/signals", Roles: reporters, handler: s.getMySignals},
		{Method: http.MethodPost, Pattern: "/api/v1/admin/erasures", Roles: []auth.Role{auth.RoleAdmin}, handler: s.postErasure},
		{Method: http.MethodGet, Pattern: "/api/v1/service-levels", Roles: []auth.Role{auth.RoleSafetyOfficer, auth.RoleAdmin}, handler: s.getServiceLevels},
		// National trend views: counts only, under disclosure control for
		// every caller. Policy analysts and admins; not reporters or
		// safety officers, whose work is their own organisation's signals
		// (the triage board and service levels), nor colleagues.
		{Method: http.MethodGet, Pattern: "/api/v1/trends", Roles: policy, handler: s.getTrends},
		{Method: http.MethodGet, Pattern: "/api/v1/trends/signals", Roles: policy, handler: s.getTrendSignals},
		// Peer support: anyone who files may ask; only the organisation's
		// peer supporters read and handle requests (docs/LEARNING.md).
		{Method: http.MethodPost, Pattern: "/api/v1/peer-support", Roles: reporters, handler: s.requestPeerSupport},
		{Method: http.MethodGet, Pattern: "/api/v1/peer-support/inbox", Roles: []auth.Role{auth.RolePeerSupporter}, handler: s.getPeerSupportInbox},
		{Method: http.MethodPost, Pattern: "/api/v1/peer-support/{id}/acknowledge", Roles: []auth.Role{auth.RolePeerSupporter}, handler: s.acknowledgePeerSupport},
		// The lesson library: written for the whole network, read by every
		// signed-in role.
		{Method: http.MethodPost, Pattern: "/api/v1/lessons", Roles: []auth.Role{auth.RoleSafetyOfficer}, handler: s.publishLesson},
		{Method: http.MethodGet, Pattern: "/api/v1/lessons", Roles: auth.Roles(), handler: s.searchLessons},
		{Method: http.MethodGet, Pattern: "/api/v1/lessons/{id}", Roles: auth.Roles(), handler: s.getLesson},
		{Method: http.MethodPost, Pattern: "/api/v1/lessons/{id}/translations", Roles: []auth.Role{auth.RoleSafetyOfficer}, handler: s.translateLesson},
		{Method: http.MethodPost, Pattern: "/api/v1/lessons/{id}/applied", Roles: []auth.Role{auth.RoleColleague, auth.RoleSafetyOfficer}, handler: s.markLessonApplied},
	}
	for _, c := range commandSpecs() {
		routes = append(routes, Route{Method: http.MethodPost, Pattern: "/api/v1/signals/{id}/" + c.name, Roles: c.roles, handler: s.runCommand(c)})
	}
	return routes
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// NewHTTPServer wraps the handler with the timeouts and limits that keep a
// slow or hostile client from holding the server.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    256 << 10, // room for a 100 KB forged token to reach the 401
	}
}

// guard authenticates and authorises a route.
func (s *Server) guard(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.Public {
			if rt.Limited {
				if ok, wait := s.limiters.allow("addr:" + clientAddr(r)); !ok {
					s.tooMany(w, r, wait)
					return
				}
			}
			rt.handler(w, r)
			return
		}
		p, prob := s.authenticate(r)
		if prob != nil {
			// Failed sign-ins count against the client address, so that
			// guessing tokens is slow too.
			if ok, wait := s.limiters.allow("addr:" + clientAddr(r)); !ok {
				s.tooMany(w, r, wait)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="safesignal"`)
			writeProblem(w, r, prob)
			return
		}
		if ok, wait := s.limiters.allow("sub:" + p.Subject); !ok {
			s.tooMany(w, r, wait)
			return
		}
		if !slices.Contains(rt.Roles, p.Role) {
			writeProblem(w, r, newProblem(http.StatusForbidden, "forbidden", "Forbidden", fmt.Sprintf("the role %s may not do this", p.Role)))
			return
		}
		rt.handler(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

func (s *Server) authenticate(r *http.Request) (auth.Principal, *Problem) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if h == "" || !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return auth.Principal{}, newProblem(http.StatusUnauthorized, "unauthenticated", "Authentication required", "send a bearer token in the Authorization header")
	}
	p, err := s.deps.Verifier.Verify(r.Context(), strings.TrimSpace(token))
	if err != nil {
		return auth.Principal{}, newProblem(http.StatusUnauthorized, "unauthenticated", "Invalid token", "the bearer token was not accepted")
	}
	return p, nil
}

// clientAddr is the connection's remote host. Behind a proxy every client
// shares the proxy's address; the proxy should then limit by itself.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// serveMetrics serves Prometheus metrics: counts and latencies only, no
// signal data.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if s.deps.Metrics == nil {
		writeProblem(w, r, newProblem(http.StatusNotFound, "not-found", "Not found", "metrics are not enabled"))
		return
	}
	s.deps.Metrics.Handler().ServeHTTP(w, r)
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Ready(r.Context()); err != nil {
		writeProblem(w, r, newProblem(http.StatusServiceUnavailable, "not-ready", "Not ready", err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

type correlationKey struct{}

func correlationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}

// correlate takes the caller's X-Correlation-ID when it is a safe token,
// or makes one, and returns it on the response.
func (s *Server) correlate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Correlation-ID")
		if !safeToken(id, 64) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Correlation-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), correlationKey{}, id)))
	})
}

func safeToken(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (sr *statusRecorder) WriteHeader(code int) {
	if sr.status == 0 {
		sr.status = code
	}
	sr.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's writer, to
// flush a streamed answer and extend its write deadline.
func (sr *statusRecorder) Unwrap() http.ResponseWriter { return sr.ResponseWriter }

func (sr *statusRecorder) Write(b []byte) (int, error) {
	if sr.status == 0 {
		sr.status = http.StatusOK
	}
	return sr.ResponseWriter.Write(b)
}

// logRequests logs one line per request: never a body, a token or free text.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		if m := s.deps.Metrics; m != nil {
			m.HTTPRequests.WithLabelValues(route, r.Method, strconv.Itoa(rec.status)).Inc()
			m.HTTPDuration.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
		}
		s.deps.Logger.Debug("http request",
			zap.String("method", r.Method),
			zap.String("route", route),
			zap.Int("status", rec.status),
			zap.Duration("took", time.Since(start)),
			zap.String("correlationId", correlationID(r.Context())),
		)
	})
}

// recoverer turns a panic into a logged 500 problem instead of a dropped
// connection. No input should get here; the tests make sure of it.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.deps.Logger.Error("panic in handler", zap.Any("panic", v), zap.String("route", r.Pattern), zap.Stack("stack"))
				writeProblem(w, r, newProblem(http.StatusInternalServerError, "internal", "Internal error", "the server failed; the error was logged"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}
