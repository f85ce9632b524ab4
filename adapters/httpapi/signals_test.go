package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
)

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Errors []struct {
		Field string `json:"field"`
		Code  string `json:"code"`
	} `json:"errors"`
}

func TestFileAndReadBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token(reporter("alice", "umc-utrecht"))
	body := validBody()
	res := h.do(http.MethodPost, "/api/v1/signals", tok, mustJSON(t, body), nil)
	if res.status != http.StatusCreated {
		t.Fatalf("file: %d %s", res.status, res.body)
	}
	var created struct {
		ID      uuid.UUID `json:"id"`
		Version int       `json:"version"`
	}
	res.json(t, &created)
	if created.Version != 1 || res.header.Get("Location") != "/api/v1/signals/"+created.ID.String() || res.header.Get("ETag") != `"1"` {
		t.Fatalf("created: %+v, Location %q, ETag %q", created, res.header.Get("Location"), res.header.Get("ETag"))
	}

	// Read-your-writes: no sleep, no retry.
	got := h.do(http.MethodGet, res.header.Get("Location"), tok, nil, nil)
	if got.status != http.StatusOK {
		t.Fatalf("read back: %d %s", got.status, got.body)
	}
	var sig map[string]any
	got.json(t, &sig)
	for _, k := range []string{"organisation", "region", "specialty", "kind", "category", "harm", "description", "immediateActions", "language"} {
		if sig[k] != body[k] {
			t.Errorf("%s: got %v, want %v", k, sig[k], body[k])
		}
	}
	if sig["status"] != "reported" || sig["reporter"] != "alice" || sig["version"] != float64(1) || got.header.Get("ETag") != `"1"` {
		t.Errorf("unexpected signal: %v (ETag %s)", sig, got.header.Get("ETag"))
	}
	if got.header.Get("Content-Type") != "application/json" {
		t.Errorf("content type %q", got.header.Get("Content-Type"))
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	alice := h.token(reporter("alice", "umc-utrecht"))
	bob := h.token(reporter("bob", "umc-utrecht"))
	key := map[string]string{"Idempotency-Key": "filing-7f3a"}
	first := h.do(http.MethodPost, "/api/v1/signals", alice, mustJSON(t, validBody()), key)
	again := h.do(http.MethodPost, "/api/v1/signals", alice, mustJSON(t, validBody()), key)
	other := h.do(http.MethodPost, "/api/v1/signals", bob, mustJSON(t, validBody()), key)
	for _, r := range []response{first, again, other} {
		if r.status != http.StatusCreated {
			t.Fatalf("file: %d %s", r.status, r.body)
		}
	}
	if first.header.Get("Location") != again.header.Get("Location") || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry with the same key made a new signal or was not marked: %s vs %s", first.header.Get("Location"), again.header.Get("Location"))
	}
	if other.header.Get("Location") == first.header.Get("Location") {
		t.Fatal("another caller's key collided with alice's")
	}
	id := strings.TrimPrefix(first.header.Get("Location"), "/api/v1/signals/")
	commits, err := h.log.Load(context.Background(), eventstore.Aggregate{Type: projections.AggregateSignal, ID: id}, 0)
	if err != nil || len(commits) != 1 {
		t.Fatalf("log holds %d commits for the signal (%v), want 1", len(commits), err)
	}
	if commits[0].Events[0].IdempotencyKey == key["Idempotency-Key"] {
		t.Fatal("the raw idempotency key is stored in the log; only a keyed fingerprint may be")
	}
}

func TestAnonymousFilingKeepsNoIdentity(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	alice := h.token(reporter("alice", "umc-utrecht"))
	body := validBody()
	body["anonymous"] = true
	res := h.do(http.MethodPost, "/api/v1/signals", alice, mustJSON(t, body), map[string]string{"Idempotency-Key": "anon-1"})
	if res.status != http.StatusCreated {
		t.Fatalf("file: %d %s", res.status, res.body)
	}
	id := strings.TrimPrefix(res.header.Get("Location"), "/api/v1/signals/")
	commits, err := h.log.Load(context.Background(), eventstore.Aggregate{Type: projections.AggregateSignal, ID: id}, 0)
	if err != nil || len(commits) != 1 {
		t.Fatalf("load: %v", err)
	}
	env := commits[0].Events[0]
	if env.Actor != "" || strings.Contains(string(env.Data), "alice") || strings.Contains(env.IdempotencyKey, "alice") {
		t.Fatalf("an anonymous filing carries its reporter: %+v", env)
	}
	// The reporter cannot read it by id (anonymous follow-up goes through a receipt).
	if r := h.do(http.MethodGet, res.header.Get("Location"), alice, nil, nil); r.status != http.StatusNotFound {
		t.Fatalf("reporter read an anonymous signal by id: %d", r.status)
	}
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	r := h.do(http.MethodGet, res.header.Get("Location"), officer, nil, nil)
	if r.status != http.StatusOK || strings.Contains(string(r.body), "alice") {
		t.Fatalf("safety officer: %d %s", r.status, r.body)
	}
}

