package httpapi_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/safesignal/safesignal/adapters/audit"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/httpapi"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/trends"
	"github.com/safesignal/safesignal/projections/trends/detect"
	"github.com/safesignal/safesignal/projections/trends/synth"
	"go.uber.org/zap"
)

type nopAudit struct{}

func (nopAudit) Write(context.Context, audit.Record) error { return nil }
func (nopAudit) Find(context.Context, audit.Query) ([]audit.Record, error) {
	return nil, nil
}

// trendServer serves the API over a cube folded from a synthetic log,
// without JetStream: the trend views only read the cube.
type trendServer struct {
	t     *testing.T
	url   string
	token string
	log   *synth.Log
}

func newTrendServer(t *testing.T, fill func(l *synth.Log) error) *trendServer {
	t.Helper()
	l := synth.New()
	if err := fill(l); err != nil {
		t.Fatal(err)
	}
	cube := trends.NewMemory()
	detector := detect.New(detect.Options{})
	for _, p := range []projections.Projection{cube, detector} {
		if err := p.Apply(context.Background(), l.Events(), l.Last()); err != nil {
			t.Fatal(err)
		}
	}
	issuer, err := auth.LoadOrCreateLocalIssuer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	api := httpapi.New(httpapi.Deps{Verifier: issuer.Verifier(), Audit: nopAudit{}, Trends: cube, TrendSignals: detector, Logger: zap.NewNop(),
		RateLimit: httpapi.RateLimit{PerSecond: 10_000, Burst: 10_000}})
	ts := httptest.NewServer(api)
	t.Cleanup(ts.Close)
	tok, err := issuer.Issue(auth.Principal{Subject: "pia", Role: auth.RolePolicyAnalyst, Region: "NL-UT"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &trendServer{t: t, url: ts.URL, token: tok, log: l}
}

func (s *trendServer) get(query string, accept string) response {
	s.t.Helper()
	return s.getPath("/api/v1/trends?"+query, accept)
}

func (s *trendServer) getPath(path string, accept string) response {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// known files 12 medication signals in ISO week 2026-W14, 6 in W15 and 2
// blood signals in W15, all NL-UT, anaesthesiology.
func known(l *synth.Log) error {
	at := func(d int) time.Time { return time.Date(2026, 3, 30+d, 9, 0, 0, 0, time.UTC) }
	for i := range 12 {
		if _, err := l.Report(synth.Filing{Category: domain.CategoryMedication, ReportedAt: at(i % 7)}); err != nil {
			return err
		}
	}
	for i := range 6 {
		if _, err := l.Report(synth.Filing{Category: domain.CategoryMedication, ReportedAt: at(7 + i)}); err != nil {
			return err
		}
	}
	for i := range 2 {
		if _, err := l.Report(synth.Filing{Category: domain.CategoryBlood, ReportedAt: at(8 + i)}); err != nil {
			return err
		}
	}
	return nil
}

func TestTrendsQueryValidation(t *testing.T) {
	t.Parallel()
	s := newTrendServer(t, known)
	tests := []struct{ query, field string }{
		{"category=medication,bogus", "category"},
		{"kind=near_miss&kind=nope", "kind"},
		{"harm=awful", "harm"},
		{"specialty=astrology", "specialty"},
		{"region=Utrecht", "region"},
		{"organisation=a%20b", "organisation"},
		{"groupBy=category,period,kind", "groupBy"},
		{"groupBy=colour", "groupBy"},
		{"period=day", "period"},
		{"basis=filed", "basis"},
		{"from=2026-13-01", "from"},
		{"from=2026-04-10&to=2026-04-01", "to"},
		{"asOf=yesterday", "asOf"},
		{"colour=red", "colour"},
		{"period=week&period=month", "period"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := s.get(tt.query, "")
			var p httpapi.Problem
			r.json(t, &p)
			if r.status != http.StatusBadRequest || len(p.Errors) == 0 || p.Errors[0].Field != tt.field {
				t.Fatalf("got %d %s, want 400 naming %s", r.status, r.body, tt.field)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q", ct)
			}
		})
	}
}

func TestTrendsJSON(t *testing.T) {
	t.Parallel()
	s := newTrendServer(t, known)
	r := s.get("groupBy=category,period&basis=reported", "")
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var body struct {
		K     int              `json:"k"`
		Total *int             `json:"total"`
		Cells []map[string]any `json:"cells"`
	}
	r.json(t, &body)
	// blood W15 = 2 is suppressed. It is the only suppressed cell of its
	// column (W15, whose margin 8 groupBy=period shows), so medication W15
	// (6) goes too; that leaves it alone in its row (medication, margin 18
	// under groupBy=category), so medication W14 (12) goes as well:
	// otherwise 18 − 12 = 6 and then 8 − 6 = 2.
	want := `[{"category":"blood","count":null,"period":"2026-W15","suppressed":true},{"category":"medication","count":null,"period":"2026-W14","suppressed":true},{"category":"medication","count":null,"period":"2026-W15","suppressed":true}]`
	got, _ := json.Marshal(body.Cells)
	if string(got) != want || body.K != 5 || body.Total == nil || *body.Total != 20 {
		t.Fatalf("got k %d total %v cells %s\nwant cells %s", body.K, body.Total, got, want)
	}
	// A filter whose complement is 2 signals is refused, naming it.
	r = s.get("category=medication", "")
	var p httpapi.Problem
	r.json(t, &p)
	if r.status != http.StatusBadRequest || p.Type != "/problems/disclosure-refused" || p.Errors[0].Field != "category" {
		t.Fatalf("got %d %s", r.status, r.body)
	}
}

func TestTrendsCSV(t *testing.T) {
	t.Parallel()
	s := newTrendServer(t, known)
	r := s.get("groupBy=period&basis=reported", "text/csv")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("%d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if want := "period,count,suppressed\r\n2026-W14,12,false\r\n2026-W15,8,false\r\n"; string(r.body) != want {
		t.Fatalf("got %q, want %q", r.body, want)
	}
	// By month: March holds the filings of 30 and 31 March (i%7 = 0 or 1
	// for i < 12: i = 0, 1, 7, 8), 4, suppressed; April 16, suppressed as
	// the lone other cell (the total 20 would give March away).
	r = s.get("groupBy=period&basis=reported&period=month", "text/csv")
	if want := "period,count,suppressed\r\n2026-03,,true\r\n2026-04,,true\r\n"; string(r.body) != want {
		t.Fatalf("got %q, want %q", r.body, want)
	}
	r = s.get("groupBy=category,period&basis=reported", "text/csv; q=0.9, application/json;q=0.1")
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"category", "period", "count", "suppressed"}, {"blood", "2026-W15", "", "true"}, {"medication", "2026-W14", "", "true"}, {"medication", "2026-W15", "", "true"}}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", rows, want)
	}
}

