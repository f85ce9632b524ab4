package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/postgres/pgtest"
	"github.com/safesignal/safesignal/eventstore/jstest"
)

// TestRollingRestartUnderLoad files signals through two replicas while
// each is stopped with SIGTERM and started again in turn. Clients send
// each filing to one replica and, when it does not answer, retry it with
// the same Idempotency-Key on the other. Afterwards every filing landed
// exactly once and is readable on both replicas; no request got a 5xx.
func TestRollingRestartUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	t.Parallel()
	srv := jstest.Start(t)
	_, url := pgtest.Schema(t)
	bin := buildBinary(t)
	dirs := []string{t.TempDir(), t.TempDir()}
	if _, err := auth.LoadOrCreateSecret(filepath.Join(dirs[0], "secrets", "service.key")); err != nil {
		t.Fatal(err)
	}
	token := tokenFor(t, bin, dirs[0], "--role", "reporter", "--org", "umc-utrecht", "--subject", "rolling")
	for _, sub := range []string{"secrets", "auth"} {
		if err := os.CopyFS(filepath.Join(dirs[1], sub), os.DirFS(filepath.Join(dirs[0], sub))); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"--nats-url", srv.ClientURL(), "--database-url", url, "--shutdown-timeout", "10s"}
	var mu sync.Mutex
	replicas := make([]*process, 2)
	for i := range replicas {
		replicas[i] = spawn(t, bin, dirs[i], args...)
		waitReady(t, replicas[i], time.Minute)
	}
	urlOf := func(i int) string {
		mu.Lock()
		defer mu.Unlock()
		return replicas[i].url
	}

	var stop atomic.Bool
	var fivexx atomic.Int64
	ids := make(map[string]string) // key -> id
	var idsMu sync.Mutex
	client := &http.Client{Timeout: 15 * time.Second}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				key := fmt.Sprintf("rolling-%d-%d", w, n)
				for attempt := 0; ; attempt++ {
					o, err := file(client, urlOf((w+attempt)%2), token, key, key)
					if err == nil && o.status >= 500 {
						fivexx.Add(1)
					}
					if err == nil && o.status == http.StatusCreated {
						idsMu.Lock()
						ids[key] = o.id
						idsMu.Unlock()
						break
					}
					if attempt > 200 {
						t.Errorf("filing %s never landed: %+v %v", key, o, err)
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	for i := range replicas {
		time.Sleep(time.Second)
		mu.Lock()
		p := replicas[i]
		mu.Unlock()
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("replica %d did not stop cleanly: %v\n%s", i, err, p.logs.String())
		}
		np := spawn(t, bin, dirs[i], args...)
		waitReady(t, np, time.Minute)
		mu.Lock()
		replicas[i] = np
		mu.Unlock()
	}
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()
	if n := fivexx.Load(); n > 0 {
		t.Fatalf("%d requests got a 5xx during the rolling restart", n)
	}
	officer := tokenFor(t, bin, dirs[0], "--role", "safety_officer", "--org", "umc-utrecht", "--subject", "officer")
	distinct := map[string]bool{}
	for key, id := range ids {
		distinct[id] = true
		for i := range replicas {
			deadline := time.Now().Add(30 * time.Second)
			for {
				status, body := call(t, http.MethodGet, urlOf(i)+"/api/v1/signals/"+id, officer, nil)
				if status == http.StatusOK {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("filing %s (%s) not readable on replica %d: %d %s", key, id, i, status, body)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	if len(distinct) != len(ids) || len(ids) < 50 {
		t.Fatalf("%d filings made %d signals; want as many, and at least 50", len(ids), len(distinct))
	}
	t.Logf("%d filings through a rolling restart of two replicas", len(ids))
}
