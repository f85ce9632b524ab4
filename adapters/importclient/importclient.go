// Package importclient sends a CSV file of signals of any size to the
// import API (POST /api/v1/imports/signals) in chunks the server accepts,
// retrying what may be retried and reporting every bad row by its number
// in the file.
//
// The server takes at most 1,000 rows and 1 MiB per request. The client
// reads the file with encoding/csv (a quoted field may span lines), and
// re-encodes each chunk of records with the file's header. Rows are
// idempotent (each row's signal id is derived from the organisation and
// its rowKey), so a chunk whose answer was lost is simply sent again, and
// a file imported twice, or again after an interrupted run, stores every
// row once.
package importclient

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Server limits per request (see docs/API.md).
const (
	MaxRows  = 1000
	MaxBytes = 1 << 20
)

// Path is the import route, below the API's base URL.
const Path = "/api/v1/imports/signals"

// OnError says what a real run does with bad rows.
type OnError string

const (
	// Reject stores nothing if any row of the file is bad: every chunk is
	// checked (a dry run) before any is stored.
	Reject OnError = "reject"
	// Skip stores the good rows and lists the bad ones.
	Skip OnError = "skip"
)

// Options configure an import.
type Options struct {
	// BaseURL is the service's address, e.g. https://safesignal.example.
	BaseURL string
	// Token is the bearer token of a safety officer.
	Token string
	// DryRun checks every row and stores nothing.
	DryRun bool
	// OnError is Reject (the default) or Skip.
	OnError OnError
	// HTTPClient sends the requests; http.DefaultClient when nil.
	HTTPClient *http.Client
	// MaxRows and MaxBytes bound a chunk; the server's limits when zero.
	MaxRows  int
	MaxBytes int
	// MaxAttempts bounds the tries of one chunk (429, 5xx, network
	// errors); 8 when zero.
	MaxAttempts int
	// Backoff is the first wait between tries, doubled each time up to
	// MaxBackoff; 250 ms and 15 s when zero.
	Backoff, MaxBackoff time.Duration
	// Progress, when set, is called when a pass over the file begins and
	// after every chunk.
	Progress func(Progress)
}

// Phase is what a pass over the file does.
type Phase string

const (
	PhaseCheck  Phase = "check"  // a dry run before storing (Reject)
	PhaseImport Phase = "import" // the run asked for (a dry run if DryRun)
)

// Progress is reported when a pass begins and after each chunk.
type Progress struct {
	Phase Phase
	// Offset is how many bytes of the file have been read.
	Offset int64
	// Rows, Created, Replayed and Bad count the pass so far.
	Rows, Created, Replayed, Bad int
}

// FieldError names a field at fault in a row.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

// BadRow is a row that was not (or would not be) stored.
type BadRow struct {
	// Row is the CSV record's number in the file, the header being 1.
	Row int `json:"row"`
	// Line is the file line the record starts on (a quoted field may
	// span lines, so it can differ from Row).
	Line   int          `json:"line"`
	RowKey string       `json:"rowKey,omitempty"`
	Errors []FieldError `json:"errors"`
}

// Result is the outcome of an import.
type Result struct {
	DryRun bool
	// Rows counts the file's records after the header.
	Rows int
	// Created counts rows stored by this run, Replayed rows that were
	// already there (an earlier import, or an earlier try of a chunk).
	Created, Replayed int
	// Bad lists the rows left out, in file order.
	Bad []BadRow
}

// Error is an answer the client does not retry (or stopped retrying).
type Error struct {
	Status int
	// Problem is the server's problem+json, if any.
	Problem *Problem
	// Row is the first file row of the chunk that was refused.
	Row int
}

// Problem is an RFC 9457 problem as the API answers it.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Detail string       `json:"detail"`
	Errors []FieldError `json:"errors,omitempty"`
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("import of the chunk starting at row %d: status %d", e.Row, e.Status)
	if e.Problem != nil {
		msg += ": " + e.Problem.Title
		if e.Problem.Detail != "" {
			msg += ": " + e.Problem.Detail
		}
		for _, f := range e.Problem.Errors {
			msg += fmt.Sprintf(" [%s %s]", f.Field, f.Code)
		}
	}
	return msg
}

// ErrRefusedAfterCheck is returned when, with Reject, the server refused a
// chunk of a file whose check had passed (the file or the clock moved
// between the passes): chunks before it were stored.
var ErrRefusedAfterCheck = errors.New("a chunk was refused after the whole file had been checked")

// Client imports files.
type Client struct {
	opt      Options
	endpoint string
}

