package main

import (
	"bytes"
	"encoding/json"
	"github.com/safesignal/safesignal/adapters/postgres/pgtest"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func call(t *testing.T, method, url, token string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestErasureLeavesNoCanary files a signal with a canary string in its
// description through the real process, erases it, restarts (rebuilding
// the read models from the log), and looks for the canary everywhere:
// the API, the NATS store directory and the logs. Another signal stays.
func TestErasureLeavesNoCanary(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	t.Parallel()
	bin := buildBinary(t)
	for _, store := range []string{"memory", "postgres"} {
		t.Run("read models in "+store, func(t *testing.T) {
			t.Parallel()
			var schema string
			var extra []string
			if store == "postgres" {
				var url string
				schema, url = pgtest.Schema(t)
				extra = []string{"--database-url", url}
			}
			erasureCanary(t, bin, schema, extra...)
		})
	}
}

// erasureCanary files a signal with a canary, erases it, restarts serve
// and looks for the canary in the API, the data directory, the logs and,
// with PostgreSQL, a dump of the read models' schema.
func erasureCanary(t *testing.T, bin, schema string, extra ...string) {
	const canary = "CANARY-5e77d1 Jansen in bed 12"
	dataDir := t.TempDir()
	p := startServeWith(t, bin, dataDir, extra...)
	reporterTok := tokenFor(t, bin, dataDir, "--role", "reporter", "--org", "rijnstate", "--subject", "rita")
	officerTok := tokenFor(t, bin, dataDir, "--role", "safety_officer", "--org", "rijnstate", "--subject", "olaf")
	adminTok := tokenFor(t, bin, dataDir, "--role", "admin", "--subject", "ada")

	file := func(desc string) string {
		body, _ := json.Marshal(map[string]any{
			"region": "NL-GE", "specialty": "surgery", "occurredAt": "2026-11-01T08:00:00Z",
			"kind": "near_miss", "category": "clinical_process", "harm": "none", "description": desc, "language": "nl",
		})
		status, b := call(t, http.MethodPost, p.url+"/api/v1/signals", reporterTok, body)
		if status != http.StatusCreated {
			t.Fatalf("file: %d %s", status, b)
		}
		var v struct{ ID string }
		_ = json.Unmarshal(b, &v)
		return v.ID
	}
	erased := file(canary)
	kept := file("Other signal, must stay readable")
	if status, b := call(t, http.MethodPost, p.url+"/api/v1/admin/erasures", adminTok, []byte(`{"signalId":"`+erased+`"}`)); status != http.StatusOK {
		t.Fatalf("erase: %d %s", status, b)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Wait()

	p2 := startServeWith(t, bin, dataDir, extra...)
	status, b := call(t, http.MethodGet, p2.url+"/api/v1/signals/"+erased, officerTok, nil)
	if status != http.StatusOK || strings.Contains(string(b), "CANARY") || !strings.Contains(string(b), `"contentErased":true`) {
		t.Fatalf("rebuilt read model: %d %s", status, b)
	}
	status, b = call(t, http.MethodGet, p2.url+"/api/v1/signals/"+kept, officerTok, nil)
	if status != http.StatusOK || !strings.Contains(string(b), "must stay readable") {
		t.Fatalf("the other signal: %d %s", status, b)
	}
	_ = p2.cmd.Process.Signal(syscall.SIGTERM)
	_ = p2.cmd.Wait()

	hits := 0
	_ = filepath.WalkDir(dataDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, _ := os.ReadFile(path); bytes.Contains(data, []byte("CANARY-5e77d1")) {
				hits++
				t.Errorf("canary found in %s", path)
			}
		}
		return nil
	})
	for _, logs := range []*logBuffer{p.logs, p2.logs} {
		if strings.Contains(logs.String(), "CANARY-5e77d1") {
			t.Error("canary found in the logs")
		}
	}
	if hits > 0 {
		t.Fatalf("%d files hold the canary", hits)
	}
	if schema != "" {
		dump, err := exec.Command("pg_dump", "--dbname="+pgtest.URL(), "--schema="+schema, "--data-only").CombinedOutput()
		if err != nil {
			t.Fatalf("pg_dump: %v\n%s", err, dump)
		}
		if !bytes.Contains(dump, []byte("must stay readable")) {
			t.Fatalf("the dump does not hold the kept signal; is it the right schema?\n%s", dump)
		}
		if bytes.Contains(dump, []byte("CANARY-5e77d1")) {
			t.Fatal("canary found in a dump of the read-model database")
		}
	}
}

// TestEraseCommand erases a signal's text and a reporter's identity with
// `safesignal erase` while serve is stopped, and finds both gone after a
// restart (the reporter's peer-support request too), with the erasures in
// the audit trail under the operator's name.
func TestEraseCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	t.Parallel()
	bin := buildBinary(t)
	dataDir := t.TempDir()
	p := startServe(t, bin, dataDir)
	reporterTok := tokenFor(t, bin, dataDir, "--role", "reporter", "--org", "rijnstate", "--subject", "rita")
	officerTok := tokenFor(t, bin, dataDir, "--role", "safety_officer", "--org", "rijnstate", "--subject", "olaf")
	adminTok := tokenFor(t, bin, dataDir, "--role", "admin", "--subject", "ada")
	fileOne := func(desc string) string {
		body, _ := json.Marshal(map[string]any{
			"region": "NL-GE", "specialty": "surgery", "occurredAt": "2026-11-01T08:00:00Z",
			"kind": "near_miss", "category": "clinical_process", "harm": "none", "description": desc, "language": "nl",
		})
		status, b := call(t, http.MethodPost, p.url+"/api/v1/signals", reporterTok, body)
		if status != http.StatusCreated {
			t.Fatalf("file: %d %s", status, b)
		}
		var v struct{ ID string }
		_ = json.Unmarshal(b, &v)
		return v.ID
	}
	erased := fileOne("CANARY-77aa01 in bed 4")
	named := fileOne("A second signal by the same reporter")
	if status, b := call(t, http.MethodPost, p.url+"/api/v1/peer-support", reporterTok, []byte(`{"contact":"CANARY-peer dect 5512","message":"CANARY-peer please call"}`)); status != http.StatusCreated {
		t.Fatalf("ask for peer support: %d %s", status, b)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Wait()

	for _, args := range [][]string{
		{"erase", "--data-dir", dataDir, "--signal", erased, "--operator", "dpo-jansen"},
		{"erase", "--data-dir", dataDir, "--reporter", "rita", "--operator", "dpo-jansen"},
	} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	if out, err := exec.Command(bin, "erase", "--data-dir", dataDir, "--signal", erased).CombinedOutput(); err == nil {
		t.Fatalf("erase without --operator succeeded:\n%s", out)
	}

	p2 := startServe(t, bin, dataDir)
	status, b := call(t, http.MethodGet, p2.url+"/api/v1/signals/"+erased, officerTok, nil)
	if status != http.StatusOK || strings.Contains(string(b), "CANARY") || !strings.Contains(string(b), `"contentErased":true`) {
		t.Fatalf("erased signal: %d %s", status, b)
	}
	status, b = call(t, http.MethodGet, p2.url+"/api/v1/signals/"+named, officerTok, nil)
	if status != http.StatusOK || strings.Contains(string(b), "rita") || !strings.Contains(string(b), "second signal") {
		t.Fatalf("the reporter's other signal: %d %s", status, b)
	}
	supporterTok := tokenFor(t, bin, dataDir, "--role", "peer_supporter", "--org", "rijnstate", "--subject", "pia")
	status, b = call(t, http.MethodGet, p2.url+"/api/v1/peer-support/inbox", supporterTok, nil)
	if status != http.StatusOK || strings.Contains(string(b), "CANARY") || strings.Contains(string(b), "rita") || !strings.Contains(string(b), `"requesterErased":true`) {
		t.Fatalf("the reporter's peer-support request: %d %s", status, b)
	}
	status, b = call(t, http.MethodGet, p2.url+"/api/v1/audit?signal="+erased, adminTok, nil)
	if status != http.StatusOK || !strings.Contains(string(b), "operator:dpo-jansen") {
		t.Fatalf("audit of the erasure: %d %s", status, b)
	}
}