// TestTrendsAdversarial asks many queries, in pairs that differ by one
// filter, over a data set of many small cells, and checks that no answer
// shows a count of 1..k−1, a signal id, a reporter or free text.
func TestTrendsAdversarial(t *testing.T) {
	t.Parallel()
	s := newTrendServer(t, func(l *synth.Log) error {
		return l.Random(synth.Options{Seed: 3, Signals: 500, RejectShare: 0.1, DuplicateShare: 0.05, ReclassifyShare: 0.2})
	})
	groupings := []string{"", "category", "region", "organisation", "specialty", "period", "kind,harm", "category,period", "organisation,category", "region,specialty"}
	filters := []string{"", "region=NL-UT", "region=NL-UT&kind=near_miss", "category=medication,blood", "category=medication&category=blood&category=behaviour",
		"organisation=org-NL-UT-1", "specialty=surgery", "harm=none", "kind=harmful_incident&harm=severe", "from=2026-02-01&to=2026-02-28",
		"from=2026-02-02&to=2026-03-01&period=month", "basis=reported&asOf=2026-02-15", "specialty=surgery&category=blood"}
	var answered, refused int
	for _, g := range groupings {
		for _, f := range filters {
			q := url.Values{}
			extra, _ := url.ParseQuery(f)
			for k, v := range extra {
				q[k] = v
			}
			if g != "" {
				q.Set("groupBy", g)
			}
			for _, accept := range []string{"", "text/csv"} {
				r := s.get(q.Encode(), accept)
				body := string(r.body)
				for _, secret := range []string{synth.Secret, synth.Reporter, "reporter"} {
					if strings.Contains(body, secret) {
						t.Fatalf("%s: answer contains %q: %s", q.Encode(), secret, body)
					}
				}
				for _, id := range s.log.IDs() {
					if strings.Contains(body, id.String()) {
						t.Fatalf("%s: answer names signal %s", q.Encode(), id)
					}
				}
				switch r.status {
				case http.StatusBadRequest:
					refused++
					continue
				case http.StatusOK:
					answered++
				default:
					t.Fatalf("%s: %d %s", q.Encode(), r.status, body)
				}
				if accept == "text/csv" {
					rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
					if err != nil {
						t.Fatal(err)
					}
					for _, row := range rows[1:] {
						if n, err := strconv.Atoi(row[len(row)-2]); err == nil && n > 0 && n < 5 {
							t.Fatalf("%s: CSV row %v", q.Encode(), row)
						}
					}
					continue
				}
				var res struct {
					Total *int `json:"total"`
					Cells []struct {
						Count *int `json:"count"`
					} `json:"cells"`
				}
				r.json(t, &res)
				if res.Total != nil && *res.Total > 0 && *res.Total < 5 {
					t.Fatalf("%s: total %d", q.Encode(), *res.Total)
				}
				for _, c := range res.Cells {
					if c.Count != nil && *c.Count > 0 && *c.Count < 5 {
						t.Fatalf("%s: a cell shows %d: %s", q.Encode(), *c.Count, body)
					}
				}
			}
		}
	}
	if answered == 0 || refused == 0 {
		t.Fatalf("%d answered, %d refused", answered, refused)
	}
}

