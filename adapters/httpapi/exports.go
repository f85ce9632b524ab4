package httpapi

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/csvcell"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections/signaldetail"
	"go.uber.org/zap"
)

// actionExport is the audited action of a bulk export.
const actionExport = "signals.export"

// Export formats.
const (
	exportNDJSON = "ndjson"
	exportCSV    = "csv"
)

const (
	// exportFlushEvery is how many records go out between flushes.
	exportFlushEvery = 256
	// exportWriteWindow is how long the client has to take each stretch
	// of exportFlushEvery records: the server's write timeout is extended
	// by this much at every flush, so that a long export that keeps
	// moving is not cut off while a stalled client still is.
	exportWriteWindow = 30 * time.Second
)

// exportRecord is one signal in a bulk export: what the safety officer's
// view of the signal shows, without the feedback, questions and
// escalation texts, and without whether peer support was asked for
// (that stays between the reporter and the peer-support contacts). An
// anonymous signal has no reporter; an erased one has no text.
type exportRecord struct {
	ID                     uuid.UUID  `json:"id"`
	Organisation           string     `json:"organisation"`
	Status                 string     `json:"status"`
	Kind                   string     `json:"kind"`
	Category               string     `json:"category"`
	Harm                   string     `json:"harm"`
	Specialty              string     `json:"specialty"`
	Region                 string     `json:"region"`
	Language               string     `json:"language"`
	OccurredAt             time.Time  `json:"occurredAt"`
	ReportedAt             time.Time  `json:"reportedAt"`
	UpdatedAt              time.Time  `json:"updatedAt"`
	AcknowledgedAt         *time.Time `json:"acknowledgedAt,omitempty"`
	Classifications        int        `json:"classifications"`
	ContributingFactors    []string   `json:"contributingFactors"`
	Reportable             bool       `json:"reportable"`
	RegulatoryJurisdiction string     `json:"regulatoryJurisdiction,omitempty"`
	Regulator              string     `json:"regulator,omitempty"`
	RegulatoryNotification string     `json:"regulatoryNotification,omitempty"`
	RegulatoryDueAt        *time.Time `json:"regulatoryDueAt,omitempty"`
	RegulatoryOverdue      bool       `json:"regulatoryOverdue"`
	RegulatorNotifiedAt    *time.Time `json:"regulatorNotifiedAt,omitempty"`
	RejectionReason        string     `json:"rejectionReason,omitempty"`
	DuplicateOf            *uuid.UUID `json:"duplicateOf,omitempty"`
	ClosureOutcome         string     `json:"closureOutcome,omitempty"`
	ClosedAt               *time.Time `json:"closedAt,omitempty"`
	Escalations            int        `json:"escalations"`
	OpenEscalations        int        `json:"openEscalations"`
	FeedbackMessages       int        `json:"feedbackMessages"`
	Anonymous              bool       `json:"anonymous"`
	Reporter               string     `json:"reporter,omitempty"`
	ReporterErased         bool       `json:"reporterErased"`
	Erased                 bool       `json:"erased"`
	Description            string     `json:"description,omitempty"`
	ImmediateActions       string     `json:"immediateActions,omitempty"`
}

// exportColumns are the CSV header: the NDJSON keys, in the same order.
func exportColumns() []string {
	return []string{
		"id", "organisation", "status", "kind", "category", "harm", "specialty", "region", "language",
		"occurredAt", "reportedAt", "updatedAt", "acknowledgedAt", "classifications", "contributingFactors", "reportable",
		"regulatoryJurisdiction", "regulator", "regulatoryNotification", "regulatoryDueAt", "regulatoryOverdue", "regulatorNotifiedAt",
		"rejectionReason", "duplicateOf", "closureOutcome", "closedAt", "escalations", "openEscalations", "feedbackMessages",
		"anonymous", "reporter", "reporterErased", "erased", "description", "immediateActions",
	}
}

