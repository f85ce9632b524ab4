package httpapi

import (
	"encoding/json"
	"net/url"
	"testing"
)

// FuzzDecodeStrict feeds arbitrary bytes to the filing decoder: it must
// never panic, and whatever it accepts must be one valid JSON object whose
// keys are exactly the request's field names.
func FuzzDecodeStrict(f *testing.F) {
	for _, seed := range []string{
		`{"region":"NL-UT","kind":"near_miss","description":"x"}`,
		`{"kind":"a","kind":"b"}`,
		`{"Kind":"a"}`,
		`{"x":{"a":[1,2,{"b":null}]}}`,
		`{} {}`,
		`[`,
		`{"anonymous":true,"peerSupportRequested":false}`,
		"{\"description\":\"\xff\"}",
		`{"description":"\u0000"}`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req reportRequest
		if p := decodeStrict(body, &req); p != nil {
			if p.Status != 400 {
				t.Fatalf("decoder answered %d", p.Status)
			}
			return
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(body, &keys); err != nil {
			t.Fatalf("accepted a body that is not a JSON object: %q: %v", body, err)
		}
		fields := jsonFields(reflectType(&req))
		for k := range keys {
			if _, ok := fields[k]; !ok {
				t.Fatalf("accepted unknown key %q", k)
			}
		}
	})
}

// FuzzQueryParsers feeds arbitrary query strings to the triage board's and
// the trend views' parsers: they must never panic, and a refusal must be a
// 400 naming the parameter at fault.
func FuzzQueryParsers(f *testing.F) {
	for _, seed := range []string{
		"status=new,acknowledged&kind=near_miss&sort=-harm&limit=10&offset=5",
		"overdue=true&deadline=pending&category=medication",
		"limit=0", "limit=99999999999999999999", "offset=-1", "sort=%00", "kind=", "status=,,",
		"groupBy=category,period&period=week&from=2026-01-01&to=2026-06-30",
		"groupBy=category,specialty,region", "from=2026-02-30", "asOf=9999-12-31", "basis=occurred&period=month",
		"region=NL-UT&region=NO-46&organisation=umc-utrecht", "%zz", "a=1&a=2&a=3",
		"format=csv&from=2026-01-01&to=2026-02-01&status=closed", "format=ndjson&from=2026-11-20T14:30:00%2B01:00", "to=0000-01-01",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		check := func(what string, p *Problem) {
			if p == nil {
				return
			}
			if p.Status != 400 || len(p.Errors) == 0 {
				t.Fatalf("%s refused %q without naming a parameter: %+v", what, raw, p)
			}
			if _, ok := q[p.Errors[0].Field]; !ok {
				t.Fatalf("%s refused %q naming %q, which is not among its parameters", what, raw, p.Errors[0].Field)
			}
		}
		f, p := parseTriageFilter(q)
		check("triage", p)
		if p == nil && (f.Limit < 1 || f.Limit > 500 || f.Offset < 0) {
			t.Fatalf("triage accepted %q with limit %d, offset %d", raw, f.Limit, f.Offset)
		}
		_, p = parseTrendQuery(q)
		check("trends", p)
		e, p := parseExportQuery(q)
		check("export", p)
		if p == nil && (e.format != "ndjson" && e.format != "csv" ||
			!e.filter.ReportedFrom.IsZero() && !e.filter.ReportedTo.IsZero() && !e.filter.ReportedFrom.Before(e.filter.ReportedTo)) {
			t.Fatalf("export accepted %q as %+v", raw, e)
		}
	})
}
