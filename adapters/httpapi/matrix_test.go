package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/httpapi"
)

// caller is one cell of the matrix's caller axis: a role and how the caller
// stands to the signal under test.
type caller struct {
	name string
	p    *auth.Principal // nil: no token
	// owner: the reporter who filed it; sameOrg: of the filing organisation.
	owner, sameOrg bool
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
		{name: "colleague", p: pp(auth.Principal{Subject: "cora", Role: auth.RoleColleague, Organisation: "isala", Specialty: "anaesthesiology", Region: "NL-OV"})},
		{name: "policy analyst", p: pp(auth.Principal{Subject: "pia", Role: auth.RolePolicyAnalyst, Region: "NL-UT"})},
		{name: "admin", p: pp(auth.Principal{Subject: "ada", Role: auth.RoleAdmin})},
	}
}

// objectRules says, for every route that addresses one signal, which of
// the callers the route's roles admit may reach that signal. A route with
// {id} and no rule here fails the test.
func objectRules() map[string]func(c caller) bool {
	return map[string]func(c caller) bool{
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
}

// requests gives a request that passes validation for each route, so that
// only access decides the answer.
func requestFor(t *testing.T, rt httpapi.Route, signalID string) (string, []byte) {
	path := strings.ReplaceAll(rt.Pattern, "{id}", signalID)
	switch rt.Method + " " + rt.Pattern {
	case "POST /api/v1/signals":
		b := validBody()
		delete(b, "organisation")
		return path, mustJSON(t, b)
	case "GET /api/v1/audit":
		return path + "?signal=" + signalID, nil
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
				path, body := requestFor(t, rt, signalID)
				token := ""
				if c.p != nil {
					token = h.token(*c.p)
				}
				r := h.do(rt.Method, path, token, body, nil)
				var want []int
				switch {
				case rt.Public:
					want = []int{http.StatusOK, http.StatusServiceUnavailable}
				case c.p == nil:
					want = []int{http.StatusUnauthorized}
				case !slices.Contains(rt.Roles, c.p.Role):
					want = []int{http.StatusForbidden}
				case hasRule && !rule(c):
					want = []int{http.StatusNotFound}
				default:
					want = []int{http.StatusOK, http.StatusCreated}
				}
				if !slices.Contains(want, r.status) {
					t.Fatalf("got %d, want one of %v: %s", r.status, want, r.body)
				}
			})
		}
	}
}