func exportRecordOf(v signaldetail.View, now time.Time) exportRecord {
	utc := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		u := t.UTC()
		return &u
	}
	e := exportRecord{
		ID: v.ID, Organisation: v.Organisation, Status: string(v.Status), Kind: string(v.Kind), Category: string(v.Category),
		Harm: string(v.Harm), Specialty: string(v.Specialty), Region: v.Region, Language: string(v.Language),
		OccurredAt: v.OccurredAt.UTC(), ReportedAt: v.ReportedAt.UTC(), UpdatedAt: v.UpdatedAt.UTC(),
		AcknowledgedAt: utc(v.AcknowledgedAt), Classifications: v.Classifications, ContributingFactors: []string{},
		Reportable: v.Reportable, Escalations: len(v.Escalations), FeedbackMessages: len(v.Feedback),
		Anonymous: v.Anonymous, ReporterErased: v.ReporterErased, Erased: v.ContentErased,
	}
	for _, f := range v.ContributingFactors {
		e.ContributingFactors = append(e.ContributingFactors, string(f))
	}
	if d := v.Regulatory; d.Tracked() {
		e.RegulatoryJurisdiction, e.Regulator, e.RegulatoryNotification = d.Jurisdiction, d.Regulator, d.Notification
		e.RegulatoryDueAt, e.RegulatoryOverdue, e.RegulatorNotifiedAt = utc(d.DueAt), d.Overdue(now), utc(d.NotifiedAt)
	}
	if v.Status == domain.StatusRejected {
		e.RejectionReason = string(v.Rejection.Reason)
	}
	if v.DuplicateOf != uuid.Nil {
		d := v.DuplicateOf
		e.DuplicateOf = &d
	}
	if v.Status == domain.StatusClosed {
		e.ClosureOutcome, e.ClosedAt = string(v.Closure.Outcome), utc(v.Closure.ClosedAt)
	}
	for _, x := range v.Escalations {
		if x.State() == domain.EscalationStateOpen {
			e.OpenEscalations++
		}
	}
	// The fold blanks an erased signal's text and an erased reporter;
	// the export does not rely on it alone.
	if !v.ContentErased {
		e.Description, e.ImmediateActions = v.Description, v.ImmediateActions
	}
	if !v.Anonymous && !v.ReporterErased {
		e.Reporter = v.Reporter
	}
	return e
}

// csv is the record as a CSV row in exportColumns' order, every cell
// guarded against formula injection.
func (e exportRecord) csv() []string {
	ts := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.RFC3339Nano)
	}
	dup := ""
	if e.DuplicateOf != nil {
		dup = e.DuplicateOf.String()
	}
	return csvcell.GuardRecord([]string{
		e.ID.String(), e.Organisation, e.Status, e.Kind, e.Category, e.Harm, e.Specialty, e.Region, e.Language,
		ts(&e.OccurredAt), ts(&e.ReportedAt), ts(&e.UpdatedAt), ts(e.AcknowledgedAt), strconv.Itoa(e.Classifications),
		strings.Join(e.ContributingFactors, ";"), strconv.FormatBool(e.Reportable),
		e.RegulatoryJurisdiction, e.Regulator, e.RegulatoryNotification, ts(e.RegulatoryDueAt), strconv.FormatBool(e.RegulatoryOverdue), ts(e.RegulatorNotifiedAt),
		e.RejectionReason, dup, e.ClosureOutcome, ts(e.ClosedAt), strconv.Itoa(e.Escalations), strconv.Itoa(e.OpenEscalations), strconv.Itoa(e.FeedbackMessages),
		strconv.FormatBool(e.Anonymous), e.Reporter, strconv.FormatBool(e.ReporterErased), strconv.FormatBool(e.Erased), e.Description, e.ImmediateActions,
	})
}

// exportQuery is a parsed export request.
type exportQuery struct {
	format string
	// bom starts a CSV export with a UTF-8 byte-order mark, so that
	// spreadsheets that guess a legacy code page read ø, å and ä right.
	bom    bool
	filter signaldetail.ExportFilter
}

