package importclient

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const header = "rowKey,occurredAt,region,specialty,kind,category,harm,language,description,immediateActions\n"

// fake is an import API that counts rows the way the real one does and
// refuses rows whose harm is "bad"; fail, when set, may answer a request
// otherwise (it returns false to let the request through).
type fake struct {
	t        *testing.T
	maxBytes int
	mu       sync.Mutex
	calls    []string // the query of each request
	sizes    []int    // rows per request that got through
	stored   map[string]bool
	fail     func(call int, w http.ResponseWriter) bool
}

func newFake(t *testing.T) (*fake, string) {
	f := &fake{t: t, maxBytes: MaxBytes, stored: map[string]bool{}}
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	return f, ts.URL
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.URL.RawQuery)
	if r.URL.Path != Path || r.Header.Get("Authorization") != "Bearer tok" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"type":"/problems/unauthenticated","title":"Unauthenticated"}`)
		return
	}
	if f.fail != nil && f.fail(len(f.calls), w) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	if len(body) > f.maxBytes {
		f.t.Errorf("a request of %d bytes", len(body))
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(recs) < 2 || len(recs) > MaxRows+1 || strings.Join(recs[0], ",")+"\n" != header {
		f.t.Errorf("a request the server would refuse (%v): %d records", err, len(recs))
	}
	f.sizes = append(f.sizes, len(recs)-1)
	dry := r.URL.Query().Get("dryRun") == "true"
	a := map[string]any{"rows": len(recs) - 1}
	var bad []map[string]any
	created, replayed := 0, 0
	for i, rec := range recs[1:] {
		switch {
		case rec[6] == "bad":
			bad = append(bad, map[string]any{"row": i + 2, "rowKey": rec[0], "errors": []map[string]string{{"field": "harm", "code": "invalid"}}})
		case dry:
		case f.stored[rec[0]]:
			replayed++
		default:
			created++
		}
	}
	status := http.StatusOK
	if len(bad) > 0 && r.URL.Query().Get("onError") == "reject" && !dry {
		status, created, replayed = http.StatusUnprocessableEntity, 0, 0
	} else if !dry {
		for _, rec := range recs[1:] {
			if rec[6] != "bad" {
				f.stored[rec[0]] = true
			}
		}
	}
	a["created"], a["replayed"], a["bad"] = created, replayed, bad
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(a)
}

// file writes n rows; rows whose index is in bad get harm "bad"; every
// third description spans two lines.
func file(n int, bad map[int]bool) string {
	var b strings.Builder
	b.WriteString(header)
	for i := range n {
		harm := "none"
		if bad[i] {
			harm = "bad"
		}
		desc := "plain"
		if i%3 == 0 {
			desc = "\"two,\nlines\""
		}
		fmt.Fprintf(&b, "k%d,2026-01-01T00:00:00Z,NL-UT,surgery,near_miss,medication,%s,nl,%s,\n", i, harm, desc)
	}
	return b.String()
}

func client(t *testing.T, url string, opt Options) *Client {
	t.Helper()
	opt.BaseURL, opt.Token = url, "tok"
	if opt.Backoff == 0 {
		opt.Backoff = time.Millisecond
	}
	c, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestChunksMapRows: a file larger than a request is sent in chunks of at
// most 1,000 records; bad rows found by the server, and duplicates and
// malformed records found here, come back by their file row and line.
func TestChunksMapRows(t *testing.T) {
	t.Parallel()
	f, url := newFake(t)
	body := file(2345, map[int]bool{5: true, 1500: true, 2344: true})
	body += "k7,2026-01-01T00:00:00Z,NL-UT,surgery,near_miss,medication,none,nl,again,\n" // row 2347: k7 again
	body += "short,row\n"                                                                 // row 2348
	body += "k9999,x,\"NL\"UT,surgery,near_miss,medication,none,nl,x,\n"                  // row 2349: a stray quote
	body += "k10000,2026-01-01T00:00:00Z,NL-UT,surgery,near_miss,medication,none,nl,last,\n"
	var progress []Progress
	c := client(t, url, Options{OnError: Skip, Progress: func(p Progress) { progress = append(progress, p) }})
	res, err := c.Import(t.Context(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 2349 || res.Created != 2343 || len(res.Bad) != 6 {
		t.Fatalf("result: rows %d created %d bad %+v", res.Rows, res.Created, res.Bad)
	}
	// Row r (header = 1) of the generated part starts on line
	// r + (number of two-line rows before it).
	lineOf := func(row int) int { i := row - 2; return row + (i+2)/3 }
	want := []struct {
		row   int
		field string
	}{{7, "harm"}, {1502, "harm"}, {2346, "harm"}, {2347, "rowKey"}, {2348, "row"}, {2349, "row"}}
	for i, w := range want {
		b := res.Bad[i]
		if b.Row != w.row || b.Errors[0].Field != w.field {
			t.Errorf("bad[%d] = %+v, want row %d at fault in %s", i, b, w.row, w.field)
		}
		if w.row <= 2346 && b.Line != lineOf(w.row) {
			t.Errorf("bad[%d]: line %d, want %d", i, b.Line, lineOf(w.row))
		}
	}
	if res.Bad[3].Errors[0].Message != "rowKey repeats row 9" {
		t.Errorf("duplicate: %+v", res.Bad[3])
	}
	if fmt.Sprint(f.sizes) != "[1000 1000 346]" {
		t.Errorf("chunks of %v rows", f.sizes)
	}
	if len(progress) != 4 || progress[0].Rows != 0 || progress[3].Rows != 2349 || progress[3].Offset != int64(len(body)) || progress[0].Phase != PhaseImport {
		t.Errorf("progress: %+v", progress)
	}
}

// TestByteOrderMark: a file saved with a byte-order mark is sent with the
// header the API expects.
func TestByteOrderMark(t *testing.T) {
	t.Parallel()
	_, url := newFake(t)
	res, err := client(t, url, Options{}).Import(t.Context(), strings.NewReader("\ufeff"+file(3, nil)))
	if err != nil || res.Created != 3 {
		t.Fatalf("%+v %v", res, err)
	}
}

// TestChunksByBytes: chunks stay under the byte limit; a record that
// cannot fit any request is listed, not sent.
func TestChunksByBytes(t *testing.T) {
	t.Parallel()
	f, url := newFake(t)
	f.maxBytes = 4096
	body := file(200, nil) + "huge,2026-01-01T00:00:00Z,NL-UT,surgery,near_miss,medication,none,nl," + strings.Repeat("x", 5000) + ",\n"
	res, err := client(t, url, Options{OnError: Skip, MaxBytes: 4096}).Import(t.Context(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 200 || len(res.Bad) != 1 || res.Bad[0].Row != 202 || res.Bad[0].Errors[0].Code != "too_large" {
		t.Fatalf("result: %+v", res)
	}
	if len(f.sizes) < 4 {
		t.Errorf("chunks of %v rows: not split by size", f.sizes)
	}
}

// TestRejectChecksTheWholeFileFirst: with reject, every chunk is checked
// before any is stored, and a bad row in the last chunk stores nothing.
func TestRejectChecksTheWholeFileFirst(t *testing.T) {
	t.Parallel()
	f, url := newFake(t)
	res, err := client(t, url, Options{}).Import(t.Context(), strings.NewReader(file(2500, map[int]bool{2400: true})))
	if err != nil || res.Created != 0 || len(res.Bad) != 1 || res.Bad[0].Row != 2402 || len(f.stored) != 0 {
		t.Fatalf("a file with a bad row: %+v %v (%d stored)", res, err, len(f.stored))
	}
	for _, q := range f.calls {
		if !strings.Contains(q, "dryRun=true") {
			t.Errorf("a real request for a file with a bad row: %s", q)
		}
	}
	f.calls = nil
	res, err = client(t, url, Options{}).Import(t.Context(), strings.NewReader(file(2500, nil)))
	if err != nil || res.Created != 2500 || len(f.stored) != 2500 {
		t.Fatalf("a good file: %+v %v", res, err)
	}
	if got := strings.Join(f.calls, " "); got != strings.Repeat("dryRun=true&onError=reject ", 3)+strings.Repeat("dryRun=false&onError=reject ", 2)+"dryRun=false&onError=reject" {
		t.Errorf("requests: %s", got)
	}
}

// TestRetries: 429 (after Retry-After), 5xx and dropped connections are
// retried; other refusals are not; the tries are bounded.
func TestRetries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		fail     func(call int, w http.ResponseWriter) bool
		attempts int
		calls    int
		wantErr  bool
		minWait  time.Duration
	}{
		{"rate limited", func(call int, w http.ResponseWriter) bool {
			if call == 2 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return true
			}
			return false
		}, 0, 4, false, time.Second},
		{"unavailable twice", func(call int, w http.ResponseWriter) bool {
			if call <= 2 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return true
			}
			return false
		}, 0, 5, false, 0},
		{"connection dropped", func(call int, w http.ResponseWriter) bool {
			if call == 1 {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					_ = conn.Close()
				}
				return true
			}
			return false
		}, 0, 4, false, 0},
		{"forbidden", func(call int, w http.ResponseWriter) bool {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"type":"/problems/forbidden","title":"Forbidden"}`)
			return true
		}, 0, 1, true, 0},
		{"always unavailable", func(call int, w http.ResponseWriter) bool {
			w.WriteHeader(http.StatusBadGateway)
			return true
		}, 3, 3, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, url := newFake(t)
			f.fail = tc.fail
			started := time.Now()
			res, err := client(t, url, Options{OnError: Skip, MaxAttempts: tc.attempts}).Import(t.Context(), strings.NewReader(file(2500, nil)))
			if (err != nil) != tc.wantErr || len(f.calls) != tc.calls || time.Since(started) < tc.minWait {
				t.Fatalf("error %v, %d calls in %v", err, len(f.calls), time.Since(started))
			}
			if !tc.wantErr && (res.Created != 2500 || len(f.stored) != 2500) {
				t.Errorf("result %+v, %d stored", res, len(f.stored))
			}
			var e *Error
			if tc.name == "forbidden" && (!errors.As(err, &e) || e.Status != http.StatusForbidden || e.Row != 2) {
				t.Errorf("error: %#v", err)
			}
		})
	}
}

// TestCancelledWhileWaiting: a cancelled context ends the wait for a retry.
func TestCancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	f, url := newFake(t)
	f.fail = func(_ int, w http.ResponseWriter) bool {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	started := time.Now()
	_, err := client(t, url, Options{OnError: Skip}).Import(ctx, strings.NewReader(file(10, nil)))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(started) > 5*time.Second {
		t.Fatalf("%v after %v", err, time.Since(started))
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Mon, 23 Nov 2026 10:00:30 GMT": 30 * time.Second,
		"Mon, 23 Nov 2026 09:00:00 GMT": 0,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	for _, opt := range []Options{
		{BaseURL: "ftp://x", Token: "t"},
		{BaseURL: "http://x", Token: ""},
		{BaseURL: "http://x", Token: "t", OnError: "ignore"},
		{BaseURL: "not a url", Token: "t"},
	} {
		if _, err := New(opt); err == nil {
			t.Errorf("New(%+v) accepted", opt)
		}
	}
}
