package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/safesignal/safesignal/adapters/auth"
)

type lessonList struct {
	Total   int `json:"total"`
	Lessons []struct {
		ID           string `json:"id"`
		Organisation string `json:"organisation"`
		Title        string `json:"title"`
		FromSignal   bool   `json:"fromSignal"`
		AppliedCount int    `json:"appliedCount"`
		AppliedHere  bool   `json:"appliedHere"`
		Translations []struct {
			Language string `json:"language"`
			Title    string `json:"title"`
		} `json:"translations"`
	} `json:"lessons"`
}

// TestLessonLibrary: a lesson published in one organisation is found by a
// colleague of another by search, in a translation too, and marked applied
// once per organisation.
func TestLessonLibrary(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	olga := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	oskar := h.token(auth.Principal{Subject: "oskar", Role: auth.RoleSafetyOfficer, Organisation: "haukeland"})
	cora := h.token(auth.Principal{Subject: "cora", Role: auth.RoleColleague, Organisation: "isala", Specialty: "anaesthesiology", Region: "NL-OV"})
	cleo := h.token(auth.Principal{Subject: "cleo", Role: auth.RoleColleague, Organisation: "isala", Specialty: "surgery", Region: "NL-OV"})

	// A lesson from one of umc-utrecht's signals.
	filed := h.do(http.MethodPost, "/api/v1/signals", h.token(reporter("alice", "umc-utrecht")), mustJSON(t, validBody()), nil)
	signalID := strings.TrimPrefix(filed.header.Get("Location"), "/api/v1/signals/")
	body := validLesson()
	body["kind"], body["signalId"], body["title"] = "lesson", signalID, "Morphine concentrations at the bedside: café-style double check"
	res := h.do(http.MethodPost, "/api/v1/lessons", olga, mustJSON(t, body), nil)
	var pub struct {
		ID string `json:"id"`
	}
	res.json(t, &pub)
	if res.status != http.StatusCreated || res.header.Get("Location") != "/api/v1/lessons/"+pub.ID {
		t.Fatalf("publish: %d %s", res.status, res.body)
	}
	// A good practice of haukeland in Norwegian.
	nb := validLesson()
	nb["language"], nb["title"], nb["specialty"], nb["category"] = "nb", "Strukturert overlevering på kirurgisk post", "surgery", "clinical_process"
	if r := h.do(http.MethodPost, "/api/v1/lessons", oskar, mustJSON(t, nb), nil); r.status != http.StatusCreated {
		t.Fatalf("publish nb: %d %s", r.status, r.body)
	}

	search := func(token, query string) lessonList {
		t.Helper()
		r := h.do(http.MethodGet, "/api/v1/lessons?"+query, token, nil, nil)
		var l lessonList
		r.json(t, &l)
		if r.status != http.StatusOK {
			t.Fatalf("search %q: %d %s", query, r.status, r.body)
		}
		return l
	}
	l := search(cora, "q="+url.QueryEscape("MORPHINE cafe"))
	if l.Total != 1 || l.Lessons[0].ID != pub.ID || l.Lessons[0].Organisation != "umc-utrecht" || !l.Lessons[0].FromSignal {
		t.Fatalf("a colleague elsewhere searching: %+v", l)
	}
	if strings.Contains(string(h.do(http.MethodGet, "/api/v1/lessons/"+pub.ID, cora, nil, nil).body), signalID) {
		t.Error("a lesson shows its signal's id to another organisation")
	}
	if l := search(cleo, "q="+url.QueryEscape("pa KIRURGISK")); l.Total != 1 || l.Lessons[0].Organisation != "haukeland" {
		t.Errorf("diacritics folded: %+v", l)
	}
	if l := search(cleo, "kind=good_practice&specialty=surgery&language=nb"); l.Total != 1 {
		t.Errorf("filters: %+v", l)
	}
	for _, role := range []auth.Principal{
		{Subject: "pia", Role: auth.RolePolicyAnalyst}, {Subject: "petra", Role: auth.RolePeerSupporter, Organisation: "isala"},
		{Subject: "ada", Role: auth.RoleAdmin}, reporter("rob", "karolinska"),
	} {
		if l := search(h.token(role), "q=morphine"); l.Total != 1 {
			t.Errorf("%s searching: %+v", role.Role, l)
		}
	}
	if r := h.do(http.MethodGet, "/api/v1/lessons?q=morphine", "", nil, nil); r.status != http.StatusUnauthorized {
		t.Errorf("without a token: %d", r.status)
	}

	// Translated later by its organisation; found by a word of the translation.
	tr := map[string]string{"language": "nl", "title": "Morfinesterktes aan het bed", "whatHappened": "Een tienvoudige dosis.", "whatWasLearned": "Etiketten lijken op elkaar."}
	if r := h.do(http.MethodPost, "/api/v1/lessons/"+pub.ID+"/translations", oskar, mustJSON(t, tr), nil); r.status != http.StatusNotFound {
		t.Errorf("translated by another organisation: %d %s", r.status, r.body)
	}
	if r := h.do(http.MethodPost, "/api/v1/lessons/"+pub.ID+"/translations", olga, mustJSON(t, tr), nil); r.status != http.StatusOK {
		t.Fatalf("translate: %d %s", r.status, r.body)
	}
	if l := search(cora, "q=morfinesterktes&language=nl"); l.Total != 1 || len(l.Lessons[0].Translations) != 1 || l.Lessons[0].Translations[0].Language != "nl" {
		t.Errorf("by its translation: %+v", l)
	}

	// Applied: once per organisation, counted; not by the publisher.
	applied := func(token string) response {
		return h.do(http.MethodPost, "/api/v1/lessons/"+pub.ID+"/applied", token, nil, nil)
	}
	if r := applied(cora); r.status != http.StatusOK || !strings.Contains(string(r.body), `"appliedCount":1`) {
		t.Fatalf("applied: %d %s", r.status, r.body)
	}
	if r := applied(cleo); r.status != http.StatusConflict {
		t.Errorf("applied again by the same organisation: %d %s", r.status, r.body)
	}
	if r := applied(olga); r.status != http.StatusConflict {
		t.Errorf("applied by the publisher: %d %s", r.status, r.body)
	}
	if r := applied(oskar); r.status != http.StatusOK {
		t.Errorf("applied by a second organisation: %d %s", r.status, r.body)
	}
	if l := search(cleo, "q=morphine"); l.Lessons[0].AppliedCount != 2 || !l.Lessons[0].AppliedHere {
		t.Errorf("count: %+v", l)
	}

	// Refusals name the field at fault.
	withBSN := validLesson()
	withBSN["whatHappened"] = "Patient 111222333 got the wrong dose."
	for _, tc := range []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"a personal number", withBSN, http.StatusUnprocessableEntity, "whatHappened"},
		{"another organisation's signal", map[string]any{"kind": "lesson", "signalId": signalID, "language": "en", "title": "t", "whatHappened": "w", "whatWasLearned": "l"}, http.StatusUnprocessableEntity, "signalId"},
		{"no title", map[string]any{"kind": "good_practice", "language": "en", "whatHappened": "w", "whatWasLearned": "l"}, http.StatusUnprocessableEntity, "title"},
		{"bad category", map[string]any{"kind": "good_practice", "language": "en", "title": "t", "whatHappened": "w", "whatWasLearned": "l", "category": "x"}, http.StatusUnprocessableEntity, "category"},
		{"unknown field", map[string]any{"kind": "good_practice", "colour": "red"}, http.StatusBadRequest, "colour"},
	} {
		r := h.do(http.MethodPost, "/api/v1/lessons", oskar, mustJSON(t, tc.body), nil)
		if r.status != tc.status || !strings.Contains(string(r.body), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
	for q, field := range map[string]string{"kind=x": "kind", "category=x": "category", "language=de": "language", "limit=0": "limit", "offset=-1": "offset", "colour=red": "colour", "q=" + strings.Repeat("a", 501): "q"} {
		r := h.do(http.MethodGet, "/api/v1/lessons?"+q, cora, nil, nil)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"field":"`+field+`"`) {
			t.Errorf("query %.20s: %d %s", q, r.status, r.body)
		}
	}
	if r := h.do(http.MethodGet, "/api/v1/lessons/not-a-uuid", cora, nil, nil); r.status != http.StatusBadRequest {
		t.Errorf("bad id: %d", r.status)
	}
	if r := h.do(http.MethodGet, "/api/v1/lessons/0193a5f0-0000-7000-8000-00000000ffff", cora, nil, nil); r.status != http.StatusNotFound {
		t.Errorf("unknown lesson: %d", r.status)
	}
}
