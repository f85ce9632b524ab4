package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/safesignal/safesignal/adapters/csvcell"
	"github.com/safesignal/safesignal/adapters/importclient"
	"github.com/schollz/progressbar/v3"
)

// rowsLeftOut is the outcome of an import that stored (or, in a dry run
// or a rejected file, would store) fewer rows than the file holds: exit
// status 3.
type rowsLeftOut struct{ bad int }

func (e rowsLeftOut) Error() string {
	return fmt.Sprintf("%d rows left out", e.bad)
}

// importSignals sends a CSV file of signals to a running service's import
// API, in chunks, and reports the rows left out by their row in the file.
func importSignals(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("import", stderr)
	api := fs.String("api", "", "base URL of the service, e.g. https://safesignal.example (required)")
	tok := fs.String("token", "", "bearer token of a safety officer (or --token-file)")
	tokenFile := fs.String("token-file", "", "file holding the bearer token")
	dryRun := fs.Bool("dry-run", false, "check every row and store nothing")
	onError := fs.String("on-error", "reject", "reject: store nothing if any row is bad; skip: store the good rows and list the bad ones")
	report := fs.String("report", "", "write the bad rows to this file (.csv or .json)")
	timeout := fs.Duration("request-timeout", 5*time.Minute, "how long one request (a chunk of up to 1,000 rows) may take")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: safesignal import --api URL --token T|--token-file F [--dry-run] [--on-error reject|skip] [--report bad-rows.csv|.json] FILE")
		fs.PrintDefaults()
	}
	file, err := fs.ParseWithArgs(args, "FILE")
	if err != nil {
		return err
	}
	if *api == "" {
		return usageError{"--api is required"}
	}
	if *onError != string(importclient.Reject) && *onError != string(importclient.Skip) {
		return usageError{fmt.Sprintf("--on-error must be reject or skip, not %q", *onError)}
	}
	if ext := strings.ToLower(filepath.Ext(*report)); *report != "" && ext != ".csv" && ext != ".json" {
		return usageError{"--report must name a .csv or .json file"}
	}
	if *timeout <= 0 {
		return usageError{"--request-timeout must be positive"}
	}
	bearer, err := readToken(*tok, *tokenFile)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	progress, done := importProgress(stderr, st.Size())
	client, err := importclient.New(importclient.Options{
		BaseURL: *api, Token: bearer, DryRun: *dryRun, OnError: importclient.OnError(*onError),
		HTTPClient: &http.Client{Timeout: *timeout}, Progress: progress,
	})
	if err != nil {
		return usageError{err.Error()}
	}
	res, err := client.Import(ctx, f)
	done()
	printImportSummary(stdout, res, *dryRun)
	if *report != "" {
		if rerr := writeImportReport(*report, res.Bad); rerr != nil {
			return errors.Join(err, rerr)
		}
		fmt.Fprintf(stdout, "bad rows written to %s\n", *report)
	} else {
		for _, b := range res.Bad {
			fmt.Fprintln(stdout, describeBadRow(b))
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("import interrupted; run the same command again to finish (rows already stored are recognised): %w", err)
	case err != nil:
		return fmt.Errorf("import: %w", err)
	case len(res.Bad) > 0:
		return rowsLeftOut{len(res.Bad)}
	}
	return nil
}

// readToken takes the token from the flag or from a file.
func readToken(tok, file string) (string, error) {
	if (tok == "") == (file == "") {
		return "", usageError{"give either --token or --token-file"}
	}
	if file == "" {
		return tok, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", usageError{"--token-file: the file is empty"}
	}
	return t, nil
}

// importProgress draws a bar over the file's bytes when stderr is a
// terminal, and writes a plain line at most every second otherwise. done
// finishes the output.
func importProgress(stderr io.Writer, size int64) (func(importclient.Progress), func()) {
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		var bar *progressbar.ProgressBar
		var phase importclient.Phase
		finish := func() {
			if bar != nil {
				_ = bar.Finish()
				fmt.Fprintln(stderr)
			}
		}
		return func(p importclient.Progress) {
			if bar == nil || p.Phase != phase {
				finish()
				phase = p.Phase
				desc := "importing"
				if p.Phase == importclient.PhaseCheck {
					desc = "checking"
				}
				bar = progressbar.NewOptions64(size, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription(desc),
					progressbar.OptionShowBytes(true), progressbar.OptionSetPredictTime(true), progressbar.OptionFullWidth())
			}
			bar.Describe(fmt.Sprintf("%s: %d rows, %d bad", phase, p.Rows, p.Bad))
			_ = bar.Set64(p.Offset)
		}, finish
	}
	var last time.Time
	return func(p importclient.Progress) {
		if time.Since(last) < time.Second {
			return
		}
		last = time.Now()
		pct := 100.0
		if size > 0 {
			pct = float64(p.Offset) / float64(size) * 100
		}
		fmt.Fprintf(stderr, "%s: %d rows (%.0f%% of the file), %d created, %d already there, %d bad\n", p.Phase, p.Rows, pct, p.Created, p.Replayed, p.Bad)
	}, func() {}
}

func printImportSummary(w io.Writer, res importclient.Result, dryRun bool) {
	fmt.Fprintf(w, "rows: %d\ncreated: %d\nalready there: %d\nbad: %d\n", res.Rows, res.Created, res.Replayed, len(res.Bad))
	switch {
	case dryRun:
		fmt.Fprintln(w, "dry run: nothing stored")
	case res.DryRun && len(res.Bad) > 0:
		fmt.Fprintln(w, "nothing stored: the file has bad rows (fix them, or use --on-error skip to store the good rows)")
	}
}

func describeBadRow(b importclient.BadRow) string {
	var reasons []string
	for _, e := range b.Errors {
		reasons = append(reasons, fmt.Sprintf("%s %s: %s", e.Field, e.Code, e.Message))
	}
	return fmt.Sprintf("bad row %d (line %d, rowKey %s): %s", b.Row, b.Line, strconv.Quote(b.RowKey), strings.Join(reasons, "; "))
}

// writeImportReport writes the bad rows as JSON, or as CSV with one line
// per field at fault.
func writeImportReport(path string, bad []importclient.BadRow) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if strings.EqualFold(filepath.Ext(path), ".json") {
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		err = enc.Encode(bad)
	} else {
		w := csv.NewWriter(f)
		_ = w.Write([]string{"row", "line", "rowKey", "field", "code", "message"})
		for _, b := range bad {
			for _, e := range b.Errors {
				// The row key comes from the file: a spreadsheet must not
				// run it as a formula.
				_ = w.Write(csvcell.GuardRecord([]string{strconv.Itoa(b.Row), strconv.Itoa(b.Line), b.RowKey, e.Field, e.Code, e.Message}))
			}
		}
		w.Flush()
		err = w.Error()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	return nil
}
