package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/signaldetail"
)

// SignalDetailVersion is the version of the signal_detail tables. Raise
// it with any change to their layout or to what the fold writes: serve
// then rebuilds them from the log into fresh tables before it follows the
// log again.
const SignalDetailVersion = 1

// SignalDetail is the PostgreSQL store of the signal detail read model.
// Each signal is one row: the columns the queries filter and sort on, and
// the whole view as a JSON document. The view holds the signal's text in
// the clear, as the in-memory store does: the tables are as sensitive as
// the service's memory, and an erasure event blanks the row it concerns.
type SignalDetail struct {
	pool  *pgxpool.Pool
	table string // the table, also the checkpoint's name
	// exportPage is how many rows one query of an export reads (default
	// defaultExportPage).
	exportPage int
}

// defaultExportPage is the rows an export reads per query: enough to keep
// round trips few, few enough that an export of any size holds one page.
const defaultExportPage = 500

var _ signaldetail.Store = (*SignalDetail)(nil)

// OpenSignalDetail returns the store, creating its table on first use. A
// store built by another version of the code reports Stale; Rebuild
// replaces it.
func OpenSignalDetail(ctx context.Context, pool *pgxpool.Pool) (*SignalDetail, error) {
	s := &SignalDetail{pool: pool, table: signaldetail.Name}
	if err := open(ctx, pool, s); err != nil {
		return nil, err
	}
	return s, nil
}

// Stale reports whether the tables were built by another version.
func (s *SignalDetail) Stale(ctx context.Context) (bool, error) { return stale(ctx, s.pool, s) }

// Rebuild rebuilds the table from the log; see rebuild.
func (s *SignalDetail) Rebuild(ctx context.Context, log projections.Log, codec *projections.Codec, opts RebuildOptions) (RebuildResult, error) {
	return rebuild(ctx, s.pool, s, log, codec, opts)
}

func (s *SignalDetail) base() string     { return s.table }
func (s *SignalDetail) version() int     { return SignalDetailVersion }
func (s *SignalDetail) tables() []string { return []string{""} }
func (s *SignalDetail) indexes() []string {
	return []string{"_pkey", "_org", "_reporter", "_deadline", "_escalated"}
}
func (s *SignalDetail) at(base string) rebuildable { return &SignalDetail{pool: s.pool, table: base} }

// create makes the table and its checkpoint row (at zero); with indexes,
// the secondary indexes too (a rebuild adds them after the bulk load).
func (s *SignalDetail) create(ctx context.Context, indexes bool) error {
	db := s.pool
	ddl := fmt.Sprintf(`
CREATE TABLE %[1]s (
    id                uuid        NOT NULL,
    organisation      text        NOT NULL,
    reporter          text,
    status            text        NOT NULL,
    kind              text        NOT NULL,
    category          text        NOT NULL,
    harm              text        NOT NULL,
    harm_rank         integer     NOT NULL,
    reported_at       timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    ack_ns            bigint,
    feedback_ns       bigint,
    deadline_due_at   timestamptz,
    escalated         boolean     NOT NULL,
    sequence          bigint      NOT NULL,
    doc               jsonb       NOT NULL,
    CONSTRAINT %[1]s_pkey PRIMARY KEY (id)
);`, s.table)
	if _, err := db.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("create %s: %w", s.table, err)
	}
	if indexes {
		return s.index(ctx)
	}
	return nil
}

func (s *SignalDetail) index(ctx context.Context) error {
	db := s.pool
	ddl := fmt.Sprintf(`
CREATE INDEX %[1]s_org ON %[1]s (organisation, reported_at);
CREATE INDEX %[1]s_reporter ON %[1]s (reporter, reported_at) WHERE reporter IS NOT NULL;
CREATE INDEX %[1]s_deadline ON %[1]s (deadline_due_at) WHERE deadline_due_at IS NOT NULL;
CREATE INDEX %[1]s_escalated ON %[1]s (id) WHERE escalated;`, s.table)
	if _, err := db.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("index %s: %w", s.table, err)
	}
	return nil
}

// Name implements projections.Projection.
func (s *SignalDetail) Name() string { return signaldetail.Name }