// TestTrendSignalsInbox files 30 weeks of 10 medication signals a week in
// anaesthesiology with 30 in week 25, and 3 a week of blood in surgery;
// the inbox shows the spike, and no weekly count of 1..4.
func TestTrendSignalsInbox(t *testing.T) {
	t.Parallel()
	monday := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	s := newTrendServer(t, func(l *synth.Log) error {
		for w := range 31 {
			n, small := 10, 3
			switch w {
			case 25:
				n = 30
			case 30:
				n, small = 1, 0
			}
			for i := range n + small {
				f := synth.Filing{Category: domain.CategoryMedication, ReportedAt: monday.AddDate(0, 0, 7*w).Add(time.Duration(i) * time.Minute)}
				if i >= n {
					f.Category, f.Specialty = domain.CategoryBlood, "surgery"
				}
				if _, err := l.Report(f); err != nil {
					return err
				}
			}
		}
		return nil
	})
	r := s.getPath("/api/v1/trends/signals", "")
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var body struct {
		K       int `json:"k"`
		Signals []struct {
			Key       string `json:"key"`
			Rule      string `json:"rule"`
			Category  string `json:"category"`
			Specialty string `json:"specialty"`
			From      string `json:"from"`
			Points    []*int `json:"points"`
		} `json:"signals"`
	}
	r.json(t, &body)
	found := false
	for _, sig := range body.Signals {
		for _, p := range sig.Points {
			if p != nil && *p > 0 && *p < body.K {
				t.Fatalf("signal %s shows a count of %d", sig.Key, *p)
			}
		}
		if sig.Rule == "outside_limits" && sig.Category == "medication" && sig.Specialty == "anaesthesiology" &&
			sig.From == "2026-06-29" && len(sig.Points) == 1 && *sig.Points[0] == 30 {
			found = true
		}
	}
	if !found {
		t.Fatalf("no outside_limits signal for week 25 (2026-06-29): %s", r.body)
	}
	if strings.Contains(string(r.body), synth.Secret) || strings.Contains(string(r.body), synth.Reporter) {
		t.Fatalf("inbox shows free text or a reporter: %s", r.body)
	}
	if r := s.getPath("/api/v1/trends/signals?all=true", ""); r.status != http.StatusBadRequest {
		t.Fatalf("unknown parameter: %d", r.status)
	}
}

