package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// importCSV writes a file of rows records keyed prefix-N, every step-th
// one bad (an unknown harm, then a record of the wrong length, in turn),
// one in five with a description over two lines. It answers the path
// and the file rows (header = 1) that are bad.
func importCSV(t *testing.T, prefix string, rows, step int) (string, []int) {
	t.Helper()
	at := time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)
	var b bytes.Buffer
	b.WriteString("rowKey,occurredAt,region,specialty,kind,category,harm,language,description,immediateActions\n")
	var bad []int
	for i := range rows {
		harm, desc := "none", fmt.Sprintf("\"cmd import %d\"", i)
		if i%5 == 0 {
			desc = fmt.Sprintf("\"cmd import %d,\nsecond line\"", i)
		}
		switch {
		case step > 0 && i%step == step-1 && (i/step)%2 == 0:
			harm, bad = "awful", append(bad, i+2)
		case step > 0 && i%step == step-1:
			fmt.Fprintf(&b, "%s-%d,short\n", prefix, i)
			bad = append(bad, i+2)
			continue
		}
		fmt.Fprintf(&b, "%s-%d,%s,NL-UT,surgery,near_miss,medication,%s,nl,%s,\n", prefix, i, at, harm, desc)
	}
	path := filepath.Join(t.TempDir(), "signals.csv")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, bad
}

// TestImportCommand runs `safesignal import` against a running service: a
// dry run and a rejected run store nothing and exit 3; a run that skips
// the bad rows stores the rest (exit 3, report written with the file's
// row numbers); running it again replays every row; a clean file exits 0;
// a refused token exits 1 and a bad command line 2.
func TestImportCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	p := startServe(t, bin, dir)
	token := tokenFor(t, bin, dir, "--role", "safety_officer", "--org", "umc-utrecht", "--subject", "olga")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path, bad := importCSV(t, "old", 2500, 100) // 25 bad rows, three chunks
	clean, _ := importCSV(t, "clean", 30, 0)
	reports := t.TempDir()

	stored := func() int {
		t.Helper()
		status, body := call(t, http.MethodGet, p.url+"/api/v1/triage?limit=1", token, nil)
		var tri struct {
			Total int `json:"total"`
		}
		if err := json.Unmarshal(body, &tri); status != http.StatusOK || err != nil {
			t.Fatalf("triage: %d %s", status, body)
		}
		return tri.Total
	}
	for _, tc := range []struct {
		name   string
		args   []string
		exit   int
		out    []string
		stored int
	}{
		{"dry run", []string{"--dry-run", "--report", filepath.Join(reports, "dry.json"), path}, 3,
			[]string{"rows: 2500\n", "created: 0\n", "bad: 25\n", "dry run: nothing stored"}, 0},
		{"rejected", []string{path}, 3,
			[]string{"created: 0\n", "bad: 25\n", "nothing stored: the file has bad rows", fmt.Sprintf("bad row %d (line ", bad[0])}, 0},
		{"skip", []string{"--on-error", "skip", "--report", filepath.Join(reports, "bad.csv"), path}, 3,
			[]string{"created: 2475\n", "already there: 0\n", "bad: 25\n"}, 2475},
		{"skip again", []string{path, "--on-error=skip"}, 3,
			[]string{"created: 0\n", "already there: 2475\n", "bad: 25\n"}, 2475},
		{"clean file", []string{clean}, 0,
			[]string{"rows: 30\n", "created: 30\n", "bad: 0\n"}, 2505},
		{"foreign token", []string{"--token", "not-a-token", clean}, 1, nil, 2505},
		{"no file", []string{}, 2, nil, 2505},
		{"bad on-error", []string{"--on-error", "ignore", path}, 2, nil, 2505},
	} {
		args := []string{"import", "--api", p.url}
		if len(tc.args) == 0 || tc.args[0] != "--token" {
			args = append(args, "--token-file", tokenFile)
		}
		args = append(args, tc.args...)
		cmd := exec.Command(bin, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		started := time.Now()
		err := cmd.Run()
		exit := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			exit = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: exit %d in %v", tc.name, exit, time.Since(started).Round(time.Millisecond))
		if exit != tc.exit {
			t.Fatalf("%s: exit %d, want %d\n%s\n%s", tc.name, exit, tc.exit, stdout.String(), stderr.String())
		}
		for _, want := range tc.out {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("%s: the output lacks %q:\n%s", tc.name, want, stdout.String())
			}
		}
		if tc.exit == 1 && !strings.Contains(stderr.String(), "status 401") {
			t.Errorf("%s: stderr does not say why: %s", tc.name, stderr.String())
		}
		if tc.exit != 2 && tc.exit != 1 && !strings.Contains(stderr.String(), "% of the file)") {
			t.Errorf("%s: no progress lines on stderr: %s", tc.name, stderr.String())
		}
		if n := stored(); n != tc.stored {
			t.Fatalf("%s: %d signals stored, want %d", tc.name, n, tc.stored)
		}
	}

	var dry []struct {
		Row    int `json:"row"`
		Line   int `json:"line"`
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
	}
	raw, err := os.ReadFile(filepath.Join(reports, "dry.json"))
	if err != nil || json.Unmarshal(raw, &dry) != nil || len(dry) != len(bad) {
		t.Fatalf("dry-run report (%v): %s", err, raw)
	}
	for i, b := range dry {
		if b.Row != bad[i] || b.Line <= b.Row || len(b.Errors) == 0 {
			t.Errorf("report row %d: %+v, want row %d on a later line", i, b, bad[i])
		}
	}
	f, err := os.Open(filepath.Join(reports, "bad.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != 1+len(bad) || strings.Join(recs[0], ",") != "row,line,rowKey,field,code,message" {
		t.Fatalf("CSV report (%v): %v", err, recs)
	}
	for i, rec := range recs[1:] {
		if rec[0] != fmt.Sprint(bad[i]) || (rec[3] != "harm" && rec[3] != "row") {
			t.Errorf("CSV report line %d: %v, want row %d", i+2, rec, bad[i])
		}
	}
}