// Checkpoint implements projections.Projection.
func (s *SignalDetail) Checkpoint(ctx context.Context) (uint64, error) {
	seq, _, _, err := checkpoint(ctx, s.pool, s.table)
	return seq, err
}

// Apply implements projections.Projection: in one transaction, under the
// checkpoint row's lock, it folds the events after the checkpoint into
// their rows (each row read and written once per batch) and moves the
// checkpoint to through.
func (s *SignalDetail) Apply(ctx context.Context, batch []projections.Event, through uint64) error {
	tx, cp, err := beginApply(ctx, s.pool, s.table, through)
	if err != nil || tx == nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	// Which rows the batch touches, in first-touch order.
	var ids []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, e := range batch {
		if e.Sequence <= uint64(cp) || e.Envelope.AggregateType != projections.AggregateSignal {
			continue
		}
		id, err := signaldetail.SignalID(e)
		if err != nil {
			return fmt.Errorf("%s: event %s: %w", s.table, e.Envelope.ID, err)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	views, err := s.load(ctx, tx, ids)
	if err != nil {
		return err
	}
	existed := make(map[uuid.UUID]bool, len(views))
	for id := range views {
		existed[id] = true
	}
	for _, e := range batch {
		if e.Sequence <= uint64(cp) || e.Envelope.AggregateType != projections.AggregateSignal {
			continue
		}
		id, _ := signaldetail.SignalID(e)
		views[id] = signaldetail.Fold(views[id], e)
	}
	if err := s.write(ctx, tx, ids, views, existed); err != nil {
		return err
	}
	return commitApply(ctx, tx, s.table, through)
}

func (s *SignalDetail) load(ctx context.Context, tx pgx.Tx, ids []uuid.UUID) (map[uuid.UUID]signaldetail.View, error) {
	views := make(map[uuid.UUID]signaldetail.View, len(ids))
	if len(ids) == 0 {
		return views, nil
	}
	rows, err := tx.Query(ctx, "SELECT doc FROM "+s.table+" WHERE id = ANY($1)", ids)
	if err != nil {
		return nil, fmt.Errorf("%s: load rows: %w", s.table, err)
	}
	docs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("%s: load rows: %w", s.table, err)
	}
	for _, d := range docs {
		var v signaldetail.View
		if err := json.Unmarshal(d, &v); err != nil {
			return nil, fmt.Errorf("%s: decode row: %w", s.table, err)
		}
		views[v.ID] = v
	}
	return views, nil
}

// columns of the table, in the order rowOf gives them.
var columns = []string{"id", "organisation", "reporter", "status", "kind", "category", "harm", "harm_rank", "reported_at", "updated_at",
	"ack_ns", "feedback_ns", "deadline_due_at", "escalated", "sequence", "doc"}

// rowOf is the row of a view, as COPY takes it.
func rowOf(v signaldetail.View) ([]any, error) {
	doc, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var reporter *string
	if v.Reporter != "" {
		r := v.Reporter
		reporter = &r
	}
	var ack, fb *int64
	if !v.AcknowledgedAt.IsZero() {
		d := int64(v.AcknowledgedAt.Sub(v.ReportedAt))
		ack = &d
	}
	if len(v.Feedback) > 0 {
		d := int64(v.Feedback[0].SentAt.Sub(v.ReportedAt))
		fb = &d
	}
	var due *time.Time
	if v.Regulatory.Pending() {
		d := v.Regulatory.DueAt
		due = &d
	}
	return []any{v.ID, v.Organisation, reporter, string(v.Status), string(v.Kind), string(v.Category), string(v.Harm),
		int32(v.Harm.Rank()), v.ReportedAt, v.UpdatedAt, ack, fb, due, len(v.Escalations) > 0, int64(v.Sequence), doc}, nil
}

// write stores the views of ids: rows new to the table with COPY, rows
// it holds already with one upsert over arrays. Which is which was
// decided under the checkpoint lock, so no other writer can have added a
// row meanwhile.
func (s *SignalDetail) write(ctx context.Context, tx pgx.Tx, ids []uuid.UUID, views map[uuid.UUID]signaldetail.View, existed map[uuid.UUID]bool) error {
	var fresh, known [][]any
	for _, id := range ids {
		row, err := rowOf(views[id])
		if err != nil {
			return fmt.Errorf("%s: encode row: %w", s.table, err)
		}
		if existed[id] {
			known = append(known, row)
		} else {
			fresh = append(fresh, row)
		}
	}
	if len(fresh) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{s.table}, columns, pgx.CopyFromRows(fresh)); err != nil {
			return fmt.Errorf("%s: copy %d rows: %w", s.table, len(fresh), err)
		}
	}
	if len(known) == 0 {
		return nil
	}
	// One array per column.
	arrays := make([]any, len(columns))
	for c := range columns {
		switch known[0][c].(type) {
		case uuid.UUID:
			a := make([]uuid.UUID, len(known))
			for i, r := range known {
				a[i] = r[c].(uuid.UUID)
			}
			arrays[c] = a
		case string:
			a := make([]string, len(known))
			for i, r := range known {
				a[i] = r[c].(string)
			}
			arrays[c] = a
		case *string:
			a := make([]*string, len(known))
			for i, r := range known {
				a[i] = r[c].(*string)
			}
			arrays[c] = a
		case int32:
			a := make([]int32, len(known))
			for i, r := range known {
				a[i] = r[c].(int32)
			}
			arrays[c] = a
		case time.Time:
			a := make([]time.Time, len(known))
			for i, r := range known {
				a[i] = r[c].(time.Time)
			}
			arrays[c] = a
		case *int64:
			a := make([]*int64, len(known))
			for i, r := range known {
				a[i] = r[c].(*int64)
			}
			arrays[c] = a
		case *time.Time:
			a := make([]*time.Time, len(known))
			for i, r := range known {
				a[i] = r[c].(*time.Time)
			}
			arrays[c] = a
		case bool:
			a := make([]bool, len(known))
			for i, r := range known {
				a[i] = r[c].(bool)
			}
			arrays[c] = a
		case int64:
			a := make([]int64, len(known))
			for i, r := range known {
				a[i] = r[c].(int64)
			}
			arrays[c] = a
		case []byte:
			a := make([]string, len(known))
			for i, r := range known {
				a[i] = string(r[c].([]byte))
			}
			arrays[c] = a
		default:
			return fmt.Errorf("%s: column %s: unexpected %T", s.table, columns[c], known[0][c])
		}
	}
	_, err := tx.Exec(ctx, `
UPDATE `+s.table+` t SET
    organisation = u.organisation, reporter = u.reporter, status = u.status, kind = u.kind, category = u.category,
    harm = u.harm, harm_rank = u.harm_rank, reported_at = u.reported_at, updated_at = u.updated_at, ack_ns = u.ack_ns,
    feedback_ns = u.feedback_ns, deadline_due_at = u.deadline_due_at, escalated = u.escalated, sequence = u.sequence,
    doc = u.doc::jsonb
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[],
    $9::timestamptz[], $10::timestamptz[], $11::bigint[], $12::bigint[], $13::timestamptz[], $14::bool[], $15::bigint[], $16::text[])
    AS u(id, organisation, reporter, status, kind, category, harm, harm_rank, reported_at, updated_at,
         ack_ns, feedback_ns, deadline_due_at, escalated, sequence, doc)
WHERE t.id = u.id`, arrays...)
	if err != nil {
		return fmt.Errorf("%s: update %d rows: %w", s.table, len(known), err)
	}
	return nil
}

