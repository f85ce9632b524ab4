package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/adapters/audit"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/commands"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections/signaldetail"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestExportColumnsAreTheRecordKeys(t *testing.T) {
	t.Parallel()
	var keys []string
	rt := reflect.TypeFor[exportRecord]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		keys = append(keys, name)
	}
	if !slices.Equal(keys, exportColumns()) {
		t.Fatalf("CSV columns %q\ndiffer from the NDJSON keys %q", exportColumns(), keys)
	}
	if n := len((exportRecord{}).csv()); n != len(keys) {
		t.Fatalf("a CSV row has %d cells for %d columns", n, len(keys))
	}
}

// scriptedStore exports views, then fails with err when it is set.
type scriptedStore struct {
	signaldetail.Store
	views []signaldetail.View
	err   error
	// pause is how long the store takes for each view.
	pause time.Duration
}

func (s scriptedStore) Export(ctx context.Context, _ string, _ signaldetail.ExportFilter) iter.Seq2[signaldetail.View, error] {
	return func(yield func(signaldetail.View, error) bool) {
		for _, v := range s.views {
			time.Sleep(s.pause)
			if err := ctx.Err(); err != nil {
				yield(signaldetail.View{}, err)
				return
			}
			if !yield(v, nil) {
				return
			}
		}
		if s.err != nil {
			yield(signaldetail.View{}, s.err)
		}
	}
}

type memoryAudit struct {
	mu      sync.Mutex
	records []audit.Record
}

func (a *memoryAudit) Write(_ context.Context, r audit.Record) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.records = append(a.records, r)
	return nil
}

func (a *memoryAudit) Find(context.Context, audit.Query) ([]audit.Record, error) { return nil, nil }

func views(n int, org string) []signaldetail.View {
	out := make([]signaldetail.View, n)
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for i := range out {
		out[i].Signal = domain.Signal{ID: uuid.New(), Organisation: org, Status: domain.StatusReported, Kind: domain.KindNearMiss,
			Description: fmt.Sprintf("signal %d", i), ReportedAt: at.Add(time.Duration(i) * time.Minute)}
	}
	return out
}

// TestExportStoreFailures: a store that fails before the first record is
// a 503 problem; one that fails later breaks the download, so that a
// short file never passes for a whole one. A signal of another
// organisation that a store would wrongly yield is dropped.
func TestExportStoreFailures(t *testing.T) {
	t.Parallel()
	cmds, err := commands.New(nil, nil, commands.Options{Secret: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := auth.LoadOrCreateLocalIssuer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	token, err := issuer.Issue(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	broken := errors.New("connection reset")
	tests := []struct {
		name     string
		store    scriptedStore
		status   int
		complete bool
		lines    int
	}{
		{"fails at once", scriptedStore{err: broken}, http.StatusServiceUnavailable, true, 1},
		{"fails mid-way", scriptedStore{views: views(3*exportFlushEvery, "umc-utrecht"), err: broken}, http.StatusOK, false, 0},
		{"another organisation's signal", scriptedStore{views: append(views(2, "haukeland"), views(3, "umc-utrecht")...)}, http.StatusOK, true, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(New(Deps{Commands: cmds, Signals: tt.store, Verifier: issuer.Verifier(), Audit: &memoryAudit{}, Logger: zap.NewNop()}))
			defer srv.Close()
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/exports/signals", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || (err == nil) != tt.complete {
				t.Fatalf("status %d, read error %v; want %d, complete %v", resp.StatusCode, err, tt.status, tt.complete)
			}
			if tt.complete && bytes.Count(body, []byte("\n")) != tt.lines {
				t.Fatalf("%d lines, want %d: %s", bytes.Count(body, []byte("\n")), tt.lines, body)
			}
			if bytes.Contains(body, []byte("haukeland")) {
				t.Fatalf("another organisation's signal was exported: %s", body)
			}
		})
	}
}

// TestLongExportOutlivesTheWriteTimeout: the server's write timeout would
// cut an export that takes longer; each flush extends it.
func TestLongExportOutlivesTheWriteTimeout(t *testing.T) {
	t.Parallel()
	cmds, err := commands.New(nil, nil, commands.Options{Secret: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := auth.LoadOrCreateLocalIssuer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	token, err := issuer.Issue(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	n := 4 * exportFlushEvery
	store := scriptedStore{views: views(n, "umc-utrecht"), pause: time.Second / time.Duration(n)} // about a second in all
	srv := httptest.NewUnstartedServer(New(Deps{Commands: cmds, Signals: store, Verifier: issuer.Verifier(), Audit: &memoryAudit{}, Logger: zap.NewNop()}))
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/exports/signals?format=csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, read error %v after %s", resp.StatusCode, err, time.Since(start))
	}
	if got := bytes.Count(body, []byte("\r\n")); got != n+1 {
		t.Fatalf("%d CSV lines, want %d", got, n+1)
	}
	if took := time.Since(start); took < srv.Config.WriteTimeout {
		t.Fatalf("the export took %s, less than the write timeout: the test proves nothing", took)
	}
}

// TestExportClientGone: a client that hangs up mid-way ends the export
// quietly (logged as not completed, not as a failure).
func TestExportClientGone(t *testing.T) {
	t.Parallel()
	cmds, err := commands.New(nil, nil, commands.Options{Secret: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := auth.LoadOrCreateLocalIssuer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	token, err := issuer.Issue(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.InfoLevel)
	store := scriptedStore{views: views(4*exportFlushEvery, "umc-utrecht"), pause: time.Millisecond}
	srv := httptest.NewServer(New(Deps{Commands: cmds, Signals: store, Verifier: issuer.Verifier(), Audit: &memoryAudit{}, Logger: zap.New(core)}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/exports/signals", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resp.Body.Read(make([]byte, 16)); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for logs.FilterMessage("export not completed: the client stopped reading").Len() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no log of the abandoned export: %v", logs.All())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := logs.FilterLevelExact(zapcore.ErrorLevel).Len(); n != 0 {
		t.Fatalf("an abandoned export logged %d errors: %v", n, logs.All())
	}
}