// New checks the options and makes a client.
func New(opt Options) (*Client, error) {
	u, err := url.Parse(opt.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("importclient: the API address %q is not an http(s) URL", opt.BaseURL)
	}
	if opt.Token == "" {
		return nil, errors.New("importclient: no token")
	}
	switch opt.OnError {
	case "":
		opt.OnError = Reject
	case Reject, Skip:
	default:
		return nil, fmt.Errorf("importclient: onError must be %s or %s, not %q", Reject, Skip, opt.OnError)
	}
	if opt.HTTPClient == nil {
		opt.HTTPClient = http.DefaultClient
	}
	if opt.MaxRows <= 0 || opt.MaxRows > MaxRows {
		opt.MaxRows = MaxRows
	}
	if opt.MaxBytes <= 0 || opt.MaxBytes > MaxBytes {
		opt.MaxBytes = MaxBytes
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 8
	}
	if opt.Backoff <= 0 {
		opt.Backoff = 250 * time.Millisecond
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 15 * time.Second
	}
	return &Client{opt: opt, endpoint: strings.TrimRight(opt.BaseURL, "/") + Path}, nil
}

// Import sends the CSV file read from f. With Reject (and not DryRun) the
// file is read twice: a dry run of every chunk, then, if no row is bad,
// the real run. The result is returned with any error, as far as it got.
func (c *Client) Import(ctx context.Context, f io.ReadSeeker) (Result, error) {
	res, err := c.importFile(ctx, f)
	// Rows found bad here and by the server interleave.
	slices.SortStableFunc(res.Bad, func(a, b BadRow) int { return a.Row - b.Row })
	return res, err
}

func (c *Client) importFile(ctx context.Context, f io.ReadSeeker) (Result, error) {
	if c.opt.DryRun || c.opt.OnError == Skip {
		return c.pass(ctx, f, PhaseImport, c.opt.DryRun)
	}
	check, err := c.pass(ctx, f, PhaseCheck, true)
	if err != nil || len(check.Bad) > 0 {
		return check, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Result{}, fmt.Errorf("importclient: rewind the file: %w", err)
	}
	return c.pass(ctx, f, PhaseImport, false)
}

// record is a file record on its way to the server.
type record struct {
	row, line int
	key       string
}

// chunk is records encoded with the header, and their file rows.
type chunk struct {
	body bytes.Buffer
	rows []record
}

// pass reads the whole file once, sending chunks as they fill.
func (c *Client) pass(ctx context.Context, f io.Reader, phase Phase, dryRun bool) (Result, error) {
	res := Result{DryRun: dryRun, Bad: []BadRow{}}
	rd := csv.NewReader(f)
	header, err := rd.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return res, errors.New("importclient: the file is empty (no header)")
		}
		return res, fmt.Errorf("importclient: read the header: %w", err)
	}
	// Spreadsheets often save CSV with a byte-order mark; the API wants
	// the header exactly.
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	var head bytes.Buffer
	if err := writeRecord(&head, header); err != nil {
		return res, err
	}
	seen := map[string]int{}
	cur := &chunk{}
	progress := func() {
		if c.opt.Progress != nil {
			c.opt.Progress(Progress{Phase: phase, Offset: rd.InputOffset(), Rows: res.Rows, Created: res.Created, Replayed: res.Replayed, Bad: len(res.Bad)})
		}
	}
	progress() // the pass has begun
	flush := func() error {
		if len(cur.rows) == 0 {
			return nil
		}
		err := c.send(ctx, head.Bytes(), cur, dryRun, &res)
		cur = &chunk{}
		progress()
		return err
	}
	for row := 2; ; row++ {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		res.Rows++
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return res, fmt.Errorf("importclient: read row %d: %w", row, err)
			}
			key, line := "", pe.StartLine
			if len(rec) > 0 { // a record of the wrong length
				key = rec[0]
			}
			res.Bad = append(res.Bad, BadRow{Row: row, Line: line, RowKey: key, Errors: []FieldError{{Field: "row", Code: "malformed",
				Message: fmt.Sprintf("not a CSV row of %d fields: %v", len(header), pe.Err)}}})
			continue
		}
		line, _ := rd.FieldPos(0)
		key := rec[0]
		if first, ok := seen[key]; ok && key != "" {
			res.Bad = append(res.Bad, BadRow{Row: row, Line: line, RowKey: key, Errors: []FieldError{{Field: "rowKey", Code: "duplicate",
				Message: fmt.Sprintf("rowKey repeats row %d", first)}}})
			continue
		}
		seen[key] = row
		var enc bytes.Buffer
		if err := writeRecord(&enc, rec); err != nil {
			return res, err
		}
		if head.Len()+enc.Len() > c.opt.MaxBytes {
			res.Bad = append(res.Bad, BadRow{Row: row, Line: line, RowKey: key, Errors: []FieldError{{Field: "row", Code: "too_large",
				Message: fmt.Sprintf("the row takes %d bytes; a request may take %d with the header", enc.Len(), c.opt.MaxBytes)}}})
			continue
		}
		if len(cur.rows) == c.opt.MaxRows || head.Len()+cur.body.Len()+enc.Len() > c.opt.MaxBytes {
			if err := flush(); err != nil {
				return res, err
			}
		}
		cur.body.Write(enc.Bytes())
		cur.rows = append(cur.rows, record{row: row, line: line, key: key})
	}
	return res, flush()
}

