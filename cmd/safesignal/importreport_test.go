package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"

	"github.com/safesignal/safesignal/adapters/csvcell"
	"github.com/safesignal/safesignal/adapters/importclient"
)

// TestImportReportGuardsFormulas: a row key from the imported file that a
// spreadsheet would run as a formula is written inert, and reads back
// exactly once unguarded.
func TestImportReportGuardsFormulas(t *testing.T) {
	t.Parallel()
	keys := []string{`=HYPERLINK("http://example.invalid","x")`, "@SUM(A1)", "+1", "-2", "plain-key"}
	var bad []importclient.BadRow
	for i, k := range keys {
		bad = append(bad, importclient.BadRow{Row: i + 2, Line: i + 2, RowKey: k, Errors: []importclient.FieldError{{Field: "harm", Code: "invalid", Message: "harm is not one of the codes"}}})
	}
	path := filepath.Join(t.TempDir(), "bad.csv")
	if err := writeImportReport(path, bad); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != 1+len(keys) {
		t.Fatalf("report: %v %v", err, recs)
	}
	for i, k := range keys {
		cell := recs[i+1][2]
		if guarded := k != "plain-key"; guarded != (cell != k) || (guarded && cell[0] != '\'') {
			t.Errorf("row key %q written as %q", k, cell)
		}
		if csvcell.Unguard(cell) != k {
			t.Errorf("row key %q reads back as %q", k, csvcell.Unguard(cell))
		}
	}
}