// audited is the query as the audit record keeps it: every parameter that
// was in force, normalised, in a fixed order.
func (q exportQuery) audited() string {
	v := url.Values{"format": {q.format}}
	if q.bom {
		v.Set("bom", "true")
	}
	list := func(name string, vals []string) {
		if len(vals) > 0 {
			v.Set(name, strings.Join(vals, ","))
		}
	}
	list("status", texts(q.filter.Statuses))
	list("kind", texts(q.filter.Kinds))
	list("harm", texts(q.filter.Harms))
	list("category", texts(q.filter.Categories))
	if !q.filter.ReportedFrom.IsZero() {
		v.Set("from", q.filter.ReportedFrom.Format(time.RFC3339Nano))
	}
	if !q.filter.ReportedTo.IsZero() {
		v.Set("to", q.filter.ReportedTo.Format(time.RFC3339Nano))
	}
	return v.Encode()
}

func texts[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// parseExportQuery reads an export's query: every parameter known, every
// value valid, else a problem naming the parameter.
func parseExportQuery(q url.Values) (exportQuery, *Problem) {
	var e exportQuery
	if prob := knownParams(q, "format", "bom", "from", "to", "status", "kind", "harm", "category"); prob != nil {
		return e, prob
	}
	switch q.Get("bom") {
	case "", "false":
	case "true":
		e.bom = true
	default:
		return e, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", "bom", "invalid", "bom must be true or false")
	}
	switch e.format = q.Get("format"); e.format {
	case "":
		e.format = exportNDJSON
	case exportNDJSON, exportCSV:
	default:
		return e, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", "format", "invalid", "format must be ndjson or csv")
	}
	f := &e.filter
	var prob *Problem
	if f.Statuses, prob = queryList(q, "status", func(st domain.Status) bool { return slices.Contains(domain.Statuses(), st) }); prob != nil {
		return e, prob
	}
	if f.Kinds, prob = queryList(q, "kind", domain.Kind.Valid); prob != nil {
		return e, prob
	}
	if f.Harms, prob = queryList(q, "harm", domain.Harm.Valid); prob != nil {
		return e, prob
	}
	if f.Categories, prob = queryList(q, "category", domain.Category.Valid); prob != nil {
		return e, prob
	}
	if f.ReportedFrom, prob = queryTime(q, "from"); prob != nil {
		return e, prob
	}
	if f.ReportedTo, prob = queryTime(q, "to"); prob != nil {
		return e, prob
	}
	if !f.ReportedFrom.IsZero() && !f.ReportedTo.IsZero() && !f.ReportedFrom.Before(f.ReportedTo) {
		return e, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", "to", "invalid", "to must be later than from")
	}
	return e, nil
}

// queryTime reads an RFC 3339 date-time, or a date that stands for its
// midnight UTC.
func queryTime(q url.Values, name string) (time.Time, *Problem) {
	raw := q.Get(name)
	if raw == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, raw); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, raw); err == nil {
		return t, nil
	}
	return time.Time{}, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", name, "invalid",
		name+" must be an RFC 3339 date-time such as 2026-11-20T14:30:00Z (a + in an offset sent as %2B) or a date such as 2026-11-20")
}

// exportFilename names the download after the organisation and the time.
func exportFilename(org, format string, at time.Time) string {
	safe := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			return c
		}
		return '_'
	}, org)
	if len(safe) > 64 {
		safe = safe[:64]
	}
	return "signals-" + safe + "-" + at.UTC().Format("20060102T150405Z") + "." + format
}