func writeRecord(buf *bytes.Buffer, rec []string) error {
	w := csv.NewWriter(buf)
	if err := w.Write(rec); err != nil {
		return fmt.Errorf("importclient: encode a row: %w", err)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("importclient: encode a row: %w", err)
	}
	return nil
}

// answer is the server's import answer.
type answer struct {
	Rows     int `json:"rows"`
	Created  int `json:"created"`
	Replayed int `json:"replayed"`
	Bad      []struct {
		Row    int          `json:"row"`
		RowKey string       `json:"rowKey"`
		Errors []FieldError `json:"errors"`
	} `json:"bad"`
}

// send posts one chunk, retrying as needed, and adds its answer to res
// with the server's row numbers mapped to the file's.
func (c *Client) send(ctx context.Context, head []byte, ch *chunk, dryRun bool, res *Result) error {
	body := make([]byte, 0, len(head)+ch.body.Len())
	body = append(append(body, head...), ch.body.Bytes()...)
	q := url.Values{"dryRun": {strconv.FormatBool(dryRun)}, "onError": {string(c.opt.OnError)}}
	first := ch.rows[0].row
	var a answer
	refused := false
	for attempt := 1; ; attempt++ {
		status, wait, err := c.post(ctx, c.endpoint+"?"+q.Encode(), body, &a)
		if err == nil {
			refused = status == http.StatusUnprocessableEntity
			break
		}
		var fatal *Error
		if errors.As(err, &fatal) {
			fatal.Row = first
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("importclient: chunk starting at row %d: %w", first, ctx.Err())
		}
		if attempt == c.opt.MaxAttempts {
			return fmt.Errorf("importclient: chunk starting at row %d: gave up after %d tries (last status %d): %w", first, attempt, status, err)
		}
		if wait <= 0 {
			wait = c.backoff(attempt)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("importclient: chunk starting at row %d: %w", first, ctx.Err())
		case <-t.C:
		}
	}
	if a.Rows != len(ch.rows) {
		return fmt.Errorf("importclient: chunk starting at row %d: the server counted %d rows, %d were sent", first, a.Rows, len(ch.rows))
	}
	res.Created += a.Created
	res.Replayed += a.Replayed
	for _, b := range a.Bad {
		i := b.Row - 2 // the server's rows count from its header, row 1
		if i < 0 || i >= len(ch.rows) {
			return fmt.Errorf("importclient: chunk starting at row %d: the server named row %d of %d", first, b.Row, len(ch.rows)+1)
		}
		r := ch.rows[i]
		res.Bad = append(res.Bad, BadRow{Row: r.row, Line: r.line, RowKey: b.RowKey, Errors: b.Errors})
	}
	if refused {
		return fmt.Errorf("importclient: chunk starting at row %d: %w", first, ErrRefusedAfterCheck)
	}
	return nil
}

// backoff is the wait before try attempt+1: doubling, capped, with
// jitter so that clients retrying together spread out.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.opt.Backoff << min(attempt-1, 20)
	if d <= 0 || d > c.opt.MaxBackoff {
		d = c.opt.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

// post sends one request. A nil error means a decoded answer; an *Error
// is final; any other error may be retried after wait (zero: back off).
func (c *Client) post(ctx context.Context, endpoint string, body []byte, a *answer) (int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, 0, &Error{Problem: &Problem{Title: "request not made", Detail: err.Error()}}
	}
	req.Header.Set("Content-Type", "text/csv; charset=utf-8")
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("Authorization", "Bearer "+c.opt.Token)
	resp, err := c.opt.HTTPClient.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("send: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, 0, fmt.Errorf("read the answer: %w", err)
	}
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode == http.StatusOK, resp.StatusCode == http.StatusUnprocessableEntity && mediaType == "application/json":
		// 422 with an import answer: a chunk refused for its bad rows.
		*a = answer{}
		if err := json.Unmarshal(raw, a); err != nil {
			return resp.StatusCode, 0, fmt.Errorf("decode the answer: %w", err)
		}
		return resp.StatusCode, 0, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return resp.StatusCode, retryAfter(resp.Header.Get("Retry-After"), time.Now()), fmt.Errorf("status %d", resp.StatusCode)
	case resp.StatusCode >= 500:
		return resp.StatusCode, retryAfter(resp.Header.Get("Retry-After"), time.Now()), fmt.Errorf("status %d", resp.StatusCode)
	default:
		e := &Error{Status: resp.StatusCode}
		if mediaType == "application/problem+json" {
			var p Problem
			if json.Unmarshal(raw, &p) == nil {
				e.Problem = &p
			}
		}
		return resp.StatusCode, 0, e
	}
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
