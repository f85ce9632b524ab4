package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/safesignal/safesignal/adapters/auth"
)

// TestHostileInputNeverBreaksAPage sends every hostile value as every
// parameter and form field of every screen, for every role: no answer is a
// server error, no value comes back as live markup, and no redirect leaves
// the site.
func TestHostileInputNeverBreaksAPage(t *testing.T) {
	t.Parallel()
	// hostileValues are what a careless or malicious user types: markup,
	// quotes, SQL, NUL and control bytes, invalid UTF-8, a huge value,
	// numbers out of range, traversal.
	hostileValues := []string{
		`<script>alert(1)</script>`,
		`"><img src=x onerror=alert(1)>`,
		`' OR '1'='1`,
		"\x00\x01\x7f",
		"\xff\xfe\xfd",
		strings.Repeat("A", 70000),
		"-1", "99999999999999999999", "2026-02-30", "../../etc/passwd", "%00", "",
		"//evil.example/x", "https://evil.example/", `/\evil.example`,
	}
	h := newHarness(t)
	rep := h.client()
	rep.signIn(people[auth.RoleReporter])
	signal := idRe.FindStringSubmatch(rep.file(false, "k-hostile").body)[1]
	gets := map[string][]string{
		"/ui/triage":             {"status", "kind", "harm", "overdue", "category", "offset", "limit", "done"},
		"/ui/signals/" + signal:  {"done"},
		"/ui/escalations":        {"done"},
		"/ui/trends":             {"dimension", "from", "to", "grain", "category", "region", "kind", "harm", "specialty"},
		"/ui/trends.csv":         {"dimension", "from", "to", "grain"},
		"/ui/lessons":            {"q", "kind", "category", "specialty", "language", "offset"},
		"/ui/lessons/new":        {"signal"},
		"/ui/audit":              {"signal", "actor"},
		"/ui/erasures":           {"done", "n"},
		"/ui/exports/signals":    {"format"},
		"/ui/mine":               {"done"},
		"/ui/peer-support/inbox": {"done"},
		"/ui/signin":             {"next"},
		"/ui/receipt":            {},
		"/ui/file":               {},
	}
	posts := map[string][]string{
		"/ui/file":                                 {"kind", "category", "harm", "description", "immediateActions", "date", "time", "specialty", "region", "action", "key", "anonymous", "peerSupport"},
		"/ui/signals/" + signal + "/acknowledge":   {"version", "key"},
		"/ui/signals/" + signal + "/escalate":      {"version", "message", "summary", "specialties", "regions", "key"},
		"/ui/signals/" + signal + "/feedback":      {"version", "message", "key"},
		"/ui/signals/" + signal + "/ask":           {"version", "question", "key"},
		"/ui/signals/" + signal + "/no-such-thing": {"version"},
		"/ui/lessons":                              {"kind", "signalId", "language", "title", "whatHappened", "whatWasLearned", "category", "specialty"},
		"/ui/peer-support":                         {"contact", "message"},
		"/ui/erasures":                             {"what", "signalId", "reporter", "confirm"},
		"/ui/receipt":                              {"receipt"},
		"/ui/receipt/reply":                        {"receipt", "questionId", "reply"},
		"/ui/lang":                                 {"lang", "back"},
	}
	statuses := map[int]int{}
	for role, p := range people {
		c := h.client()
		c.signIn(p)
		csrf := c.csrf(c.get("/ui/receipt"))
		check := func(what string, res page) {
			t.Helper()
			if res.status >= 500 {
				t.Fatalf("%s as %s: %d %.300s", what, role, res.status, res.body)
			}
			if strings.Contains(res.body, "<script>alert") || strings.Contains(res.body, "<img src=x") {
				t.Fatalf("%s as %s: a value comes back as markup", what, role)
			}
			if res.location != "" && (!strings.HasPrefix(res.location, "/") || strings.HasPrefix(res.location, "//") || strings.Contains(res.location, "\\")) {
				t.Fatalf("%s as %s: redirect off the site to %q", what, role, res.location)
			}
			statuses[res.status]++
		}
		for path, params := range gets {
			for _, name := range params {
				for _, v := range hostileValues {
					check("GET "+path+"?"+name, c.get(path+"?"+url.Values{name: {v}}.Encode()))
				}
			}
			check("GET "+path+" with a hostile id", c.get(strings.Replace(path, signal, "%3Cscript%3E", 1)))
		}
		for path, fields := range posts {
			for _, v := range hostileValues {
				form := url.Values{"csrf": {csrf}}
				for _, f := range fields {
					form.Set(f, v)
				}
				check("POST "+path, c.post(path, form))
			}
		}
	}
	// The probe reached the screens: pages, refusals and redirects all
	// occur, and forged-form refusals (403) are not all there is.
	for _, st := range []int{http.StatusOK, http.StatusSeeOther, http.StatusUnprocessableEntity} {
		if statuses[st] == 0 {
			t.Errorf("no answer %d in the probe: %v", st, statuses)
		}
	}
	t.Logf("answers: %v", statuses)
	// The service still works afterwards.
	if res := rep.get("/ui/mine"); res.status != http.StatusOK || !strings.Contains(res.body, time.Now().Format("2006")) {
		t.Fatalf("my signals after the probe: %d", res.status)
	}
}
