package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/importclient"
)

// importFile is a generated import file and the rows it should refuse.
type importFile struct {
	body []byte
	good int
	// bad is the field at fault of each bad row, by file row (the
	// header being row 1), and line the file line each row starts on.
	bad  map[int]string
	line map[int]int
}

// genImportFile writes rows records, every step-th of them bad in turn:
// a harm that does not exist, a date that is not one, a rowKey seen
// before, a record of the wrong length, a stray quote. One in seven good
// rows has a quoted description over several lines, so file rows and
// lines part ways.
func genImportFile(rows, step int) importFile {
	at := time.Now().Add(-72 * time.Hour).UTC().Format(time.RFC3339)
	f := importFile{bad: map[int]string{}, line: map[int]int{}}
	var b bytes.Buffer
	b.WriteString(importHeader + "\n")
	line := 2
	for i := range rows {
		row := i + 2
		f.line[row] = line
		key := fmt.Sprintf("legacy-%05d", i)
		harm, date, desc := "none", at, fmt.Sprintf("Melding %d uit het oude systeem.", i)
		rec := ""
		if i%step == step-1 {
			switch (i / step) % 5 {
			case 0:
				harm, f.bad[row] = "catastrophic", "harm"
			case 1:
				date, f.bad[row] = "31-02-2019", "occurredAt"
			case 2:
				key, f.bad[row] = "legacy-00000", "rowKey"
			case 3:
				rec, f.bad[row] = key+",too,few,fields\n", "row"
			case 4:
				rec, f.bad[row] = key+","+at+",NL\"UT,surgery,near_miss,medication,none,nl,x,\n", "row"
			}
		} else {
			f.good++
		}
		if i%7 == 3 && f.bad[row] == "" {
			desc = fmt.Sprintf("\"Melding %d, over\nmeerdere \"\"regels\"\"\nverdeeld.\"", i)
			line += 2
		}
		if rec == "" {
			rec = fmt.Sprintf("%s,%s,NL-UT,surgery,near_miss,medication,%s,nl,%s,\n", key, date, harm, desc)
		}
		b.WriteString(rec)
		line++
	}
	f.body = b.Bytes()
	return f
}

// TestImportTenThousandRows: a 10,000-row file with 100 bad rows of five
// kinds goes through the import client in chunks. The dry run and a
// rejecting run store nothing and list every bad row by its file row; a
// run cut off halfway and run again, and a third run, leave exactly the
// 9,900 good rows (counted by the API's triage list), the repeat
// creating nothing.
func TestImportTenThousandRows(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 rows: not under -short")
	}
	t.Parallel()
	h := newHarness(t)
	olga := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	file := genImportFile(10_000, 100)
	if file.good != 9900 || len(file.bad) != 100 {
		t.Fatalf("generated %d good and %d bad rows", file.good, len(file.bad))
	}
	path := filepath.Join(t.TempDir(), "signals.csv")
	if err := os.WriteFile(path, file.body, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(ctx context.Context, opt importclient.Options) (importclient.Result, error) {
		t.Helper()
		opt.BaseURL, opt.Token, opt.Backoff = h.url, olga, 20*time.Millisecond
		c, err := importclient.New(opt)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		started := time.Now()
		res, err := c.Import(ctx, f)
		t.Logf("import %+v: %v, %d rows, %d created, %d replayed, %d bad, %v", opt.OnError, time.Since(started).Round(time.Millisecond), res.Rows, res.Created, res.Replayed, len(res.Bad), err)
		return res, err
	}
	stored := func() int {
		t.Helper()
		var tri struct {
			Total int `json:"total"`
		}
		r := h.do(http.MethodGet, "/api/v1/triage?limit=1", olga, nil, nil)
		r.json(t, &tri)
		return tri.Total
	}
	checkBad := func(name string, res importclient.Result) {
		t.Helper()
		if res.Rows != 10_000 || len(res.Bad) != 100 {
			t.Fatalf("%s: %d rows, %d bad", name, res.Rows, len(res.Bad))
		}
		for _, b := range res.Bad {
			if len(b.Errors) == 0 || b.Errors[0].Field != file.bad[b.Row] || b.Line != file.line[b.Row] {
				t.Errorf("%s: bad row %d (line %d, want %d): %+v, want the field %q at fault", name, b.Row, b.Line, file.line[b.Row], b.Errors, file.bad[b.Row])
			}
		}
	}

	ctx := t.Context()
	res, err := run(ctx, importclient.Options{DryRun: true, OnError: importclient.Skip})
	if err != nil || res.Created != 0 {
		t.Fatalf("dry run: %+v %v", res, err)
	}
	checkBad("dry run", res)
	res, err = run(ctx, importclient.Options{})
	if err != nil || res.Created != 0 || res.DryRun != true {
		t.Fatalf("rejecting run: created %d, %v", res.Created, err)
	}
	checkBad("rejecting run", res)
	if n := stored(); n != 0 {
		t.Fatalf("%d signals stored by a dry or refused run", n)
	}

	cut, cancel := context.WithCancel(ctx)
	res, err = run(cut, importclient.Options{OnError: importclient.Skip, Progress: func(p importclient.Progress) {
		if p.Rows >= 4000 {
			cancel()
		}
	}})
	cancel()
	if !errors.Is(err, context.Canceled) || res.Created == 0 || res.Created >= 9900 {
		t.Fatalf("interrupted run: created %d, %v", res.Created, err)
	}
	partial := stored()
	if partial == 0 || partial >= 9900 {
		t.Fatalf("%d signals after the interrupted run", partial)
	}
	res, err = run(ctx, importclient.Options{OnError: importclient.Skip})
	if err != nil || res.Created+res.Replayed != 9900 || res.Replayed < partial {
		t.Fatalf("run after the interruption: %+v %v (%d were stored)", res, err, partial)
	}
	checkBad("resumed run", res)
	if n := stored(); n != 9900 {
		t.Fatalf("%d signals after the import, want 9900", n)
	}
	res, err = run(ctx, importclient.Options{OnError: importclient.Skip})
	if err != nil || res.Created != 0 || res.Replayed != 9900 {
		t.Fatalf("second import: created %d, replayed %d, %v", res.Created, res.Replayed, err)
	}
	checkBad("second import", res)
	if n := stored(); n != 9900 {
		t.Fatalf("%d signals after importing again, want 9900", n)
	}
	if !strings.Contains(string(file.body), "\"\"regels\"\"\n") {
		t.Fatal("the file has no multi-line quoted field")
	}
}