func TestReadAccess(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.do(http.MethodPost, "/api/v1/signals", h.token(reporter("alice", "umc-utrecht")), mustJSON(t, validBody()), nil)
	if res.status != http.StatusCreated {
		t.Fatalf("file: %d %s", res.status, res.body)
	}
	loc := res.header.Get("Location")
	tests := []struct {
		name string
		p    auth.Principal
		want int
	}{
		{"the reporter", reporter("alice", "umc-utrecht"), http.StatusOK},
		{"another reporter of the organisation", reporter("bob", "umc-utrecht"), http.StatusNotFound},
		{"the organisation's safety officer", auth.Principal{Subject: "o1", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"}, http.StatusOK},
		{"another organisation's safety officer", auth.Principal{Subject: "o2", Role: auth.RoleSafetyOfficer, Organisation: "haukeland"}, http.StatusNotFound},
		{"an admin", auth.Principal{Subject: "a1", Role: auth.RoleAdmin}, http.StatusOK},
		{"a colleague", auth.Principal{Subject: "c1", Role: auth.RoleColleague, Specialty: "anaesthesiology"}, http.StatusForbidden},
		{"policy staff", auth.Principal{Subject: "p1", Role: auth.RolePolicyAnalyst, Region: "NL-UT"}, http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if r := h.do(http.MethodGet, loc, h.token(tc.p), nil, nil); r.status != tc.want {
				t.Fatalf("got %d, want %d: %s", r.status, tc.want, r.body)
			}
		})
	}
}

func TestInvalidFilingsNameTheField(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token(reporter("alice", "umc-utrecht"))
	with := func(k string, v any) []byte {
		b := validBody()
		b[k] = v
		return mustJSON(t, b)
	}
	without := func(k string) []byte {
		b := validBody()
		delete(b, k)
		return mustJSON(t, b)
	}
	tests := []struct {
		name   string
		body   []byte
		status int
		field  string
	}{
		{"other organisation", with("organisation", "haukeland"), 422, "organisation"},
		{"bad region", with("region", "Utrecht"), 422, "region"},
		{"missing region", without("region"), 422, "region"},
		{"bad specialty", with("specialty", "astrology"), 422, "specialty"},
		{"occurredAt not a date", with("occurredAt", "yesterday"), 422, "occurredAt"},
		{"occurredAt in the future", with("occurredAt", "2999-01-01T00:00:00Z"), 422, "occurredAt"},
		{"occurredAt before 1900", with("occurredAt", "1899-12-31T00:00:00Z"), 422, "occurredAt"},
		{"bad kind", with("kind", "disaster"), 422, "kind"},
		{"bad category", with("category", "food"), 422, "category"},
		{"bad harm", with("harm", "some"), 422, "harm"},
		{"harm on a near miss", with("harm", "severe"), 422, "harm"},
		{"empty description", with("description", ""), 422, "description"},
		{"description too long", with("description", strings.Repeat("x", 10_001)), 422, "description"},
		{"immediate actions too long", with("immediateActions", strings.Repeat("x", 5_001)), 422, "immediateActions"},
		{"bad language", with("language", "de"), 422, "language"},
		{"wrong type", with("anonymous", "yes"), 400, "anonymous"},
		{"number for a string", with("description", 42), 400, "description"},
		{"null description", with("description", nil), 422, "description"},
		{"unknown field", with("patientName", "J. Jansen"), 400, "patientName"},
		{"case-variant key", []byte(strings.Replace(string(validBody2(t)), `"kind"`, `"Kind"`, 1)), 400, "Kind"},
		{"duplicate key", []byte(`{"kind":"near_miss","kind":"near_miss"}`), 400, "kind"},
		{"case-variant duplicate", []byte(`{"kind":"near_miss","KIND":"near_miss"}`), 400, "KIND"},
		{"nested duplicate key", []byte(`{"description":"x","x":{"a":1,"a":2}}`), 400, "x"},
		{"trailing data", append(validBody2(t), []byte(` {}`)...), 400, ""},
		{"trailing garbage", append(validBody2(t), 'x'), 400, ""},
		{"not an object", []byte(`["kind"]`), 400, ""},
		{"empty body", []byte(``), 400, ""},
		{"truncated", []byte(`{"kind":`), 400, ""},
		{"invalid UTF-8", []byte("{\"description\":\"\xff\"}"), 400, ""},
		{"deeply nested", []byte(`{"x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`), 400, "x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := h.do(http.MethodPost, "/api/v1/signals", tok, tc.body, nil)
			if r.status != tc.status {
				t.Fatalf("got %d, want %d: %s", r.status, tc.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q", ct)
			}
			var p problem
			r.json(t, &p)
			if p.Status != tc.status || p.Type == "" || p.Title == "" {
				t.Fatalf("incomplete problem: %s", r.body)
			}
			if tc.field == "" {
				return
			}
			for _, e := range p.Errors {
				if strings.HasPrefix(e.Field, tc.field) {
					return
				}
			}
			t.Fatalf("problem does not name %q: %s", tc.field, r.body)
		})
	}
}

func validBody2(t *testing.T) []byte { return mustJSON(t, validBody()) }

func TestTransportErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token(reporter("alice", "umc-utrecht"))
	huge := []byte(`{"description":"` + strings.Repeat("x", 2<<20) + `"}`)
	tests := []struct {
		name   string
		method string
		path   string
		token  string
		body   []byte
		header map[string]string
		status int
	}{
		{"oversize body", http.MethodPost, "/api/v1/signals", tok, huge, nil, http.StatusRequestEntityTooLarge},
		{"form body", http.MethodPost, "/api/v1/signals", tok, []byte("kind=near_miss"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"no content type", http.MethodPost, "/api/v1/signals", tok, []byte("{}"), map[string]string{"Content-Type": ""}, http.StatusUnsupportedMediaType},
		{"no token", http.MethodPost, "/api/v1/signals", "", validBody2(t), nil, http.StatusUnauthorized},
		{"garbage token", http.MethodPost, "/api/v1/signals", "not-a-jwt", validBody2(t), nil, http.StatusUnauthorized},
		{"huge token", http.MethodGet, "/api/v1/signals/" + uuid.NewString(), strings.Repeat("a", 20_000), nil, nil, http.StatusUnauthorized},
		{"policy staff may not file", http.MethodPost, "/api/v1/signals", h.token(auth.Principal{Subject: "p", Role: auth.RolePolicyAnalyst}), validBody2(t), nil, http.StatusForbidden},
		{"bad idempotency key", http.MethodPost, "/api/v1/signals", tok, validBody2(t), map[string]string{"Idempotency-Key": "has space"}, http.StatusBadRequest},
		{"unknown signal", http.MethodGet, "/api/v1/signals/" + uuid.NewString(), tok, nil, nil, http.StatusNotFound},
		{"malformed id", http.MethodGet, "/api/v1/signals/not-a-uuid", tok, nil, nil, http.StatusBadRequest},
		{"unknown route", http.MethodGet, "/api/v1/nothing", tok, nil, nil, http.StatusNotFound},
		{"wrong method", http.MethodDelete, "/api/v1/signals", tok, nil, nil, http.StatusMethodNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := h.do(tc.method, tc.path, tc.token, tc.body, tc.header)
			if r.status != tc.status {
				t.Fatalf("got %d, want %d: %s", r.status, tc.status, r.body)
			}
		})
	}
}

