package httpapi

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/commands"
	"github.com/safesignal/safesignal/domain"
	"golang.org/x/sync/errgroup"
)

// CSV import of signals from an earlier reporting system (layout in
// docs/API.md). Every row is checked before anything is stored. With
// onError=reject (the default) a real run with a bad row stores nothing;
// with onError=skip the good rows are stored and the bad ones listed. Each
// row's signal id is derived from the organisation and the row key, so a
// file imported twice (or a run resumed after a failure) files every row
// once.

// importColumns is the required header, in order.
var importColumns = []string{"rowKey", "occurredAt", "region", "specialty", "kind", "category", "harm", "language", "description", "immediateActions"}

// MaxImportRows bounds one import request; larger files are sent in
// chunks (the import client does this).
const MaxImportRows = 1000

// importInFlight bounds how many rows of one request are filed at once.
const importInFlight = 8

// Row numbers count CSV records, the header being 1 (a quoted field may
// span lines).
type importRowError struct {
	Row    int                 `json:"row"`
	RowKey string              `json:"rowKey,omitempty"`
	Errors []domain.FieldError `json:"errors"`
}

type importedRow struct {
	Row      int                 `json:"row"`
	RowKey   string              `json:"rowKey"`
	ID       uuid.UUID           `json:"id"`
	Replayed bool                `json:"replayed,omitempty"`
	Warnings []identifierWarning `json:"warnings,omitempty"`
}

type importResult struct {
	DryRun   bool             `json:"dryRun"`
	OnError  string           `json:"onError"`
	Rows     int              `json:"rows"`
	Created  int              `json:"created"`
	Replayed int              `json:"replayed"`
	BadRows  int              `json:"badRows"`
	Bad      []importRowError `json:"bad"`
	Signals  []importedRow    `json:"signals"`
}

// What a real run does with bad rows.
const (
	onErrorReject = "reject" // store nothing (422)
	onErrorSkip   = "skip"   // store the good rows, list the bad ones (200)
)

type importRow struct {
	line int
	key  string
	cmd  domain.ReportSignal
}