func (s *SignalDetail) docs(ctx context.Context, sql string, args ...any) ([]signaldetail.View, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: query: %w", s.table, err)
	}
	docs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("%s: query: %w", s.table, err)
	}
	out := make([]signaldetail.View, len(docs))
	for i, d := range docs {
		if err := json.Unmarshal(d, &out[i]); err != nil {
			return nil, fmt.Errorf("%s: decode row: %w", s.table, err)
		}
	}
	return out, nil
}

// Get implements signaldetail.Store.
func (s *SignalDetail) Get(ctx context.Context, id uuid.UUID) (signaldetail.View, bool, error) {
	views, err := s.docs(ctx, "SELECT doc FROM "+s.table+" WHERE id = $1", id)
	if err != nil || len(views) == 0 {
		return signaldetail.View{}, false, err
	}
	return views[0], true, nil
}

// triageOrder maps the board's sorts to SQL; ties go by id, as in memory.
func triageOrder(sort string) (string, error) {
	if sort == "" {
		sort = "-reported"
	}
	if !slices.Contains(signaldetail.TriageSorts(), sort) {
		return "", fmt.Errorf("unknown sort %q", sort)
	}
	dir := "ASC"
	if strings.HasPrefix(sort, "-") {
		dir, sort = "DESC", sort[1:]
	}
	col := map[string]string{"reported": "reported_at", "harm": "harm_rank", "deadline": "deadline_due_at", "updated": "updated_at"}[sort]
	return col + " " + dir + " NULLS LAST, id ASC", nil
}