// exportSignals answers GET /api/v1/exports/signals: the caller's
// organisation's signals as NDJSON or CSV, streamed as they are read.
func (s *Server) exportSignals(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	q, prob := parseExportQuery(r.URL.Query())
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	if prob := s.recordQuery(r, actionExport, q.audited()); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	now := s.deps.Commands.Now()
	rc := http.NewResponseController(w)
	extend := func() {
		if err := rc.SetWriteDeadline(time.Now().Add(exportWriteWindow)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			s.deps.Logger.Debug("export: extend write deadline", zap.Error(err))
		}
	}
	var out exportWriter
	started := false
	start := func() error {
		started = true
		extend()
		h := w.Header()
		name := exportFilename(p.Organisation, q.format, now)
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		h.Set("Cache-Control", "no-store")
		if q.format == exportCSV {
			h.Set("Content-Type", "text/csv; charset=utf-8; header=present")
			out = newCSVExport(w, q.bom)
		} else {
			h.Set("Content-Type", "application/x-ndjson")
			out = ndjsonExport{json.NewEncoder(w)}
		}
		w.WriteHeader(http.StatusOK)
		return out.header()
	}
	flush := func() error {
		if err := out.flush(); err != nil {
			return err
		}
		extend()
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		return nil
	}
	n := 0
	for v, err := range s.deps.Signals.Export(r.Context(), p.Organisation, q.filter) {
		if err != nil {
			if !started {
				s.deps.Logger.Error("export: read signals", zap.Error(err), zap.String("correlationId", correlationID(r.Context())))
				writeProblem(w, r, newProblem(http.StatusServiceUnavailable, "unavailable", "Read model unavailable", "the signals could not be read; try again"))
				return
			}
			if r.Context().Err() != nil {
				s.exportGone(r, err, n)
				return
			}
			// The answer is under way: break the connection, so that the
			// client sees a failed download, never a short file that looks
			// whole.
			s.deps.Logger.Error("export failed after it started", zap.Error(err), zap.Int("records", n), zap.String("correlationId", correlationID(r.Context())))
			panic(http.ErrAbortHandler)
		}
		if v.Organisation != p.Organisation {
			// The store answers for one organisation; this is a second lock.
			continue
		}
		if !started {
			if err := start(); err != nil {
				s.exportGone(r, err, n)
				return
			}
		}
		if err := out.write(exportRecordOf(v, now)); err != nil {
			s.exportGone(r, err, n)
			return
		}
		if n++; n%exportFlushEvery == 0 {
			if err := flush(); err != nil {
				s.exportGone(r, err, n)
				return
			}
		}
	}
	if !started {
		if err := start(); err != nil {
			s.exportGone(r, err, n)
			return
		}
	}
	if err := flush(); err != nil {
		s.exportGone(r, err, n)
		return
	}
	// The audit record was written before the first record left; the
	// count is known only now, and goes to the log under the same
	// correlation id.
	s.deps.Logger.Info("export completed", zap.String("format", q.format), zap.Int("records", n), zap.String("correlationId", correlationID(r.Context())))
}

// exportGone logs an export the client stopped taking.
func (s *Server) exportGone(r *http.Request, err error, records int) {
	s.deps.Logger.Info("export not completed: the client stopped reading", zap.Error(err), zap.Int("records", records), zap.String("correlationId", correlationID(r.Context())))
}

// exportWriter writes the records of one format.
type exportWriter interface {
	header() error
	write(exportRecord) error
	// flush hands what is buffered to the response.
	flush() error
}

type ndjsonExport struct{ enc *json.Encoder }

func (ndjsonExport) header() error { return nil }
func (e ndjsonExport) write(r exportRecord) error {
	if err := e.enc.Encode(r); err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	return nil
}
func (ndjsonExport) flush() error { return nil }

type csvExport struct {
	w   *csv.Writer
	raw io.Writer // under w; nil: no byte-order mark
}

func newCSVExport(w io.Writer, bom bool) csvExport {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // RFC 4180
	e := csvExport{w: cw}
	if bom {
		e.raw = w
	}
	return e
}

func (e csvExport) header() error {
	if e.raw != nil {
		// Nothing has gone through the csv.Writer yet, so the mark comes
		// first.
		if _, err := io.WriteString(e.raw, "\ufeff"); err != nil {
			return fmt.Errorf("write byte-order mark: %w", err)
		}
	}
	if err := e.w.Write(exportColumns()); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	return nil
}

func (e csvExport) write(r exportRecord) error {
	if err := e.w.Write(r.csv()); err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	return nil
}

func (e csvExport) flush() error {
	e.w.Flush()
	if err := e.w.Error(); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	return nil
}
