package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/safesignal/safesignal/adapters/auth"
)

var (
	receiptRe  = regexp.MustCompile(`<code class="receipt" id="receipt-code">([A-Z2-7-]+)</code>`)
	idRe       = regexp.MustCompile(`<code>([0-9a-f-]{36})</code>`)
	questionRe = regexp.MustCompile(`name="questionId" value="([0-9a-f-]{36})"`)
)

// file files a signal through the form and returns the result page.
func (c *client) file(anonymous bool, key string) page {
	c.h.t.Helper()
	form := c.get("/ui/file")
	f := url.Values{"csrf": {c.csrf(form)}, "kind": {"near_miss"}, "category": {"medication"}, "harm": {"none"},
		"description": {"Tenfold dose prepared from the wrong ampoule."}, "date": {time.Now().Format(time.DateOnly)},
		"specialty": {"anaesthesiology"}, "region": {"NL-UT"}, "action": {"file"}, "key": {key}}
	if anonymous {
		f.Set("anonymous", "on")
	}
	res := c.post("/ui/file", f)
	if res.status != http.StatusCreated {
		c.h.t.Fatalf("filing: %d %.800s", res.status, res.body)
	}
	return res
}

// TestDialogueAndReceipt: the safety officer asks both a named and an
// anonymous reporter a question; the named one answers under "my
// signals", the anonymous one with the receipt code shown once at filing,
// which never appears in a URL.
func TestDialogueAndReceipt(t *testing.T) {
	h := newHarness(t)
	rep := h.client()
	rep.signIn(people[auth.RoleReporter])
	named := idRe.FindStringSubmatch(rep.file(false, "k-named").body)[1]
	anon := rep.file(true, "k-anon")
	m := receiptRe.FindStringSubmatch(anon.body)
	if m == nil {
		t.Fatalf("no receipt code after an anonymous filing: %.1500s", anon.body)
	}
	code := m[1]
	anonID := idRe.FindStringSubmatch(anon.body)[1]
	if again := rep.get("/ui/mine"); strings.Contains(again.body, code) {
		t.Error("the receipt code is shown again")
	}

	off := h.client()
	off.signIn(people[auth.RoleSafetyOfficer])
	for _, id := range []string{named, anonID} {
		pg := off.get("/ui/signals/" + id)
		if !strings.Contains(pg.body, `action="/ui/signals/`+id+`/ask"`) {
			t.Fatalf("signal page offers no question form: %.500s", pg.body)
		}
		res := off.post("/ui/signals/"+id+"/ask", url.Values{"csrf": {off.csrf(pg)}, "version": {"1"}, "key": {"ask-" + id},
			"question": {"Which ward was it?"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("ask: %d %.800s", res.status, res.body)
		}
	}

	// The named reporter answers under "my signals".
	mine := rep.get("/ui/mine")
	q := questionRe.FindStringSubmatch(mine.body)
	if q == nil || !strings.Contains(mine.body, "Which ward was it?") {
		t.Fatalf("my signals shows no question: %.2000s", mine.body)
	}
	res := rep.post("/ui/signals/"+named+"/reply", url.Values{"csrf": {rep.csrf(mine)}, "version": {"2"}, "questionId": {q[1]},
		"reply": {"Recovery ward 3."}, "from": {"mine"}, "key": {"r1"}})
	if res.status != http.StatusSeeOther || res.location != "/ui/mine?done=reply" {
		t.Fatalf("reply: %d %q %.800s", res.status, res.location, res.body)
	}
	if pg := off.get("/ui/signals/" + named); !strings.Contains(pg.body, "Recovery ward 3.") {
		t.Error("the officer does not see the reply")
	}

	// Anyone with the code follows the anonymous signal, signed in or not.
	anonymous := h.client()
	form := anonymous.get("/ui/receipt")
	if bad := anonymous.post("/ui/receipt", url.Values{"csrf": {anonymous.csrf(form)}, "receipt": {"AAAA-BBBB"}}); bad.status != http.StatusUnprocessableEntity ||
		!strings.Contains(bad.body, "No signal has this receipt code") {
		t.Errorf("wrong code: %d %.500s", bad.status, bad.body)
	}
	view := anonymous.post("/ui/receipt", url.Values{"csrf": {anonymous.csrf(form)}, "receipt": {strings.ToLower(code)}})
	if view.status != http.StatusOK || !strings.Contains(view.body, "Which ward was it?") {
		t.Fatalf("receipt view: %d %.1500s", view.status, view.body)
	}
	q = questionRe.FindStringSubmatch(view.body)
	replied := anonymous.post("/ui/receipt/reply", url.Values{"csrf": {anonymous.csrf(view)}, "receipt": {code}, "questionId": {q[1]}, "reply": {"The day unit."}})
	if replied.status != http.StatusOK || !strings.Contains(replied.body, "The day unit.") || !strings.Contains(replied.body, `role="status"`) {
		t.Fatalf("reply by receipt: %d %.1500s", replied.status, replied.body)
	}
	for _, p := range []page{form, view, replied} {
		if strings.Contains(p.location, code) || regexp.MustCompile(`(href|action)="[^"]*`+regexp.QuoteMeta(code)).MatchString(p.body) {
			t.Error("the receipt code is in a URL")
		}
	}
}

// TestPeerSupportScreens: a reporter asks for peer support; the peer
// supporter of the organisation sees and acknowledges it; the safety
// officer has no way to it.
func TestPeerSupportScreens(t *testing.T) {
	h := newHarness(t)
	rep := h.client()
	rep.signIn(people[auth.RoleReporter])
	form := rep.get("/ui/peer-support")
	if res := rep.post("/ui/peer-support", url.Values{"csrf": {rep.csrf(form)}, "contact": {"+31 6 1234 5678"}, "message": {"Rough night."}}); res.status != http.StatusCreated {
		t.Fatalf("request: %d %.800s", res.status, res.body)
	}
	sup := h.client()
	sup.signIn(people[auth.RolePeerSupporter])
	inbox := sup.get("/ui/peer-support/inbox")
	m := regexp.MustCompile(`action="/ui/peer-support/([0-9a-f-]{36})/acknowledge"`).FindStringSubmatch(inbox.body)
	if m == nil || !strings.Contains(inbox.body, "Rough night.") {
		t.Fatalf("inbox: %d %.1500s", inbox.status, inbox.body)
	}
	if res := sup.post("/ui/peer-support/"+m[1]+"/acknowledge", url.Values{"csrf": {sup.csrf(inbox)}}); res.status != http.StatusSeeOther {
		t.Fatalf("acknowledge: %d %.800s", res.status, res.body)
	}
	if after := sup.get("/ui/peer-support/inbox?done=acknowledge-peer-support"); !strings.Contains(after.body, "Taken up by pete") {
		t.Errorf("inbox after acknowledging: %.1500s", after.body)
	}
	off := h.client()
	off.signIn(people[auth.RoleSafetyOfficer])
	if res := off.get("/ui/peer-support/inbox"); res.status != http.StatusForbidden {
		t.Errorf("safety officer on the peer-support inbox: %d", res.status)
	}
}

// TestLessonScreens: a safety officer publishes a lesson from a signal and
// translates it; a colleague elsewhere finds it by search and marks it
// applied; a reporter reads it but is offered neither.
func TestLessonScreens(t *testing.T) {
	h := newHarness(t)
	rep := h.client()
	rep.signIn(people[auth.RoleReporter])
	id := idRe.FindStringSubmatch(rep.file(false, "k1").body)[1]
	off := h.client()
	off.signIn(people[auth.RoleSafetyOfficer])
	if sig := off.get("/ui/signals/" + id); !strings.Contains(sig.body, `href="/ui/lessons/new?signal=`+id+`"`) {
		t.Error("the signal page does not offer a lesson")
	}
	form := off.get("/ui/lessons/new?signal=" + id)
	if !strings.Contains(form.body, `<option value="medication" selected>`) {
		t.Error("the lesson form does not take the signal's category")
	}
	bad := off.post("/ui/lessons", url.Values{"csrf": {off.csrf(form)}, "kind": {"lesson"}, "signalId": {id}, "language": {"en"},
		"title": {"Morphine"}, "whatHappened": {"BSN 111222333 got the wrong dose."}, "whatWasLearned": {"Separate strengths."}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, "contains a personal identification number") {
		t.Errorf("lesson with a BSN: %d %.1000s", bad.status, bad.body)
	}
	res := off.post("/ui/lessons", url.Values{"csrf": {off.csrf(form)}, "kind": {"lesson"}, "signalId": {id}, "language": {"en"},
		"title": {"Morphine strengths stored apart"}, "whatHappened": {"A tenfold dose was prepared."}, "whatWasLearned": {"Look-alike ampoules side by side."}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("publish: %d %.1000s", res.status, res.body)
	}
	lesson := res.location[:strings.Index(res.location, "?")]
	pg := off.get(res.location)
	if !strings.Contains(pg.body, "Look-alike ampoules") || strings.Contains(pg.body, "/applied\"") {
		t.Errorf("the publisher's lesson page: %.1500s", pg.body)
	}
	if tr := off.post(lesson+"/translations", url.Values{"csrf": {off.csrf(pg)}, "language": {"nb"}, "title": {"Morfinstyrker lagres hver for seg"},
		"whatHappened": {"En tidoblet dose ble gjort klar."}, "whatWasLearned": {"Like ampuller side om side."}}); tr.status != http.StatusSeeOther {
		t.Fatalf("translate: %d %.1000s", tr.status, tr.body)
	}

	col := h.client()
	col.signIn(people[auth.RoleColleague])
	found := col.get("/ui/lessons?q=morfin&language=nb")
	if !strings.Contains(found.body, `href="`+lesson+`"`) {
		t.Fatalf("search: %.2000s", found.body)
	}
	// In Bokmål the translation is shown.
	nb := col.get(lesson, "Accept-Language", "nb")
	if !strings.Contains(nb.body, "Morfinstyrker lagres hver for seg") {
		t.Errorf("the lesson in nb: %.1500s", nb.body)
	}
	if res := col.post(lesson+"/applied", url.Values{"csrf": {col.csrf(nb)}}); res.status != http.StatusSeeOther {
		t.Fatalf("applied: %d %.1000s", res.status, res.body)
	}
	if after := col.get(lesson); !strings.Contains(after.body, "Your organisation has applied this lesson.") || strings.Contains(after.body, "/applied\"") {
		t.Errorf("after applying: %.1500s", after.body)
	}
	if own := rep.get(lesson); own.status != http.StatusOK || strings.Contains(own.body, "/applied\"") || strings.Contains(own.body, "/translations\"") {
		t.Errorf("reporter's lesson page: %d", own.status)
	}
}