func texts[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// Triage implements signaldetail.Store.
func (s *SignalDetail) Triage(ctx context.Context, org string, f signaldetail.TriageFilter, now time.Time) ([]signaldetail.TriageRow, int, error) {
	order, err := triageOrder(f.Sort)
	if err != nil {
		return nil, 0, err
	}
	where := `organisation = $1
    AND (cardinality($2::text[]) = 0 OR status = ANY($2))
    AND (cardinality($3::text[]) = 0 OR kind = ANY($3))
    AND (cardinality($4::text[]) = 0 OR harm = ANY($4))
    AND (cardinality($5::text[]) = 0 OR category = ANY($5))
    AND (NOT $6 OR deadline_due_at < $8)
    AND (NOT $7 OR deadline_due_at IS NOT NULL)`
	args := []any{org, texts(f.Statuses), texts(f.Kinds), texts(f.Harms), texts(f.Categories), f.Overdue, f.DeadlinePending, now}
	var limit *int
	if f.Limit > 0 {
		limit = &f.Limit
	}
	rows, err := s.pool.Query(ctx, "SELECT doc, count(*) OVER () FROM "+s.table+" WHERE "+where+
		" ORDER BY "+order+" LIMIT $9 OFFSET $10", append(args, limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: triage: %w", s.table, err)
	}
	out := []signaldetail.TriageRow{}
	total := 0
	for rows.Next() {
		var doc []byte
		var v signaldetail.View
		if err := rows.Scan(&doc, &total); err != nil {
			return nil, 0, fmt.Errorf("%s: triage: %w", s.table, err)
		}
		if err := json.Unmarshal(doc, &v); err != nil {
			return nil, 0, fmt.Errorf("%s: decode row: %w", s.table, err)
		}
		out = append(out, signaldetail.TriageRowOf(v, now))
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("%s: triage: %w", s.table, err)
	}
	if len(out) == 0 && f.Offset > 0 {
		// Past the last page: the window had no row to count on.
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM "+s.table+" WHERE "+where, args...).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("%s: triage count: %w", s.table, err)
		}
	}
	return out, total, nil
}

// ReportedBy implements signaldetail.Store.
func (s *SignalDetail) ReportedBy(ctx context.Context, reporter string) ([]signaldetail.View, error) {
	return s.docs(ctx, "SELECT doc FROM "+s.table+" WHERE reporter = $1 ORDER BY reported_at DESC, id", reporter)
}

// EscalationsFor implements signaldetail.Store. It reads every escalated
// signal and asks the domain whether an escalation addresses the
// recipient, so the rule lives in one place.
func (s *SignalDetail) EscalationsFor(ctx context.Context, r domain.Recipient) ([]signaldetail.EscalationItem, error) {
	views, err := s.docs(ctx, "SELECT doc FROM "+s.table+" WHERE escalated AND organisation <> $1", r.Organisation)
	if err != nil {
		return nil, err
	}
	var out []signaldetail.EscalationItem
	for _, v := range views {
		out = append(out, signaldetail.EscalationsOf(v, r)...)
	}
	signaldetail.SortEscalations(out)
	return out, nil
}

// ServiceLevels implements signaldetail.Store.
func (s *SignalDetail) ServiceLevels(ctx context.Context, org string) (signaldetail.ServiceLevels, error) {
	var ack, fb []int64
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*), coalesce(array_agg(ack_ns) FILTER (WHERE ack_ns IS NOT NULL), '{}'),
    coalesce(array_agg(feedback_ns) FILTER (WHERE feedback_ns IS NOT NULL), '{}') FROM `+s.table+` WHERE organisation = $1`, org).Scan(&n, &ack, &fb)
	if err != nil {
		return signaldetail.ServiceLevels{}, fmt.Errorf("%s: service levels: %w", s.table, err)
	}
	durations := func(ns []int64) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, d := range ns {
			out[i] = time.Duration(d)
		}
		return out
	}
	return signaldetail.ServiceLevels{
		Organisation: org, Signals: n, Acknowledged: len(ack), WithFeedback: len(fb),
		MedianSecondsToAcknowledge: signaldetail.Median(durations(ack)), MedianSecondsToFirstFeedback: signaldetail.Median(durations(fb)),
	}, nil
}

// Due implements signaldetail.Store.
func (s *SignalDetail) Due(ctx context.Context, escalatedBefore, dueBefore time.Time) ([]signaldetail.DueItem, error) {
	views, err := s.docs(ctx, "SELECT doc FROM "+s.table+" WHERE escalated OR deadline_due_at < $1", dueBefore)
	if err != nil {
		return nil, err
	}
	var out []signaldetail.DueItem
	for _, v := range views {
		out = append(out, signaldetail.DueOf(v, escalatedBefore, dueBefore)...)
	}
	return out, nil
}

// Export implements signaldetail.Store. It reads the organisation's rows
// in pages by (reported_at, id), each page one short query that holds no
// connection while the consumer writes, so memory stays at one page
// whatever the export's size. Each page starts where the last ended
// (keyset paging on the organisation's index), so a page costs the same
// at the end of a large export as at its start. The query holds only the
// conditions in force, so that a cached generic plan still uses the
// index. Rows changed during the export are read as they are when their
// page is read.
func (s *SignalDetail) Export(ctx context.Context, org string, f signaldetail.ExportFilter) iter.Seq2[signaldetail.View, error] {
	return func(yield func(signaldetail.View, error) bool) {
		size := s.exportPage
		if size <= 0 {
			size = defaultExportPage
		}
		where := []string{"organisation = $1"}
		args := []any{org}
		cond := func(sql string, arg any) {
			args = append(args, arg)
			where = append(where, strings.ReplaceAll(sql, "$?", fmt.Sprintf("$%d", len(args))))
		}
		for _, c := range []struct {
			col  string
			vals []string
		}{{"status", texts(f.Statuses)}, {"kind", texts(f.Kinds)}, {"harm", texts(f.Harms)}, {"category", texts(f.Categories)}} {
			if len(c.vals) > 0 {
				cond(c.col+" = ANY($?::text[])", c.vals)
			}
		}
		if !f.ReportedFrom.IsZero() {
			cond("reported_at >= $?", f.ReportedFrom)
		}
		if !f.ReportedTo.IsZero() {
			cond("reported_at < $?", f.ReportedTo)
		}
		base := "SELECT reported_at, id, doc FROM " + s.table + " WHERE " + strings.Join(where, " AND ")
		n := len(args)
		first := fmt.Sprintf("%s ORDER BY reported_at, id LIMIT $%d", base, n+1)
		next := fmt.Sprintf("%s AND (reported_at, id) > ($%d, $%d) ORDER BY reported_at, id LIMIT $%d", base, n+1, n+2, n+3)
		sql, pageArgs := first, append(slices.Clip(args), size)
		for {
			rows, err := s.pool.Query(ctx, sql, pageArgs...)
			if err != nil {
				yield(signaldetail.View{}, fmt.Errorf("%s: export: %w", s.table, err))
				return
			}
			page := make([]signaldetail.View, 0, size)
			var at time.Time
			var id uuid.UUID
			var doc []byte
			_, err = pgx.ForEachRow(rows, []any{&at, &id, &doc}, func() error {
				var v signaldetail.View
				if err := json.Unmarshal(doc, &v); err != nil {
					return fmt.Errorf("decode row %s: %w", id, err)
				}
				page = append(page, v)
				return nil
			})
			if err != nil {
				yield(signaldetail.View{}, fmt.Errorf("%s: export: %w", s.table, err))
				return
			}
			for _, v := range page {
				if !yield(v, nil) {
					return
				}
			}
			if len(page) < size {
				return
			}
			sql, pageArgs = next, append(slices.Clip(args), at, id, size)
		}
	}
}
