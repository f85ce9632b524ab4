package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/safesignal/safesignal/adapters/audit"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/httpapi"
)

// caller is one cell of the matrix's caller axis: a role and how the caller
// stands to the signal under test.
type caller struct {
	name string
	p    *auth.Principal // nil: no token
	// owner: the reporter who filed it; sameOrg: of the filing organisation;
	// addressed: reached by the signal's escalation.
	owner, sameOrg, addressed bool
}

func callers() []caller {
	pp := func(p auth.Principal) *auth.Principal { return &p }
	return []caller{
		{name: "anonymous"},
		{name: "reporter, owner", p: pp(reporter("alice", "umc-utrecht")), owner: true, sameOrg: true},
		{name: "reporter, same organisation", p: pp(reporter("bob", "umc-utrecht")), sameOrg: true},
		{name: "reporter, other organisation", p: pp(reporter("carl", "haukeland"))},
		{name: "safety officer, same organisation", p: pp(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"}), sameOrg: true},
		{name: "safety officer, other organisation", p: pp(auth.Principal{Subject: "oskar", Role: auth.RoleSafetyOfficer, Organisation: "haukeland"})},
		{name: "colleague", p: pp(auth.Principal{Subject: "cora", Role: auth.RoleColleague, Organisation: "isala", Specialty: "anaesthesiology", Region: "NL-OV"}), addressed: true},
		{name: "policy analyst", p: pp(auth.Principal{Subject: "pia", Role: auth.RolePolicyAnalyst, Region: "NL-UT"})},
		{name: "admin", p: pp(auth.Principal{Subject: "ada", Role: auth.RoleAdmin})},
		{name: "peer supporter, same organisation", p: pp(auth.Principal{Subject: "petra", Role: auth.RolePeerSupporter, Organisation: "umc-utrecht"}), sameOrg: true},
		{name: "peer supporter, other organisation", p: pp(auth.Principal{Subject: "paul", Role: auth.RolePeerSupporter, Organisation: "haukeland"})},
	}
}

// objectRules says, for every route that addresses one signal, which of
// the callers the route's roles admit may reach that signal. A route with
// {id} and no rule here fails the test.
func objectRules() map[string]func(c caller) bool {
	officer := func(c caller) bool { return c.p.Role == auth.RoleSafetyOfficer && c.sameOrg }
	recipient := func(c caller) bool { return c.addressed }
	rules := map[string]func(c caller) bool{
		"GET /api/v1/signals/{id}/history": func(c caller) bool { return officer(c) || c.p.Role == auth.RoleAdmin },
		"GET /api/v1/signals/{id}": func(c caller) bool {
			switch c.p.Role {
			case auth.RoleReporter:
				return c.owner
			case auth.RoleSafetyOfficer:
				return c.sameOrg
			default:
				return c.p.Role == auth.RoleAdmin
			}
		},
	}
	rules["GET /api/v1/signals/{id}/fhir"] = officer
	rules["POST /api/v1/signals/{id}/reply"] = func(c caller) bool { return c.owner }
	// {id} is the peer-support request there, asked for by umc-utrecht's alice.
	// {id} is a good practice umc-utrecht's safety officer published: every
	// signed-in role reads it, its organisation's officers translate it,
	// any colleague or officer may mark it applied (the domain refuses the
	// publisher with 409).
	rules["GET /api/v1/lessons/{id}"] = func(caller) bool { return true }
	rules["POST /api/v1/lessons/{id}/applied"] = func(caller) bool { return true }
	rules["POST /api/v1/lessons/{id}/translations"] = officer
	rules["POST /api/v1/peer-support/{id}/acknowledge"] = func(c caller) bool { return c.p.Role == auth.RolePeerSupporter && c.sameOrg }
	for _, cmd := range []string{"acknowledge", "classify", "reject", "link-duplicate", "escalate", "feedback", "close", "reopen", "record-regulator-notification", "ask"} {
		rules["POST /api/v1/signals/{id}/"+cmd] = officer
	}
	for _, cmd := range []string{"acknowledge-escalation", "respond-escalation"} {
		rules["POST /api/v1/signals/{id}/"+cmd] = recipient
	}
	return rules
}

// requests gives a request that passes validation for each route, so that
// only access decides the answer.
func requestFor(t *testing.T, rt httpapi.Route, signalID, receipt, peerRequestID, lessonID string, c caller) (string, []byte) {
	path := strings.ReplaceAll(rt.Pattern, "{id}", signalID)
	if strings.HasPrefix(rt.Pattern, "/api/v1/lessons/") {
		path = strings.ReplaceAll(rt.Pattern, "{id}", lessonID)
	}
	switch rt.Method + " " + rt.Pattern {
	case "POST /api/v1/lessons":
		return path, mustJSON(t, validLesson())
	case "POST /api/v1/imports/signals":
		return path + "?dryRun=true", []byte(importHeader + "\n")
	case "POST /api/v1/peer-support/{id}/acknowledge":
		return strings.ReplaceAll(rt.Pattern, "{id}", peerRequestID), nil
	case "POST /api/v1/receipts/signal":
		return path, mustJSON(t, map[string]string{"receipt": receipt})
	case "POST /api/v1/receipts/replies":
		// A valid receipt and no question: the domain refuses it (422),
		// whoever calls; no token is needed or looked at.
		return path, mustJSON(t, map[string]string{"receipt": receipt})
	case "POST /api/v1/signals":
		b := validBody()
		delete(b, "organisation")
		return path, mustJSON(t, b)
	case "GET /api/v1/audit":
		return path + "?signal=" + signalID, nil
	case "GET /api/v1/exports/signals":
		return path + "?format=csv&from=2020-01-01", nil
	case "POST /api/v1/admin/erasures":
		return path, []byte(`{"reporter":"nobody-at-all"}`)
	case "GET /api/v1/trends":
		// Admitted callers (policy analysts, admins) get 200: one signal
		// is on file, so the category cell is suppressed, not refused.
		return path + "?groupBy=category&basis=reported", nil
	case "GET /api/v1/service-levels":
		if c.p != nil && c.p.Role == auth.RoleAdmin {
			return path + "?organisation=umc-utrecht", nil
		}
	}
	if rt.Method == http.MethodPost {
		return path, []byte(`{}`)
	}
	return path, nil
}

// TestAuthorizationMatrix walks every route of the access table for every
// role and relation to the signal.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.do(http.MethodPost, "/api/v1/signals", h.token(reporter("alice", "umc-utrecht")), mustJSON(t, validBody()), nil)
	if res.status != http.StatusCreated {
		t.Fatalf("file: %d %s", res.status, res.body)
	}
	signalID := strings.TrimPrefix(res.header.Get("Location"), "/api/v1/signals/")
	anon := validBody()
	anon["anonymous"] = true
	res = h.do(http.MethodPost, "/api/v1/signals", h.token(reporter("anna", "umc-utrecht")), mustJSON(t, anon), nil)
	var filed struct {
		Receipt string `json:"receipt"`
	}
	res.json(t, &filed)
	if res.status != http.StatusCreated || filed.Receipt == "" {
		t.Fatalf("anonymous filing: %d %s", res.status, res.body)
	}
	res = h.do(http.MethodPost, "/api/v1/peer-support", h.token(reporter("alice", "umc-utrecht")), []byte(`{"message":"Could someone call me?"}`), nil)
	var peer struct {
		ID string `json:"id"`
	}
	res.json(t, &peer)
	if res.status != http.StatusCreated || peer.ID == "" {
		t.Fatalf("peer support: %d %s", res.status, res.body)
	}
	res = h.do(http.MethodPost, "/api/v1/lessons", h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"}), mustJSON(t, validLesson()), nil)
	var lesson struct {
		ID string `json:"id"`
	}
	res.json(t, &lesson)
	if res.status != http.StatusCreated || lesson.ID == "" {
		t.Fatalf("lesson: %d %s", res.status, res.body)
	}
	// Acknowledge and escalate it to anaesthesiology, so that a colleague
	// of that specialty elsewhere is addressed.
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	if r := h.do(http.MethodPost, "/api/v1/signals/"+signalID+"/acknowledge", officer, nil, map[string]string{"If-Match": `"1"`}); r.status != http.StatusOK {
		t.Fatalf("acknowledge: %d %s", r.status, r.body)
	}
	esc := []byte(`{"targets":{"specialties":["anaesthesiology"]},"message":"Check your morphine preparation.","summary":"A tenfold morphine dose was prepared in a syringe pump; caught at the bedside check."}`)
	if r := h.do(http.MethodPost, "/api/v1/signals/"+signalID+"/escalate", officer, esc, map[string]string{"If-Match": `"2"`}); r.status != http.StatusOK {
		t.Fatalf("escalate: %d %s", r.status, r.body)
	}
	rules := objectRules()
	routes := httpapi.New(httpapi.Deps{}).Routes()
	if len(routes) == 0 {
		t.Fatal("no routes")
	}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Pattern
		rule, hasRule := rules[key]
		if strings.Contains(rt.Pattern, "{id}") && !hasRule {
			t.Errorf("%s addresses a signal but has no object rule in this test", key)
			continue
		}
		if !rt.Public && len(rt.Roles) == 0 {
			t.Errorf("%s admits no role", key)
		}
		for _, c := range callers() {
			t.Run(fmt.Sprintf("%s as %s", key, c.name), func(t *testing.T) {
				path, body := requestFor(t, rt, signalID, filed.Receipt, peer.ID, lesson.ID, c)
				token := ""
				if c.p != nil {
					token = h.token(*c.p)
				}
				header := map[string]string{"If-Match": `"3"`}
				if rt.Pattern == "/api/v1/imports/signals" {
					header["Content-Type"] = "text/csv"
				}
				r := h.do(rt.Method, path, token, body, header)
				// Requests without a token share the client address's
				// bucket (20/s, bursts of 40), which the matrix's many
				// anonymous requests empty: wait as a client would.
				for attempt := 0; r.status == http.StatusTooManyRequests && attempt < 10; attempt++ {
					secs, err := strconv.Atoi(r.header.Get("Retry-After"))
					if err != nil || secs < 1 {
						t.Fatalf("429 without a usable Retry-After: %q", r.header.Get("Retry-After"))
					}
					time.Sleep(time.Duration(secs) * time.Second)
					r = h.do(rt.Method, path, token, body, header)
				}
				var want []int
				switch {
				case key == "POST /api/v1/receipts/replies":
					want = []int{http.StatusUnprocessableEntity}
				case rt.Public:
					want = []int{http.StatusOK, http.StatusServiceUnavailable}
				case c.p == nil:
					want = []int{http.StatusUnauthorized}
				case !slices.Contains(rt.Roles, c.p.Role):
					want = []int{http.StatusForbidden}
				case hasRule && !rule(c):
					want = []int{http.StatusNotFound}
				case rt.Method == http.MethodPost && strings.Contains(rt.Pattern, "{id}"):
					// Admitted: the domain decides (200, or 409/422 for a
					// command the signal's state or the empty body refuses).
					want = []int{http.StatusOK, http.StatusConflict, http.StatusUnprocessableEntity}
				default:
					want = []int{http.StatusOK, http.StatusCreated}
				}
				if !slices.Contains(want, r.status) {
					t.Fatalf("got %d, want one of %v: %s", r.status, want, r.body)
				}
				// The export is scoped to the caller's organisation: the
				// signal under test is in it exactly for its own officers.
				if key == "GET /api/v1/exports/signals" && r.status == http.StatusOK && strings.Contains(string(r.body), signalID) != c.sameOrg {
					t.Fatalf("export holds the signal: %v, caller of its organisation: %v", !c.sameOrg, c.sameOrg)
				}
			})
		}
	}
	// Every route has now been called: every action in the trail must be
	// one the audit screen can name.
	known := httpapi.AuditActions()
	for _, a := range recordedActions(t, h) {
		if !slices.Contains(known, a) {
			t.Errorf("the trail holds the action %q, which httpapi.AuditActions does not list", a)
		}
	}
}

// recordedActions reads the whole audit trail and lists its actions.
func recordedActions(t *testing.T, h *harness) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := h.js.Stream(ctx, audit.Stream)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for range info.NumPending {
		m, err := cons.Next(jetstream.FetchContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		var r audit.Record
		if err := json.Unmarshal(m.Data(), &r); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(out, r.Action) {
			out = append(out, r.Action)
		}
	}
	if len(out) == 0 {
		t.Fatal("the trail is empty")
	}
	return out
}