// importSignals answers
// POST /api/v1/imports/signals?dryRun=true|false&onError=reject|skip.
func (s *Server) importSignals(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	q := r.URL.Query()
	if prob := knownParams(q, "dryRun", "onError"); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	dryRun := false
	switch q.Get("dryRun") {
	case "", "false":
	case "true":
		dryRun = true
	default:
		writeProblem(w, r, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", "dryRun", "invalid", "dryRun must be true or false"))
		return
	}
	onError := onErrorReject
	switch v := q.Get("onError"); v {
	case "", onErrorReject:
	case onErrorSkip:
		onError = onErrorSkip
	default:
		writeProblem(w, r, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", "onError", "invalid", "onError must be reject or skip"))
		return
	}
	mediaType, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	if strings.ToLower(strings.TrimSpace(mediaType)) != "text/csv" {
		writeProblem(w, r, newProblem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type", "the body must be text/csv"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeProblem(w, r, newProblem(http.StatusRequestEntityTooLarge, "body-too-large", "Request body too large", fmt.Sprintf("the body must be at most %d bytes", MaxBodyBytes)))
			return
		}
		writeProblem(w, r, newProblem(http.StatusBadRequest, "unreadable-body", "Unreadable request body", "the request body could not be read"))
		return
	}
	now := s.deps.Commands.Now().UTC()
	rows, bad, prob := s.parseImport(body, p, now)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	res := importResult{DryRun: dryRun, OnError: onError, Rows: len(rows) + len(bad), BadRows: len(bad), Bad: bad, Signals: []importedRow{}}
	if dryRun || (len(bad) > 0 && onError == onErrorReject) {
		status := http.StatusOK
		if !dryRun {
			status = http.StatusUnprocessableEntity
		}
		writeJSON(w, status, res)
		return
	}
	if prob := s.record(r, "signal.import", ""); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	filed, last, err := s.fileImport(r, p, rows)
	if err != nil {
		// Some rows may be stored; a repeat of the same file files the
		// rest and answers the stored ones as replayed.
		writeProblem(w, r, s.commandProblem(r, err))
		return
	}
	for i, out := range filed {
		row := rows[i]
		if out.Replayed {
			res.Replayed++
		} else {
			res.Created++
		}
		res.Signals = append(res.Signals, importedRow{Row: row.line, RowKey: row.key, ID: out.ID, Replayed: out.Replayed,
			Warnings: identifierWarnings(map[string]string{"description": row.cmd.Description, "immediateActions": row.cmd.ImmediateActions})})
	}
	s.waitForReadModel(r.Context(), last)
	writeJSON(w, http.StatusOK, res)
}

// fileImport files the rows, importInFlight at a time, and answers their
// results in row order and the highest log sequence among them. The first
// failure stops the rest (rows already filed stay filed).
func (s *Server) fileImport(r *http.Request, p auth.Principal, rows []importRow) ([]commands.Result, uint64, error) {
	out := make([]commands.Result, len(rows))
	g, ctx := errgroup.WithContext(r.Context())
	g.SetLimit(importInFlight)
	for i, row := range rows {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err // an earlier row failed
			}
			meta := commands.Meta{Actor: p.Subject, Caller: importCaller(p), CorrelationID: correlationID(r.Context()), IdempotencyKey: row.key}
			res, err := s.deps.Commands.Report(ctx, row.cmd, meta)
			if err != nil {
				return fmt.Errorf("import row %d (%s): %w", row.line, row.key, err)
			}
			out[i] = res
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	var last uint64
	for _, res := range out {
		last = max(last, res.Sequence)
	}
	return out, last, nil
}

// importCaller scopes row keys to the organisation, not to the officer who
// runs the import.
func importCaller(p auth.Principal) string { return "import:" + p.Organisation }

// parseImport reads the CSV and checks every row with the decider, so a
// dry run says exactly what a real run would refuse.
func (s *Server) parseImport(body []byte, p auth.Principal, now time.Time) ([]importRow, []importRowError, *Problem) {
	rd := csv.NewReader(bytes.NewReader(body))
	rd.FieldsPerRecord = len(importColumns)
	header, err := rd.Read()
	if err != nil || !slices.Equal(header, importColumns) {
		return nil, nil, fieldProblem(http.StatusUnprocessableEntity, "validation", "Invalid import", "header", "invalid",
			"the first line must be the header "+strings.Join(importColumns, ","))
	}
	var rows []importRow
	bad := []importRowError{}
	seen := map[string]int{}
	for line := 2; ; line++ {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if len(rows)+len(bad) >= MaxImportRows {
			return nil, nil, fieldProblem(http.StatusUnprocessableEntity, "validation", "Invalid import", "rows", "too_many", fmt.Sprintf("at most %d rows per import", MaxImportRows))
		}
		if err != nil {
			bad = append(bad, importRowError{Row: line, Errors: []domain.FieldError{{Field: "row", Code: "malformed", Message: "not a CSV row of " + fmt.Sprint(len(importColumns)) + " fields: " + csvReason(err)}}})
			continue
		}
		key := rec[0]
		var fe []domain.FieldError
		switch {
		case !safeRowKey(key):
			fe = append(fe, domain.FieldError{Field: "rowKey", Code: "invalid", Message: "rowKey must be 1 to 200 printable ASCII characters without spaces"})
		case seen[key] != 0:
			fe = append(fe, domain.FieldError{Field: "rowKey", Code: "duplicate", Message: fmt.Sprintf("rowKey repeats row %d", seen[key])})
		default:
			seen[key] = line
		}
		occurredAt, err := time.Parse(time.RFC3339Nano, rec[1])
		if rec[1] != "" && err != nil {
			fe = append(fe, domain.FieldError{Field: "occurredAt", Code: "invalid", Message: "occurredAt must be an RFC 3339 date-time"})
		}
		cmd := domain.ReportSignal{
			Organisation: p.Organisation, OccurredAt: occurredAt, Region: rec[2], Specialty: domain.Specialty(rec[3]),
			Kind: domain.Kind(rec[4]), Category: domain.Category(rec[5]), Harm: domain.Harm(rec[6]), Language: domain.Language(rec[7]),
			Description: rec[8], ImmediateActions: rec[9], Anonymous: true, At: now,
		}
		if key != "" && safeRowKey(key) {
			if cmd.SignalID, err = s.deps.Commands.NewSignalID(importCaller(p), key); err != nil {
				return nil, nil, newProblem(http.StatusServiceUnavailable, "unavailable", "Try again", "no signal id could be made")
			}
		} else {
			cmd.SignalID = uuid.New()
		}
		if _, err := domain.Decide(domain.Signal{}, cmd); err != nil {
			var ve *domain.ValidationError
			if !errors.As(err, &ve) {
				return nil, nil, newProblem(http.StatusUnprocessableEntity, "validation", "Invalid import", fmt.Sprintf("record %d: %v", line, err))
			}
			for _, f := range ve.Fields {
				if f.Field == "occurredAt" && slices.ContainsFunc(fe, func(x domain.FieldError) bool { return x.Field == "occurredAt" }) {
					continue
				}
				fe = append(fe, f)
			}
		}
		if len(fe) > 0 {
			bad = append(bad, importRowError{Row: line, RowKey: key, Errors: fe})
			continue
		}
		rows = append(rows, importRow{line: line, key: key, cmd: cmd})
	}
	return rows, bad, nil
}

func safeRowKey(k string) bool {
	if k == "" || len(k) > 200 {
		return false
	}
	for _, c := range []byte(k) {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return "unreadable"
}
