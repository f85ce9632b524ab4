package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/safesignal/safesignal/adapters/auth"
)

const importHeader = "rowKey,occurredAt,region,specialty,kind,category,harm,language,description,immediateActions"

type importAnswer struct {
	DryRun   bool `json:"dryRun"`
	Rows     int  `json:"rows"`
	Created  int  `json:"created"`
	Replayed int  `json:"replayed"`
	Bad      []struct {
		Row    int    `json:"row"`
		RowKey string `json:"rowKey"`
		Errors []struct {
			Field string `json:"field"`
			Code  string `json:"code"`
		} `json:"errors"`
	} `json:"bad"`
	Signals []struct {
		RowKey   string `json:"rowKey"`
		ID       string `json:"id"`
		Replayed bool   `json:"replayed"`
	} `json:"signals"`
}

// TestImportSignals: a dry run lists the bad rows with the field at fault;
// a real run with a bad row stores nothing; a good file is stored once,
// and importing it again (by another officer) replays every row.
func TestImportSignals(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	olga := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	otto := h.token(auth.Principal{Subject: "otto", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	at := time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)
	good := importHeader + "\n" +
		"old-1," + at + ",NL-UT,anaesthesiology,near_miss,medication,none,nl,\"Verwisseling van ampullen, op tijd opgemerkt.\",\n" +
		"old-2," + at + ",NL-UT,surgery,harmful_incident,patient_accident,mild,nl,\"Val uit bed;\nbij nacht.\",Bedhekken geplaatst\n"
	bad := good +
		"old-1," + at + ",NL-UT,surgery,near_miss,medication,none,nl,repeat,\n" +
		"old-4,yesterday,XX,surgery,near_miss,medication,severe,de,,\n" +
		"old-5,too,few\n"
	post := func(token, query, body string) (response, importAnswer) {
		t.Helper()
		r := h.do(http.MethodPost, "/api/v1/imports/signals"+query, token, []byte(body), map[string]string{"Content-Type": "text/csv"})
		var a importAnswer
		_ = json.Unmarshal(r.body, &a)
		return r, a
	}
	r, a := post(olga, "?dryRun=true", bad)
	if r.status != http.StatusOK || !a.DryRun || a.Rows != 5 || len(a.Bad) != 3 || a.Created != 0 {
		t.Fatalf("dry run: %d %s", r.status, r.body)
	}
	fields := map[string][]string{}
	for _, b := range a.Bad {
		for _, e := range b.Errors {
			fields[b.RowKey] = append(fields[b.RowKey], e.Field)
		}
	}
	if got := strings.Join(fields["old-1"], ","); got != "rowKey" {
		t.Errorf("repeated key: %v", got)
	}
	if got := strings.Join(fields["old-4"], ","); got != "occurredAt,region,harm,description,language" {
		t.Errorf("bad values: %v", got)
	}
	if got := strings.Join(fields[""], ","); got != "row" || a.Bad[2].Row != 6 {
		t.Errorf("short row: %v (row %d)", got, a.Bad[2].Row)
	}
	if r, _ := post(olga, "", bad); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("a real run with bad rows: %d %s", r.status, r.body)
	}
	if tri := h.do(http.MethodGet, "/api/v1/triage", olga, nil, nil); !strings.Contains(string(tri.body), `"total":0`) {
		t.Fatalf("a refused import stored something: %s", tri.body)
	}

	r, a = post(olga, "", good)
	if r.status != http.StatusOK || a.Created != 2 || a.Replayed != 0 || len(a.Signals) != 2 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	first := a.Signals
	r, a = post(otto, "", good)
	if r.status != http.StatusOK || a.Created != 0 || a.Replayed != 2 || a.Signals[0].ID != first[0].ID || a.Signals[1].ID != first[1].ID {
		t.Fatalf("imported again: %d %s", r.status, r.body)
	}
	if tri := h.do(http.MethodGet, "/api/v1/triage", olga, nil, nil); !strings.Contains(string(tri.body), `"total":2`) {
		t.Errorf("triage after the import: %s", tri.body)
	}
	sig := h.do(http.MethodGet, "/api/v1/signals/"+first[1].ID, olga, nil, nil)
	if sig.status != http.StatusOK || !strings.Contains(string(sig.body), `Val uit bed;\nbij nacht.`) || !strings.Contains(string(sig.body), `"anonymous":true`) {
		t.Errorf("imported signal: %d %s", sig.status, sig.body)
	}

	for _, tc := range []struct {
		name, query, ct, body string
		status                int
	}{
		{"wrong header", "", "text/csv", "a,b\n1,2\n", http.StatusUnprocessableEntity},
		{"JSON", "", "application/json", "{}", http.StatusUnsupportedMediaType},
		{"bad dryRun", "?dryRun=yes", "text/csv", good, http.StatusBadRequest},
		{"unknown parameter", "?force=1", "text/csv", good, http.StatusBadRequest},
	} {
		r := h.do(http.MethodPost, "/api/v1/imports/signals"+tc.query, olga, []byte(tc.body), map[string]string{"Content-Type": tc.ct})
		if r.status != tc.status {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
}
