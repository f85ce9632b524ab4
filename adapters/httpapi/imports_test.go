package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/safesignal/safesignal/adapters/audit"
	"github.com/safesignal/safesignal/adapters/auth"
)

const importHeader = "rowKey,occurredAt,region,specialty,kind,category,harm,language,description,immediateActions"

type importAnswer struct {
	DryRun   bool `json:"dryRun"`
	Rows     int  `json:"rows"`
	Created  int  `json:"created"`
	Replayed int  `json:"replayed"`
	BadRows  int  `json:"badRows"`
	Bad      []struct {
		Row    int    `json:"row"`
		RowKey string `json:"rowKey"`
		Errors []struct {
			Field string `json:"field"`
			Code  string `json:"code"`
		} `json:"errors"`
	} `json:"bad"`
	Signals []struct {
		Row      int    `json:"row"`
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

// TestImportSkip: with onError=skip a real run stores the good rows once
// and lists the bad ones with the field at fault; a dry run says the same
// of the bad rows and stores nothing; a repeat replays the good rows;
// the runs that store are audited; a bad onError is a problem naming it.
func TestImportSkip(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	olga := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	at := time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)
	var b strings.Builder
	b.WriteString(importHeader + "\n")
	for i := range 20 {
		fmt.Fprintf(&b, "ok-%d,%s,NL-UT,surgery,near_miss,medication,none,nl,\"Rij %d,\nover twee regels.\",\n", i, at, i)
	}
	b.WriteString("bad-harm," + at + ",NL-UT,surgery,near_miss,medication,awful,nl,x,\n") // row 22
	b.WriteString("bad-date,gisteren,NL-UT,surgery,near_miss,medication,none,nl,x,\n")    // row 23
	b.WriteString("ok-3," + at + ",NL-UT,surgery,near_miss,medication,none,nl,again,\n")  // row 24
	b.WriteString("short,row\n")                                                          // row 25
	body := b.String()
	post := func(query string) (response, importAnswer) {
		t.Helper()
		r := h.do(http.MethodPost, "/api/v1/imports/signals"+query, olga, []byte(body), map[string]string{"Content-Type": "text/csv"})
		var a importAnswer
		_ = json.Unmarshal(r.body, &a)
		return r, a
	}
	wantBad := []struct {
		row        int
		key, field string
	}{{22, "bad-harm", "harm"}, {23, "bad-date", "occurredAt"}, {24, "ok-3", "rowKey"}, {25, "", "row"}}
	checkBad := func(name string, a importAnswer) {
		t.Helper()
		if len(a.Bad) != len(wantBad) || a.BadRows != len(wantBad) {
			t.Fatalf("%s: bad %d (badRows %d), want %d", name, len(a.Bad), a.BadRows, len(wantBad))
		}
		for i, w := range wantBad {
			got := a.Bad[i]
			if got.Row != w.row || got.RowKey != w.key || len(got.Errors) == 0 || got.Errors[0].Field != w.field {
				t.Errorf("%s: bad[%d] = %+v, want row %d key %q field %s", name, i, got, w.row, w.key, w.field)
			}
		}
	}

	for _, tc := range []struct {
		name, query               string
		status, created, replayed int
		dryRun                    bool
	}{
		{"dry run", "?dryRun=true&onError=skip", http.StatusOK, 0, 0, true},
		{"first run", "?onError=skip", http.StatusOK, 20, 0, false},
		{"second run", "?onError=skip&dryRun=false", http.StatusOK, 0, 20, false},
		{"reject after all", "?onError=reject", http.StatusUnprocessableEntity, 0, 0, false},
	} {
		r, a := post(tc.query)
		if r.status != tc.status || a.DryRun != tc.dryRun || a.Rows != 24 || a.Created != tc.created || a.Replayed != tc.replayed {
			t.Fatalf("%s: %d %s", tc.name, r.status, r.body)
		}
		checkBad(tc.name, a)
		if tc.status == http.StatusOK && !tc.dryRun {
			if len(a.Signals) != 20 {
				t.Fatalf("%s: %d signals", tc.name, len(a.Signals))
			}
			for i, s := range a.Signals {
				if s.Row != i+2 || s.RowKey != fmt.Sprintf("ok-%d", i) {
					t.Errorf("%s: signals[%d] = %+v: not in row order", tc.name, i, s)
				}
			}
		}
		if tri := h.do(http.MethodGet, "/api/v1/triage", olga, nil, nil); tc.name == "dry run" && !strings.Contains(string(tri.body), `"total":0`) ||
			tc.name != "dry run" && !strings.Contains(string(tri.body), `"total":20`) {
			t.Errorf("%s: triage %s", tc.name, tri.body)
		}
	}

	// Real runs that store are audited; a dry run and a refused run are not.
	recs, err := h.audit.Find(t.Context(), audit.Query{Actor: "olga"})
	imports := 0
	for _, rec := range recs {
		if rec.Action == "signal.import" {
			imports++
		}
	}
	if err != nil || imports != 2 {
		t.Errorf("%d signal.import records, want 2 (%v)", imports, err)
	}

	for _, tc := range []struct{ query, field string }{
		{"?onError=ignore", "onError"},
		{"?onError=SKIP", "onError"},
		{"?on_error=skip", "on_error"},
	} {
		r := h.do(http.MethodPost, "/api/v1/imports/signals"+tc.query, olga, []byte(body), map[string]string{"Content-Type": "text/csv"})
		var p struct {
			Type   string `json:"type"`
			Errors []struct {
				Field string `json:"field"`
			} `json:"errors"`
		}
		r.json(t, &p)
		if r.status != http.StatusBadRequest || r.header.Get("Content-Type") != "application/problem+json" || len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
			t.Errorf("%s: %d %s %s", tc.query, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
}