// TestTrendsThroughTheLog files signals through the API on a real
// JetStream, reclassifies and rejects some, and reads the counts back as
// a policy analyst: the cube is fed by its own runner from the log.
func TestTrendsThroughTheLog(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	alice := h.token(reporter("alice", "umc-utrecht"))
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	var ids []string
	for range 12 {
		res := h.do(http.MethodPost, "/api/v1/signals", alice, mustJSON(t, validBody()), nil)
		if res.status != http.StatusCreated {
			t.Fatalf("file: %d %s", res.status, res.body)
		}
		ids = append(ids, strings.TrimPrefix(res.header.Get("Location"), "/api/v1/signals/"))
	}
	// Five move from medication to medical_device; one is rejected.
	for i, id := range ids[:6] {
		if r := h.do(http.MethodPost, "/api/v1/signals/"+id+"/acknowledge", officer, nil, map[string]string{"If-Match": `"1"`}); r.status != http.StatusOK {
			t.Fatalf("acknowledge: %d %s", r.status, r.body)
		}
		if i == 5 {
			if r := h.do(http.MethodPost, "/api/v1/signals/"+id+"/reject", officer, []byte(`{"reason":"test"}`), map[string]string{"If-Match": `"2"`}); r.status != http.StatusOK {
				t.Fatalf("reject: %d %s", r.status, r.body)
			}
			continue
		}
		body := `{"kind":"near_miss","category":"medical_device","harm":"none"}`
		if r := h.do(http.MethodPost, "/api/v1/signals/"+id+"/classify", officer, []byte(body), map[string]string{"If-Match": `"2"`}); r.status != http.StatusOK {
			t.Fatalf("classify: %d %s", r.status, r.body)
		}
	}
	pia := h.token(auth.Principal{Subject: "pia", Role: auth.RolePolicyAnalyst, Region: "NL-UT"})
	r := h.do(http.MethodGet, "/api/v1/trends?groupBy=category", pia, nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var body struct {
		Total int              `json:"total"`
		Cells []map[string]any `json:"cells"`
	}
	r.json(t, &body)
	got, _ := json.Marshal(body.Cells)
	if want := `[{"category":"medical_device","count":5},{"category":"medication","count":6}]`; string(got) != want || body.Total != 11 {
		t.Fatalf("got total %d cells %s, want 11 and %s", body.Total, got, want)
	}
	for _, id := range ids {
		if strings.Contains(string(r.body), id) {
			t.Fatal("the answer names a signal")
		}
	}
	if r := h.do(http.MethodGet, "/api/v1/trends", alice, nil, nil); r.status != http.StatusForbidden {
		t.Fatalf("a reporter reads trends: %d", r.status)
	}
}

// TestTrendRoutesAdmitPolicyStaff pins the access decision for the trend
// views: policy analysts and admins, nobody else.
func TestTrendRoutesAdmitPolicyStaff(t *testing.T) {
	t.Parallel()
	want := []auth.Role{auth.RolePolicyAnalyst, auth.RoleAdmin}
	seen := 0
	for _, rt := range httpapi.New(httpapi.Deps{}).Routes() {
		if !strings.HasPrefix(rt.Pattern, "/api/v1/trends") {
			continue
		}
		seen++
		if rt.Public || fmt.Sprint(rt.Roles) != fmt.Sprint(want) {
			t.Errorf("%s %s admits %v (public %v), want %v", rt.Method, rt.Pattern, rt.Roles, rt.Public, want)
		}
	}
	if seen != 2 {
		t.Fatalf("%d trend routes, want 2", seen)
	}
}
