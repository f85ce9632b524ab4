package web_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/web"
)

var people = map[auth.Role]auth.Principal{
	auth.RoleReporter:      {Subject: "alice", Role: auth.RoleReporter, Organisation: "umc-utrecht", Specialty: "anaesthesiology", Region: "NL-UT"},
	auth.RoleSafetyOfficer: {Subject: "sam", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht", Specialty: "anaesthesiology", Region: "NL-UT"},
	auth.RoleColleague:     {Subject: "kari", Role: auth.RoleColleague, Organisation: "ous", Specialty: "anaesthesiology", Region: "NO-03"},
	auth.RolePolicyAnalyst: {Subject: "pia", Role: auth.RolePolicyAnalyst},
	auth.RoleAdmin:         {Subject: "ada", Role: auth.RoleAdmin},
	auth.RolePeerSupporter: {Subject: "pete", Role: auth.RolePeerSupporter, Organisation: "umc-utrecht", Region: "NL-UT"},
}

func TestCSRF(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	c.signIn(people[auth.RoleReporter])
	form := c.get("/ui/file")
	tok := c.csrf(form)
	filing := url.Values{"kind": {"near_miss"}, "category": {"medication"}, "harm": {"none"}, "description": {"Wrong pump rate set."},
		"date": {time.Now().Format(time.DateOnly)}, "specialty": {"anaesthesiology"}, "region": {"NL-UT"}, "action": {"file"}, "key": {"k-csrf"}}
	for name, token := range map[string]string{"missing": "", "wrong": strings.Repeat("x", 43)} {
		f := url.Values{}
		for k, v := range filing {
			f[k] = v
		}
		if token != "" {
			f.Set("csrf", token)
		}
		if res := c.post("/ui/file", f); res.status != http.StatusForbidden {
			t.Errorf("%s CSRF token: status %d, want 403", name, res.status)
		}
	}
	// Another client (another site's form) with this client's token but
	// without its cookie is refused too.
	other := h.client()
	other.signIn(people[auth.RoleReporter])
	f := url.Values{"csrf": {tok}}
	for k, v := range filing {
		f[k] = v
	}
	if res := other.post("/ui/file", f); res.status != http.StatusForbidden {
		t.Errorf("token of another session: status %d, want 403", res.status)
	}
	// A form over the size limit is refused as too large, not as forged.
	big := url.Values{"csrf": {tok}, "description": {strings.Repeat("x", 300<<10)}}
	if res := c.post("/ui/file", big); res.status != http.StatusRequestEntityTooLarge || !strings.Contains(res.body, "too large") {
		t.Errorf("oversized form: status %d, want 413 saying it is too large", res.status)
	}
	// Nothing was filed; the right token files.
	if mine := c.get("/ui/mine"); strings.Contains(mine.body, "status-reported") {
		t.Fatal("a refused form filed a signal")
	}
	if res := c.post("/ui/file", f); res.status != http.StatusCreated {
		t.Fatalf("filing with the token: %d %.500s", res.status, res.body)
	}
	// Sign-out and the language switch are forms too.
	if res := c.post("/ui/signout", url.Values{}); res.status != http.StatusForbidden {
		t.Errorf("sign-out without token: %d", res.status)
	}
	if res := c.post("/ui/lang", url.Values{"lang": {"nl"}}); res.status != http.StatusForbidden {
		t.Errorf("language switch without token: %d", res.status)
	}
}

// TestScreensFollowTheAccessTable: a role sees a screen exactly when the
// API admits it to the route the screen is built on, and the navigation
// offers exactly those screens.
func TestScreensFollowTheAccessTable(t *testing.T) {
	h := newHarness(t)
	screens := []struct {
		path, method, pattern string
		nav                   bool
	}{
		{"/ui/file", http.MethodPost, "/api/v1/signals", true},
		{"/ui/mine", http.MethodGet, "/api/v1/me/signals", true},
		{"/ui/triage", http.MethodGet, "/api/v1/triage", true},
		{"/ui/escalations", http.MethodGet, "/api/v1/escalations", true},
		{"/ui/trends", http.MethodGet, "/api/v1/trends", true},
		{"/ui/lessons", http.MethodGet, "/api/v1/lessons", true},
		{"/ui/lessons/new", http.MethodPost, "/api/v1/lessons", false},
		{"/ui/peer-support", http.MethodPost, "/api/v1/peer-support", true},
		{"/ui/peer-support/inbox", http.MethodGet, "/api/v1/peer-support/inbox", true},
		{"/ui/audit", http.MethodGet, "/api/v1/audit", true},
		{"/ui/erasures", http.MethodPost, "/api/v1/admin/erasures", true},
		{"/ui/exports/signals?format=csv", http.MethodGet, "/api/v1/exports/signals", false},
	}
	allowed := func(role auth.Role, method, pattern string) bool {
		for _, rt := range h.api.Routes() {
			if rt.Method == method && rt.Pattern == pattern {
				return slices.Contains(rt.Roles, role)
			}
		}
		t.Fatalf("no route %s %s", method, pattern)
		return false
	}
	anon := h.client()
	for _, sc := range screens {
		if res := anon.get(sc.path); res.status != http.StatusSeeOther || res.location != "/ui/signin" {
			t.Errorf("%s without sign-in: %d %q, want 303 to /ui/signin", sc.path, res.status, res.location)
		}
	}
	for role, p := range people {
		c := h.client()
		c.signIn(p)
		front := c.get("/")
		for _, sc := range screens {
			want := allowed(role, sc.method, sc.pattern)
			res := c.get(sc.path)
			if got := res.status == http.StatusOK; got != want {
				t.Errorf("%s on %s: status %d, API access %v", role, sc.path, res.status, want)
			}
			if !want && res.status != http.StatusForbidden {
				t.Errorf("%s on %s: status %d, want 403", role, sc.path, res.status)
			}
			if inNav := strings.Contains(front.body, `href="`+sc.path+`"`); sc.nav && inNav != want {
				t.Errorf("%s: navigation link to %s shown %v, API access %v", role, sc.path, inNav, want)
			}
		}
	}
}

// TestCatalogues: every language has every key of English, none empty,
// none extra, and every taxonomy term has a key.
func TestCatalogues(t *testing.T) {
	en := catalogue(t, "en")
	for _, l := range web.Languages {
		c := catalogue(t, l)
		for k := range en {
			if strings.TrimSpace(c[k]) == "" {
				t.Errorf("%s: key %q missing or empty", l, k)
			}
		}
		for k := range c {
			if _, ok := en[k]; !ok {
				t.Errorf("%s: key %q is not in en", l, k)
			}
		}
	}
	for _, k := range web.TermKeys() {
		if _, ok := en[k]; !ok {
			t.Errorf("taxonomy term %q has no message", k)
		}
	}
}

func catalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := os.ReadFile("i18n/" + lang + ".json")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

var tagRe = regexp.MustCompile(`(?s)<[^>]*>`)

// TestNoRawKeys renders every screen of every role in every language and
// fails when a catalogue key shows as text.
func TestNoRawKeys(t *testing.T) {
	h := newHarness(t)
	rep := h.client()
	rep.signIn(people[auth.RoleReporter])
	form := rep.get("/ui/file")
	filed := rep.post("/ui/file", url.Values{"csrf": {rep.csrf(form)}, "kind": {"near_miss"}, "category": {"medication"}, "harm": {"none"},
		"description": {"Tenfold dose prepared; BSN 111222333 written on the label."}, "date": {time.Now().Format(time.DateOnly)},
		"specialty": {"anaesthesiology"}, "region": {"NL-UT"}, "action": {"file"}, "key": {"k1"}})
	if filed.status != http.StatusCreated {
		t.Fatalf("filing: %d %.800s", filed.status, filed.body)
	}
	id := regexp.MustCompile(`<code>([0-9a-f-]{36})</code>`).FindStringSubmatch(filed.body)[1]
	off := h.client()
	off.signIn(people[auth.RoleSafetyOfficer])
	pub := off.get("/ui/lessons/new?signal=" + id)
	res := off.post("/ui/lessons", url.Values{"csrf": {off.csrf(pub)}, "kind": {"lesson"}, "signalId": {id}, "language": {"en"},
		"title": {"Two strengths of morphine apart"}, "whatHappened": {"A tenfold dose was prepared."}, "whatWasLearned": {"Look-alike ampoules."}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("publishing a lesson: %d %.800s", res.status, res.body)
	}
	lesson := res.location[:strings.Index(res.location, "?")]
	paths := map[auth.Role][]string{
		auth.RoleReporter:      {"/", "/ui/signin", "/ui/file", "/ui/mine", "/ui/peer-support", "/ui/lessons", lesson, "/ui/receipt"},
		auth.RoleSafetyOfficer: {"/ui/triage", "/ui/signals/" + id, "/ui/escalations", "/ui/lessons/new", lesson},
		auth.RoleColleague:     {"/ui/escalations", lesson},
		auth.RolePolicyAnalyst: {"/ui/trends", "/ui/does-not-exist"},
		auth.RolePeerSupporter: {"/ui/peer-support/inbox", "/ui/lessons"},
		auth.RoleAdmin:         {"/ui/audit", "/ui/audit?signal=" + id, "/ui/audit?signal=bad", "/ui/erasures"},
	}
	for role, list := range paths {
		c := h.client()
		c.signIn(people[role])
		for _, lang := range web.Languages {
			for _, p := range list {
				res := c.get(p, "Accept-Language", lang)
				if res.status >= 500 {
					t.Fatalf("%s %s in %s: %d", role, p, lang, res.status)
				}
				if !strings.Contains(res.body, `<html lang="`+lang+`">`) {
					t.Errorf("%s in %s: page not in %s", p, lang, lang)
				}
				for _, k := range rawKeys(tagRe.ReplaceAllString(res.body, " ")) {
					t.Errorf("%s %s in %s shows the raw key %q", role, p, lang, k)
				}
			}
		}
	}
	// The filing result warns about the personal number.
	if !strings.Contains(filed.body, "BSN") {
		t.Errorf("filing result does not warn about the BSN: %.1000s", filed.body)
	}
}

func TestLanguageChoice(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	for accept, want := range map[string]string{"nl-NL,nl;q=0.9": "nl", "nb": "nb", "no": "nb", "nn-NO": "nn", "sv-SE": "sv", "da": "da", "fr": "en", "": "en"} {
		res := c.get("/ui/signin", "Accept-Language", accept)
		if !strings.Contains(res.body, `<html lang="`+want+`">`) {
			t.Errorf("Accept-Language %q: want %s", accept, want)
		}
	}
	form := c.get("/ui/signin")
	if res := c.post("/ui/lang", url.Values{"csrf": {c.csrf(form)}, "lang": {"sv"}, "back": {"/ui/signin"}}); res.status != http.StatusSeeOther || res.location != "/ui/signin" {
		t.Fatalf("switch: %d %q", res.status, res.location)
	}
	if res := c.get("/ui/signin", "Accept-Language", "nl"); !strings.Contains(res.body, `<html lang="sv">`) {
		t.Error("the language cookie does not win over Accept-Language")
	}
	if res := c.post("/ui/lang", url.Values{"csrf": {c.csrf(form)}, "lang": {"da"}, "back": {"//evil.example/"}}); res.location != "/" {
		t.Errorf("switch back to another site: %q", res.location)
	}
}

// TestCommandFormsFollowTheAccessTable: a lifecycle command posted by a
// role the API refuses is refused by the UI, and the API's object rule
// (own organisation) holds through the UI.
func TestCommandFormsFollowTheAccessTable(t *testing.T) {
	h := newHarness(t)
	rep := h.client()
	rep.signIn(people[auth.RoleReporter])
	form := rep.get("/ui/file")
	filed := rep.post("/ui/file", url.Values{"csrf": {rep.csrf(form)}, "kind": {"unsafe_situation"}, "category": {"infrastructure"},
		"description": {"Emergency exit blocked by beds."}, "date": {time.Now().Format(time.DateOnly)},
		"specialty": {"surgery"}, "region": {"NL-UT"}, "action": {"file"}, "key": {"k2"}})
	if filed.status != http.StatusCreated {
		t.Fatalf("filing: %d", filed.status)
	}
	id := regexp.MustCompile(`<code>([0-9a-f-]{36})</code>`).FindStringSubmatch(filed.body)[1]
	// The reporter sees the signal but no commands.
	own := rep.get("/ui/signals/" + id)
	if own.status != http.StatusOK || strings.Contains(own.body, "/acknowledge\"") || strings.Contains(own.body, `href="/ui/triage"`) {
		t.Errorf("reporter's signal page: %d, offers commands or the triage board", own.status)
	}
	if res := rep.post("/ui/signals/"+id+"/acknowledge", url.Values{"csrf": {rep.csrf(own)}, "version": {"1"}}); res.status != http.StatusForbidden {
		t.Errorf("reporter acknowledging: %d, want 403", res.status)
	}
	// A safety officer of another organisation gets the API's 404.
	other := h.client()
	other.signIn(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "ous", Region: "NO-03"})
	tri := other.get("/ui/triage")
	if res := other.post("/ui/signals/"+id+"/acknowledge", url.Values{"csrf": {other.csrf(tri)}, "version": {"1"}}); res.status != http.StatusNotFound {
		t.Errorf("officer of another organisation acknowledging: %d, want 404", res.status)
	}
	// The organisation's officer acknowledges; a stale version is a 409.
	off := h.client()
	off.signIn(people[auth.RoleSafetyOfficer])
	pg := off.get("/ui/signals/" + id)
	if res := off.post("/ui/signals/"+id+"/acknowledge", url.Values{"csrf": {off.csrf(pg)}, "version": {"1"}, "key": {"a1"}}); res.status != http.StatusSeeOther {
		t.Fatalf("acknowledge: %d %.500s", res.status, res.body)
	}
	if res := off.post("/ui/signals/"+id+"/feedback", url.Values{"csrf": {off.csrf(pg)}, "version": {"1"}, "message": {"Thanks"}}); res.status != http.StatusConflict {
		t.Errorf("command on a stale version: %d, want 409", res.status)
	}
}

// TestTriageOffersTheExport: the triage board links to the bulk export,
// which the browser downloads with the session, streamed from the API.
func TestTriageOffersTheExport(t *testing.T) {
	h := newHarness(t)
	rep := h.client()
	rep.signIn(people[auth.RoleReporter])
	form := rep.get("/ui/file")
	filed := rep.post("/ui/file", url.Values{"csrf": {rep.csrf(form)}, "kind": {"near_miss"}, "category": {"medication"}, "harm": {"none"},
		"description": {"=1+1 tenfold dose prepared"}, "date": {time.Now().Format(time.DateOnly)},
		"specialty": {"anaesthesiology"}, "region": {"NL-UT"}, "action": {"file"}, "key": {"k-export"}})
	if filed.status != http.StatusCreated {
		t.Fatalf("filing: %d %.800s", filed.status, filed.body)
	}
	off := h.client()
	off.signIn(people[auth.RoleSafetyOfficer])
	board := off.get("/ui/triage")
	for _, link := range []string{`href="/ui/exports/signals?format=csv"`, `href="/ui/exports/signals?format=ndjson"`} {
		if !strings.Contains(board.body, link) {
			t.Fatalf("the triage board has no %s", link)
		}
	}
	req, err := http.NewRequest(http.MethodGet, h.url+"/ui/exports/signals?format=csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := off.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %d %v %v, %v", resp.StatusCode, resp.Header, err, rows)
	}
	if len(rows) != 2 || !slices.Contains(rows[1], "'=1+1 tenfold dose prepared") {
		t.Fatalf("CSV: %q", rows)
	}
	// Opened in a spreadsheet, the download keeps Nordic letters: it
	// starts with the byte-order mark.
	if rows[0][0] != "\ufeffid" {
		t.Errorf("the download's first cell is %q, want the byte-order mark and id", rows[0][0])
	}
	// Others are refused with a page, not the API's JSON.
	rep2 := h.client()
	rep2.signIn(people[auth.RoleReporter])
	if res := rep2.get("/ui/exports/signals?format=csv"); res.status != http.StatusForbidden || !strings.Contains(res.body, "<html") {
		t.Fatalf("a reporter's download: %d %.300s", res.status, res.body)
	}
}
