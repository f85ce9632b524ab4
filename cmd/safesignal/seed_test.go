package main

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSeed fills a data directory with synthetic signals, serves it, and
// finds the planted rise among the detected trend signals; seed refuses a
// directory that holds a log it did not make.
func TestSeed(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	t.Parallel()
	bin := buildBinary(t)
	real := t.TempDir()
	p := startServe(t, bin, real)
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	if out, err := exec.Command(bin, "seed", "--data-dir", real).CombinedOutput(); err == nil || !strings.Contains(string(out), "did not make") {
		t.Fatalf("seed into a real data directory: %v\n%s", err, out)
	}

	demo := filepath.Join(t.TempDir(), "demo")
	if out, err := exec.Command(bin, "seed", "--data-dir", demo).CombinedOutput(); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "seed", "--data-dir", demo).CombinedOutput(); err == nil {
		t.Fatalf("a second seed into the same directory succeeded:\n%s", out)
	}
	d := startServe(t, bin, demo)
	if !strings.Contains(d.logs.String(), "SYNTHETIC") {
		t.Error("serve did not warn that the data is synthetic")
	}
	token := tokenFor(t, bin, demo, "--role", "policy_analyst", "--subject", "pia")
	deadline := time.Now().Add(60 * time.Second)
	for {
		status, body := call(t, http.MethodGet, d.url+"/api/v1/trends/signals", token, nil)
		if status == http.StatusOK && strings.Contains(string(body), `"category":"medical_device","direction":"up"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the planted rise of medical_device was not detected: %d %s", status, body)
		}
		time.Sleep(500 * time.Millisecond)
	}
	status, body := call(t, http.MethodGet, d.url+"/api/v1/trends?groupBy=category", token, nil)
	if status != http.StatusOK || !strings.Contains(string(body), `"category":"medication","count":`) {
		t.Fatalf("trends of the seeded data: %d %s", status, body)
	}
}
