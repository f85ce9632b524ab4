package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/eventstore/jstest"
	"github.com/safesignal/safesignal/projections"
)

// process is a running `safesignal serve`.
type process struct {
	cmd  *exec.Cmd
	url  string
	logs *logBuffer
}

// logBuffer collects a process's output; it may be read while the
// process writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "safesignal")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startServe(t *testing.T, bin, dataDir string) *process {
	t.Helper()
	return startServeWith(t, bin, dataDir)
}

func startServeWith(t *testing.T, bin, dataDir string, extra ...string) *process {
	t.Helper()
	addr := freeAddr(t)
	for i := 0; i+1 < len(extra); i++ {
		if extra[i] == "--http-addr" { // a caller that needs the address first
			addr = extra[i+1]
		}
	}
	logs := &logBuffer{}
	args := append([]string{"serve", "--data-dir", dataDir, "--http-addr", addr, "--nats-listen", "", "--rate-limit", "100000", "--rate-burst", "100000"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Env = append(os.Environ(), "SAFESIGNAL_LOG_LEVEL=debug")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, url: "http://" + addr, logs: logs}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("serve did not become ready:\n%s", logs.String())
	return nil
}

func tokenFor(t *testing.T, bin, dataDir string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, append([]string{"token", "--data-dir", dataDir}, args...)...).Output()
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func filing(marker string) []byte {
	b, _ := json.Marshal(map[string]any{
		"region": "NL-UT", "specialty": "surgery", "occurredAt": "2026-11-01T08:00:00Z",
		"kind": "unsafe_situation", "category": "infrastructure", "harm": "none",
		"description": "crash test " + marker, "language": "nl",
	})
	return b
}

type outcome struct {
	status int
	id     string
	// problem is the type of a problem+json answer.
	problem string
}

func file(client *http.Client, url, token, key, marker string) (outcome, error) {
	req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/signals", bytes.NewReader(filing(marker)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	resp, err := client.Do(req)
	if err != nil {
		return outcome{}, err
	}
	defer resp.Body.Close()
	var body struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	data, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(data, &body)
	return outcome{status: resp.StatusCode, id: body.ID, problem: body.Type}, nil
}

// TestKill9DuringConcurrentFilings kills the real process with SIGKILL while
// 2,000 filings are in flight, restarts it on the same data directory, and
// checks that every filing that got a 201 is there exactly once, and that a
// client retrying with its Idempotency-Key never makes a second signal.
func TestKill9DuringConcurrentFilings(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level crash test")
	}
	t.Parallel()
	bin := buildBinary(t)
	dataDir := t.TempDir()
	p := startServe(t, bin, dataDir)
	token := tokenFor(t, bin, dataDir, "--role", "reporter", "--org", "rijnstate", "--subject", "crash-tester")

	const n = 2000
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	first := make([]outcome, n)
	var created atomic.Int64
	var killed atomic.Bool
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := file(client, p.url, token, fmt.Sprint("key-", i), fmt.Sprint("marker-", i, "-end"))
			if err != nil {
				return // the process died under this request
			}
			first[i] = o
			if o.status == http.StatusCreated && created.Add(1) == n/4 && killed.CompareAndSwap(false, true) {
				_ = p.cmd.Process.Signal(syscall.SIGKILL)
			}
		}()
	}
	wg.Wait()
	_ = p.cmd.Wait()
	if !killed.Load() {
		t.Fatal("the process was never killed")
	}
	// Before the crash a filing is acknowledged (201), or, when the
	// overloaded machine could not store it in time, refused as
	// retryable (503 "unavailable": not acknowledged, retried below with
	// the same key), or cut off by the kill.
	acked, refused := 0, 0
	for _, o := range first {
		switch {
		case o.status == http.StatusCreated:
			acked++
		case o.status == http.StatusServiceUnavailable && strings.HasSuffix(o.problem, "/unavailable"):
			refused++
		case o.status != 0:
			t.Fatalf("a filing got %d (%s) before the crash", o.status, o.problem)
		}
	}
	t.Logf("%d of %d filings acknowledged before kill -9, %d refused as retryable", acked, n, refused)
	if acked == n {
		t.Fatal("every filing finished before the kill; the test proved nothing")
	}

	p2 := startServe(t, bin, dataDir)
	// Every acknowledged filing is readable after the restart.
	for i, o := range first {
		if o.status != http.StatusCreated {
			continue
		}
		req, _ := http.NewRequest(http.MethodGet, p2.url+"/api/v1/signals/"+o.id, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), fmt.Sprint("marker-", i, "-end")) {
			t.Fatalf("acknowledged filing %d (%s) lost after kill -9: %d %s", i, o.id, resp.StatusCode, body)
		}
	}
	// Clients retry what did not get an answer, with the same key: each
	// lands once, and a retry of an acknowledged filing gets the same id.
	for i := range n {
		o, err := file(client, p2.url, token, fmt.Sprint("key-", i), fmt.Sprint("marker-", i, "-end"))
		if err != nil || o.status != http.StatusCreated {
			t.Fatalf("retry %d: %+v %v", i, o, err)
		}
		if first[i].status == http.StatusCreated && first[i].id != o.id {
			t.Fatalf("retry %d made a second signal: %s then %s", i, first[i].id, o.id)
		}
	}
	_ = p2.cmd.Process.Signal(syscall.SIGTERM)
	if err := p2.cmd.Wait(); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, p2.logs.String())
	}

	// The integrity check finds every commit intact after the crash.
	out, err := exec.Command(bin, "verify", "--data-dir", dataDir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok: ") {
		t.Fatalf("verify after kill -9: %v\n%s", err, out)
	}

	// Read the log itself: every marker exactly once, nothing else.
	srv := jstest.StartIn(t, filepath.Join(dataDir, "nats"))
	_, js := srv.JetStream(t)
	ctx := context.Background()
	stream, err := js.Stream(ctx, eventstore.DefaultConfig().Stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := auth.LoadOrCreateSecret(filepath.Join(dataDir, "secrets", "service.key"))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := projections.OpenCodec(ctx, js, secret, 1)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		msg, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		envs, err := eventstore.DecodeCommit(msg.Data, msg.Header.Get(eventstore.HeaderDigest))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(msg.Data), "crash test") {
			t.Fatalf("a description is stored in the clear: %s", msg.Data)
		}
		events, err := codec.Decode(ctx, eventstore.Commit{Sequence: seq, Events: envs})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			seen[strings.TrimPrefix(e.Data.(domain.SignalReported).Description, "crash test ")]++
		}
	}
	if len(seen) != n {
		t.Fatalf("the log holds %d distinct filings, want %d", len(seen), n)
	}
	for marker, count := range seen {
		if count != 1 {
			t.Fatalf("%s is in the log %d times", marker, count)
		}
	}
}