func TestConcurrentFilingsAllLand(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const n = 64
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = h.token(reporter(fmt.Sprint("reporter-", i), "umc-utrecht"))
	}
	var wg sync.WaitGroup
	locs := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := validBody()
			b["description"] = fmt.Sprintf("concurrent filing %d", i)
			r := h.do(http.MethodPost, "/api/v1/signals", tokens[i], mustJSON(t, b), nil)
			if r.status != http.StatusCreated {
				t.Errorf("filing %d: %d %s", i, r.status, r.body)
			}
			locs[i] = r.header.Get("Location")
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, loc := range locs {
		if seen[loc] {
			t.Fatalf("two filings got %s", loc)
		}
		seen[loc] = true
		r := h.do(http.MethodGet, loc, tokens[i], nil, nil)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), fmt.Sprintf("concurrent filing %d\"", i)) {
			t.Fatalf("filing %d not readable: %d %s", i, r.status, r.body)
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if r := h.do(http.MethodGet, "/healthz", "", nil, nil); r.status != http.StatusOK {
		t.Fatalf("healthz: %d", r.status)
	}
	// Readiness comes once the projection has caught up with the (empty) log.
	for range 100 {
		if r := h.do(http.MethodGet, "/readyz", "", nil, nil); r.status == http.StatusOK {
			return
		}
		waitABit()
	}
	t.Fatal("never ready")
}
