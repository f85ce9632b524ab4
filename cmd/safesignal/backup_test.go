package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/safesignal/safesignal/adapters/postgres/pgtest"
)

// TestBackupAndRestore files signals, erases one, backs the stopped
// service up, restores the backup into an empty data directory, checks
// the restored log's integrity and serves it with read models rebuilt in
// a fresh PostgreSQL schema: every signal is back, the erased one stays
// erased.
func TestBackupAndRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	t.Parallel()
	bin := buildBinary(t)
	src := t.TempDir()
	p := startServe(t, bin, src)
	reporter := tokenFor(t, bin, src, "--role", "reporter", "--org", "rijnstate", "--subject", "rita")
	officer := tokenFor(t, bin, src, "--role", "safety_officer", "--org", "rijnstate", "--subject", "olaf")
	admin := tokenFor(t, bin, src, "--role", "admin", "--subject", "ada")
	var ids []string
	for i := range 30 {
		body, _ := json.Marshal(map[string]any{
			"region": "NL-GE", "specialty": "surgery", "occurredAt": "2026-11-01T08:00:00Z",
			"kind": "near_miss", "category": "clinical_process", "harm": "none", "language": "nl",
			"description": fmt.Sprintf("backup test signal %d", i),
		})
		status, b := call(t, http.MethodPost, p.url+"/api/v1/signals", reporter, body)
		if status != http.StatusCreated {
			t.Fatalf("file: %d %s", status, b)
		}
		var v struct{ ID string }
		_ = json.Unmarshal(b, &v)
		ids = append(ids, v.ID)
	}
	if status, b := call(t, http.MethodPost, p.url+"/api/v1/admin/erasures", admin, []byte(`{"signalId":"`+ids[0]+`"}`)); status != http.StatusOK {
		t.Fatalf("erase: %d %s", status, b)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Wait()

	file := filepath.Join(t.TempDir(), "safesignal.backup")
	if out, err := exec.Command(bin, "backup", "--data-dir", src, "--out", file).CombinedOutput(); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	dst := t.TempDir()
	out, err := exec.Command(bin, "restore", "--data-dir", dst, "--in", file).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SAFESIGNAL_EVENTS: ") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "restore", "--data-dir", dst, "--in", file).CombinedOutput(); err == nil {
		t.Fatalf("a second restore onto the restored streams succeeded:\n%s", out)
	}
	if out, err := exec.Command(bin, "verify", "--data-dir", dst).CombinedOutput(); err != nil || !strings.Contains(string(out), "ok: ") {
		t.Fatalf("verify the restored log: %v\n%s", err, out)
	}
	// The restored service needs the same secrets (kept apart from the
	// log, e.g. in a secret store).
	for _, sub := range []string{"secrets", "auth"} {
		if err := os.CopyFS(filepath.Join(dst, sub), os.DirFS(filepath.Join(src, sub))); err != nil {
			t.Fatal(err)
		}
	}
	_, url := pgtest.Schema(t)
	p2 := startServeWith(t, bin, dst, "--database-url", url)
	for i, id := range ids {
		status, b := call(t, http.MethodGet, p2.url+"/api/v1/signals/"+id, officer, nil)
		if status != http.StatusOK {
			t.Fatalf("signal %d after restore: %d %s", i, status, b)
		}
		has := strings.Contains(string(b), fmt.Sprintf("backup test signal %d\"", i))
		if i == 0 && (has || !strings.Contains(string(b), `"contentErased":true`)) {
			t.Fatalf("the erased signal came back with its text: %s", b)
		}
		if i > 0 && !has {
			t.Fatalf("signal %d came back without its text: %s", i, b)
		}
	}
}
