package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/postgres/pgtest"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/eventstore/jstest"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/signaldetail/signaldetailtest"
)

// spawn starts `safesignal serve` without waiting for it to be ready.
func spawn(t *testing.T, bin, dataDir string, extra ...string) *process {
	t.Helper()
	addr := freeAddr(t)
	logs := &logBuffer{}
	args := append([]string{"serve", "--data-dir", dataDir, "--http-addr", addr, "--nats-listen", "", "--rate-limit", "100000", "--rate-burst", "100000"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return &process{cmd: cmd, url: "http://" + addr, logs: logs}
}

func waitReady(t *testing.T, p *process, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		resp, err := http.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("serve did not become ready within %s", within)
}

// tableRows reads a whole table, one string per row with every column,
// in the order of those strings.
func tableRows(t *testing.T, pool *pgxpool.Pool, table string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT t::text FROM "+table+" t ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func checkpointOf(t *testing.T, pool *pgxpool.Pool, name string) uint64 {
	t.Helper()
	var seq int64
	err := pool.QueryRow(context.Background(), "SELECT sequence FROM projection_checkpoints WHERE name = $1", name).Scan(&seq)
	if err != nil {
		return 0
	}
	return uint64(seq)
}

// TestKill9ProjectorDuringCatchUp fills a log with about 100,000 events,
// lets serve catch up into PostgreSQL, kills it with SIGKILL several times
// along the way (mid-batch, and wherever else the kill lands), and
// checks that the table it ends with is, row by row, the table a clean
// rebuild makes.
func TestKill9ProjectorDuringCatchUp(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level crash test")
	}
	t.Parallel()
	srv := jstest.Start(t)
	_, js := srv.JetStream(t)
	ctx := context.Background()
	dataDir := t.TempDir()
	secret, err := auth.LoadOrCreateSecret(filepath.Join(dataDir, "secrets", "service.key"))
	if err != nil {
		t.Fatal(err)
	}
	log, err := eventstore.Open(ctx, js, eventstore.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	codec, err := projections.OpenCodec(ctx, js, secret, 1)
	if err != nil {
		t.Fatal(err)
	}
	h := signaldetailtest.Generate(t, 29000)
	last := signaldetailtest.AppendHistory(t, log, codec, h, 16)
	t.Logf("log holds %d events in %d commits", len(h.Events()), last)

	_, url := pgtest.Schema(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	bin := buildBinary(t)
	args := []string{"--nats-url", srv.ClientURL(), "--database-url", url}

	for i, at := range []float64{0.02, 0.2, 0.4, 0.6, 0.8} {
		p := spawn(t, bin, dataDir, args...)
		target := uint64(at * float64(last))
		deadline := time.Now().Add(3 * time.Minute)
		for checkpointOf(t, pool, "signal_detail") < target {
			if time.Now().After(deadline) {
				t.Fatalf("kill %d: the projector never reached %d (at %d):\n%s", i, target, checkpointOf(t, pool, "signal_detail"), p.logs.String())
			}
			time.Sleep(time.Duration(5+i*3) * time.Millisecond)
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = p.cmd.Wait()
		t.Logf("kill %d at checkpoints %d and %d of %d", i, checkpointOf(t, pool, "signal_detail"), checkpointOf(t, pool, "trends"), last)
	}
	p := spawn(t, bin, dataDir, args...)
	waitReady(t, p, 5*time.Minute)
	for _, name := range []string{"signal_detail", "trends"} {
		if got := checkpointOf(t, pool, name); got != last {
			t.Fatalf("%s: checkpoint %d after catching up, want %d", name, got, last)
		}
	}
	tables := []string{"signal_detail", "trends_signals", "trends_changes"}
	crashed := map[string][]string{}
	for _, table := range tables {
		crashed[table] = tableRows(t, pool, table)
	}
	if n := len(crashed["signal_detail"]); n != len(h.IDs) {
		t.Fatalf("%d rows after the crashes, want %d", n, len(h.IDs))
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Wait()

	out, err := exec.Command(bin, "replay", "--data-dir", dataDir, "--nats-url", srv.ClientURL(), "--database-url", url).CombinedOutput()
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
	for _, table := range tables {
		clean := tableRows(t, pool, table)
		if len(clean) != len(crashed[table]) || len(clean) == 0 {
			t.Fatalf("%s: the clean rebuild has %d rows, the crashed projector %d", table, len(clean), len(crashed[table]))
		}
		for i := range clean {
			if clean[i] != crashed[table][i] {
				t.Fatalf("%s: row %d differs:\n crashed %s\n   clean %s", table, i, crashed[table][i], clean[i])
			}
		}
	}
}

// TestTwoReplicasShareOneDatabase starts two serve processes on one log
// and one database at once: migrations run once, and a signal filed
// through one is read through the other.
func TestTwoReplicasShareOneDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	t.Parallel()
	srv := jstest.Start(t)
	_, url := pgtest.Schema(t)
	bin := buildBinary(t)
	dirs := []string{t.TempDir(), t.TempDir()}
	// Replicas share the service secret and the issuer's key, as they
	// share the log: make them in A's directory and copy them to B's.
	if _, err := auth.LoadOrCreateSecret(filepath.Join(dirs[0], "secrets", "service.key")); err != nil {
		t.Fatal(err)
	}
	reporter := tokenFor(t, bin, dirs[0], "--role", "reporter", "--org", "umc-utrecht", "--subject", "replica-tester")
	officer := tokenFor(t, bin, dirs[0], "--role", "safety_officer", "--org", "umc-utrecht", "--subject", "officer")
	for _, sub := range []string{"secrets", "auth"} {
		if err := os.CopyFS(filepath.Join(dirs[1], sub), os.DirFS(filepath.Join(dirs[0], sub))); err != nil {
			t.Fatal(err)
		}
	}
	var ps [2]*process
	for i := range ps {
		ps[i] = spawn(t, bin, dirs[i], "--nats-url", srv.ClientURL(), "--database-url", url)
	}
	for _, p := range ps {
		waitReady(t, p, time.Minute)
	}
	applied := 0
	for _, p := range ps {
		applied += strings.Count(p.logs.String(), "database migration applied")
	}
	if applied != 1 {
		t.Fatalf("migration applied %d times by the two replicas, want once", applied)
	}

	o, err := file(http.DefaultClient, ps[0].url, reporter, "replica-key-1", "filed through replica A")
	if err != nil || o.status != http.StatusCreated {
		t.Fatalf("file through A: %+v, %v", o, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, body := call(t, http.MethodGet, ps[1].url+"/api/v1/signals/"+o.id, officer, nil)
		if status == http.StatusOK {
			if !strings.Contains(string(body), "filed through replica A") {
				t.Fatalf("B answered without the description: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B never served the signal filed through A: %d %s", status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i, p := range ps {
		status, body := call(t, http.MethodGet, p.url+"/api/v1/triage", officer, nil)
		if status != http.StatusOK || !strings.Contains(string(body), o.id) {
			t.Fatalf("replica %d triage: %d %s", i, status, body)
		}
	}
}

// TestLibraryAndPeerSupportSurviveARestart publishes a lesson and asks
// for peer support through serve with --database-url, stops it, marks the
// stored rows in PostgreSQL, and starts it again: what it serves then
// comes from the tables (the marks show), not from a rebuild, and each is
// visible to the roles that may see it and to no other.
func TestLibraryAndPeerSupportSurviveARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	t.Parallel()
	srv := jstest.Start(t)
	ctx := context.Background()
	_, url := pgtest.Schema(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	bin := buildBinary(t)
	dataDir := t.TempDir()
	args := []string{"--nats-url", srv.ClientURL(), "--database-url", url}
	tok := func(role, org, subject string, extra ...string) string {
		return tokenFor(t, bin, dataDir, append([]string{"--role", role, "--org", org, "--subject", subject}, extra...)...)
	}
	officer := tok("safety_officer", "umc-utrecht", "olga")
	reporter := tok("reporter", "umc-utrecht", "bob")
	petra := tok("peer_supporter", "umc-utrecht", "petra")
	paul := tok("peer_supporter", "haukeland", "paul")
	colleague := tokenFor(t, bin, dataDir, "--role", "colleague", "--org", "isala", "--subject", "cora", "--specialty", "surgery", "--region", "NL-OV")

	p := spawn(t, bin, dataDir, args...)
	waitReady(t, p, time.Minute)
	lesson, _ := json.Marshal(map[string]string{
		"kind": "good_practice", "language": "nb", "title": "Strukturert overlevering på kirurgisk post",
		"whatHappened": "Viktig informasjon gikk tapt ved vaktskifte.", "whatWasLearned": "En fast sjekkliste hjelper.",
		"category": "clinical_process", "specialty": "surgery",
	})
	status, body := call(t, http.MethodPost, p.url+"/api/v1/lessons", officer, lesson)
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &created); status != http.StatusCreated || err != nil {
		t.Fatalf("publish: %d %s", status, body)
	}
	lessonID := created.ID
	status, body = call(t, http.MethodPost, p.url+"/api/v1/peer-support", reporter, []byte(`{"contact":"PEERMARK-dect 4411","message":"PEERMARK could someone call me?"}`))
	if err := json.Unmarshal(body, &created); status != http.StatusCreated || err != nil {
		t.Fatalf("peer support: %d %s", status, body)
	}
	requestID := created.ID
	// Both are in their tables, and the checkpoints hold them.
	deadline := time.Now().Add(30 * time.Second)
	for len(tableRows(t, pool, "lessons")) != 1 || len(tableRows(t, pool, "peer_support")) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the rows never reached PostgreSQL:\n%s", p.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Wait()
	last := checkpointOf(t, pool, "signal_detail")
	for _, name := range []string{"lessons", "peer_support"} {
		if cp := checkpointOf(t, pool, name); cp == 0 || cp != last {
			t.Fatalf("%s: checkpoint %d, signal_detail's %d", name, cp, last)
		}
	}

	// Marks only the tables hold: a restart that rebuilt from the log
	// would lose them.
	for _, q := range []string{
		`UPDATE lessons SET doc = jsonb_set(doc, '{Text,title}', '"FROM-POSTGRES Strukturert overlevering"')`,
		`UPDATE peer_support SET doc = jsonb_set(doc, '{Message}', '"FROM-POSTGRES PEERMARK could someone call me?"')`,
	} {
		if tag, err := pool.Exec(ctx, q); err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("%s: %v, %v", q, tag, err)
		}
	}
	p = spawn(t, bin, dataDir, args...)
	waitReady(t, p, time.Minute)
	if strings.Contains(p.logs.String(), "projection rebuilt") {
		t.Fatalf("serve rebuilt a read model at a restart on current tables:\n%s", p.logs.String())
	}

	// The lesson: every role finds it, a colleague of another
	// organisation by a folded word of it too.
	for who, token := range map[string]string{"officer": officer, "reporter": reporter, "colleague": colleague, "peer supporter": paul} {
		status, body := call(t, http.MethodGet, p.url+"/api/v1/lessons?q=kirurgisk+OVERLEVERING+pa", token, nil)
		if status != http.StatusOK || !strings.Contains(string(body), lessonID) || !strings.Contains(string(body), "FROM-POSTGRES") || !strings.Contains(string(body), `"total":1`) {
			t.Errorf("%s searching the library: %d %s", who, status, body)
		}
	}
	if status, body := call(t, http.MethodGet, p.url+"/api/v1/lessons/"+lessonID, colleague, nil); status != http.StatusOK || !strings.Contains(string(body), "FROM-POSTGRES") {
		t.Errorf("the lesson: %d %s", status, body)
	}

	// The request: in the inbox of its organisation's peer supporter
	// only.
	status, body = call(t, http.MethodGet, p.url+"/api/v1/peer-support/inbox", petra, nil)
	if status != http.StatusOK || !strings.Contains(string(body), requestID) || !strings.Contains(string(body), "FROM-POSTGRES") || !strings.Contains(string(body), `"requester":"bob"`) {
		t.Fatalf("the inbox after the restart: %d %s", status, body)
	}
	if status, body := call(t, http.MethodGet, p.url+"/api/v1/peer-support/inbox", paul, nil); status != http.StatusOK || strings.Contains(string(body), "PEERMARK") || strings.Contains(string(body), requestID) {
		t.Errorf("another organisation's inbox: %d %s", status, body)
	}
	for who, token := range map[string]string{"officer": officer, "reporter": reporter, "colleague": colleague} {
		if status, body := call(t, http.MethodGet, p.url+"/api/v1/peer-support/inbox", token, nil); status != http.StatusForbidden || strings.Contains(string(body), "PEERMARK") {
			t.Errorf("the inbox as %s: %d %s", who, status, body)
		}
	}
	// And the store goes on following the log from its checkpoint.
	if status, body := call(t, http.MethodPost, p.url+"/api/v1/peer-support/"+requestID+"/acknowledge", petra, nil); status != http.StatusOK {
		t.Fatalf("acknowledge: %d %s", status, body)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		status, body = call(t, http.MethodGet, p.url+"/api/v1/peer-support/inbox", petra, nil)
		if status == http.StatusOK && strings.Contains(string(body), `"acknowledgedBy":"petra"`) && strings.Contains(string(body), "FROM-POSTGRES") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the acknowledgement never showed: %d %s", status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
