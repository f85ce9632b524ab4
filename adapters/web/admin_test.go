package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/web"
)

// TestAdminScreens: the administrator finds a filing in the audit trail,
// named in words; a bad reference is refused with the field named; an
// erasure needs its confirmation, then the officer's signal page no
// longer shows the text; a reporter's identity is erased from their
// signals.
func TestAdminScreens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rep := h.client()
	rep.signIn(people[auth.RoleReporter])
	id := idRe.FindStringSubmatch(rep.file(false, "k-admin").body)[1]
	officer := h.client()
	officer.signIn(people[auth.RoleSafetyOfficer])
	if p := officer.get("/ui/signals/" + id); !strings.Contains(p.body, "Tenfold dose prepared from the wrong ampoule.") {
		t.Fatalf("the officer does not see the text before the erasure: %d %.500s", p.status, p.body)
	}

	admin := h.client()
	admin.signIn(people[auth.RoleAdmin])
	if p := admin.get("/ui/audit"); p.status != http.StatusOK || strings.Contains(p.body, "<table") {
		t.Errorf("empty audit search: %d, table shown %v", p.status, strings.Contains(p.body, "<table"))
	}
	trail := admin.get("/ui/audit?signal=" + id)
	if trail.status != http.StatusOK {
		t.Fatalf("audit trail of the signal: %d %.800s", trail.status, trail.body)
	}
	for _, want := range []string{"Filed a signal", "Read a signal", people[auth.RoleSafetyOfficer].Subject, "Safety officer"} {
		if !strings.Contains(trail.body, want) {
			t.Errorf("the signal's trail does not show %q: %.3000s", want, trail.body)
		}
	}
	bad := []struct {
		query, field string
		status       int
	}{
		{"signal=not-a-reference", "Reference of the signal", http.StatusBadRequest},
		{"actor=" + strings.Repeat("x", 200), "User name", http.StatusBadRequest},
		{"signal=" + url.QueryEscape("<script>alert(1)</script>"), "Reference of the signal", http.StatusBadRequest},
	}
	for _, tc := range bad {
		p := admin.get("/ui/audit?" + tc.query)
		if p.status != tc.status || !strings.Contains(p.body, tc.field) || strings.Contains(p.body, "<script>alert") {
			t.Errorf("audit search %.40s: %d, want %d naming %q: %.600s", tc.query, p.status, tc.status, tc.field, p.body)
		}
	}

	form := admin.get("/ui/erasures")
	if form.status != http.StatusOK {
		t.Fatalf("erasure form: %d", form.status)
	}
	csrf := admin.csrf(form)
	refused := []struct {
		name   string
		form   url.Values
		status int
		says   string
	}{
		{"no confirmation", url.Values{"what": {"signal"}, "signalId": {id}}, http.StatusUnprocessableEntity, "Confirmation"},
		{"no reference", url.Values{"what": {"signal"}, "confirm": {"on"}}, http.StatusUnprocessableEntity, "Reference of the signal"},
		{"bad reference", url.Values{"what": {"signal"}, "signalId": {"12345"}, "confirm": {"on"}}, http.StatusBadRequest, "Reference of the signal"},
		{"no reporter", url.Values{"what": {"reporter"}, "confirm": {"on"}}, http.StatusUnprocessableEntity, "User name of the reporter"},
		{"what is missing", url.Values{"signalId": {id}, "confirm": {"on"}}, http.StatusUnprocessableEntity, "Some fields are not filled in correctly."},
	}
	for _, tc := range refused {
		tc.form.Set("csrf", csrf)
		p := admin.post("/ui/erasures", tc.form)
		if p.status != tc.status || !strings.Contains(p.body, tc.says) {
			t.Errorf("%s: %d, want %d saying %q: %.800s", tc.name, p.status, tc.status, tc.says, p.body)
		}
	}
	if p := officer.get("/ui/signals/" + id); !strings.Contains(p.body, "Tenfold dose prepared from the wrong ampoule.") {
		t.Fatal("a refused erasure erased the text")
	}
	done := admin.post("/ui/erasures", url.Values{"csrf": {csrf}, "what": {"signal"}, "signalId": {id}, "confirm": {"on"}})
	if done.status != http.StatusSeeOther || done.location != "/ui/erasures?done=content" {
		t.Fatalf("erasure: %d %q %.500s", done.status, done.location, done.body)
	}
	if p := admin.get(done.location); !strings.Contains(p.body, "The signal&#39;s text is erased.") {
		t.Errorf("no notice after the erasure: %.800s", p.body)
	}
	if p := officer.get("/ui/signals/" + id); p.status != http.StatusOK || strings.Contains(p.body, "Tenfold dose") {
		t.Errorf("after the erasure the officer's page: %d, text shown %v", p.status, strings.Contains(p.body, "Tenfold dose"))
	}
	if p := admin.get("/ui/audit?signal=" + id); !strings.Contains(p.body, "Erased a signal&#39;s text") {
		t.Errorf("the erasure is not in the trail: %.3000s", p.body)
	}

	// The reporter asks for peer support; the erasure reaches the request.
	ask := rep.get("/ui/peer-support")
	if res := rep.post("/ui/peer-support", url.Values{"csrf": {rep.csrf(ask)}, "contact": {"call 0612345678"}, "message": {"peer-canary-7"}}); res.status >= 400 {
		t.Fatalf("peer-support request: %d %.500s", res.status, res.body)
	}
	supporter := h.client()
	supporter.signIn(people[auth.RolePeerSupporter])
	if p := supporter.get("/ui/peer-support/inbox"); !strings.Contains(p.body, "peer-canary-7") {
		t.Fatalf("the supporter does not see the request: %.800s", p.body)
	}
	who := admin.post("/ui/erasures", url.Values{"csrf": {csrf}, "what": {"reporter"}, "reporter": {people[auth.RoleReporter].Subject}, "confirm": {"on"}})
	if who.status != http.StatusSeeOther || who.location != "/ui/erasures?done=reporter&n=1&peer=1" {
		t.Fatalf("reporter erasure: %d %q %.500s", who.status, who.location, who.body)
	}
	if p := admin.get(who.location); !strings.Contains(p.body, "Signals the identity was erased from: 1. Peer-support requests: 1.") {
		t.Errorf("no notice after the reporter erasure: %.800s", p.body)
	}

	inbox := supporter.get("/ui/peer-support/inbox")
	for _, gone := range []string{"peer-canary-7", "0612345678", ">" + people[auth.RoleReporter].Subject + "<"} {
		if strings.Contains(inbox.body, gone) {
			t.Errorf("after the erasure the supporter's inbox still shows %q", gone)
		}
	}
	if !strings.Contains(inbox.body, "Requester erased") {
		t.Errorf("the erased request is not marked: %.1500s", inbox.body)
	}
	// The supporter took the request up, then is erased as a person: the
	// inbox keeps when, not who.
	if res := supporter.post("/ui/peer-support/"+peerID(t, inbox.body)+"/acknowledge", url.Values{"csrf": {supporter.csrf(inbox)}}); res.status != http.StatusSeeOther {
		t.Fatalf("acknowledge: %d %.500s", res.status, res.body)
	}
	if p := supporter.get("/ui/peer-support/inbox"); !strings.Contains(p.body, "Taken up by "+people[auth.RolePeerSupporter].Subject) {
		t.Fatalf("the inbox does not say who took the request up: %.1500s", p.body)
	}
	sup := admin.post("/ui/erasures", url.Values{"csrf": {csrf}, "what": {"reporter"}, "reporter": {people[auth.RolePeerSupporter].Subject}, "confirm": {"on"}})
	if sup.status != http.StatusSeeOther {
		t.Fatalf("supporter erasure: %d %.500s", sup.status, sup.body)
	}
	if p := supporter.get("/ui/peer-support/inbox"); strings.Contains(p.body, "Taken up by "+people[auth.RolePeerSupporter].Subject) || !strings.Contains(p.body, "the supporter&#39;s name was erased") {
		t.Errorf("after the supporter's erasure the inbox: %.1500s", p.body)
	}

	// Nobody else reaches either screen.
	for role, p := range people {
		if role == auth.RoleAdmin {
			continue
		}
		c := h.client()
		c.signIn(p)
		for _, path := range []string{"/ui/audit?signal=" + id, "/ui/erasures"} {
			if res := c.get(path); res.status != http.StatusForbidden {
				t.Errorf("%s on %s: %d, want 403", role, path, res.status)
			}
		}
	}
}

// TestAuditActionNames: every action the API records has a name in every
// language.
func TestAuditActionNames(t *testing.T) {
	t.Parallel()
	for _, lang := range web.Languages {
		if missing := web.AuditActionsUnnamed(lang); len(missing) > 0 {
			t.Errorf("%s: no name for the audited actions %v", lang, missing)
		}
	}
}

// peerID is the first request id in a peer-support inbox page.
func peerID(t *testing.T, body string) string {
	t.Helper()
	m := regexp.MustCompile(`action="/ui/peer-support/([0-9a-f-]{36})/acknowledge"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no request to acknowledge: %.1500s", body)
	}
	return m[1]
}
