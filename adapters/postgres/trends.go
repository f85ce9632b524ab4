package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/trends"
)

// TrendsVersion is the version of the trends tables; raise it with any
// change to their layout or to what the fold writes.
const TrendsVersion = 1

// Trends is the PostgreSQL store of the trend cube. trends_changes holds,
// per cell and per day its changes were recorded, the sum of the changes:
// the current count of a cell is the sum over all days, the count as of a
// date the sum over the days up to it. trends_signals holds each signal's
// current classification (no free text), so a batch can move a signal
// from its old cell to its new one.
type Trends struct {
	pool *pgxpool.Pool
	name string
}

var _ trends.Store = (*Trends)(nil)

// OpenTrends returns the store, creating its tables on first use.
func OpenTrends(ctx context.Context, pool *pgxpool.Pool) (*Trends, error) {
	s := &Trends{pool: pool, name: trends.Name}
	if err := open(ctx, pool, s); err != nil {
		return nil, err
	}
	return s, nil
}

// OpenTrendsNamed is OpenTrends on tables named after name instead of
// "trends" (for a second cube in one schema, as the benchmarks build).
func OpenTrendsNamed(ctx context.Context, pool *pgxpool.Pool, name string) (*Trends, error) {
	s := &Trends{pool: pool, name: name}
	if err := open(ctx, pool, s); err != nil {
		return nil, err
	}
	return s, nil
}

// Stale reports whether the tables were built by another version.
func (s *Trends) Stale(ctx context.Context) (bool, error) { return stale(ctx, s.pool, s) }

// Rebuild rebuilds the tables from the log; see rebuild.
func (s *Trends) Rebuild(ctx context.Context, log projections.Log, codec *projections.Codec, opts RebuildOptions) (RebuildResult, error) {
	return rebuild(ctx, s.pool, s, log, codec, opts)
}

func (s *Trends) base() string                { return s.name }
func (s *Trends) version() int                { return TrendsVersion }
func (s *Trends) tables() []string            { return []string{"_signals", "_changes"} }
func (s *Trends) indexes() []string           { return []string{"_signals_pkey", "_changes_pkey"} }
func (s *Trends) at(base string) rebuildable  { return &Trends{pool: s.pool, name: base} }
func (s *Trends) index(context.Context) error { return nil }

func (s *Trends) create(ctx context.Context, _ bool) error {
	ddl := fmt.Sprintf(`
CREATE TABLE %[1]s_signals (
    id    uuid  NOT NULL,
    state jsonb NOT NULL,
    CONSTRAINT %[1]s_signals_pkey PRIMARY KEY (id)
);
CREATE TABLE %[1]s_changes (
    kind         text    NOT NULL,
    category     text    NOT NULL,
    harm         text    NOT NULL,
    specialty    text    NOT NULL,
    region       text    NOT NULL,
    organisation text    NOT NULL,
    occurred     integer NOT NULL, -- days since 1970-01-01, UTC
    reported     integer NOT NULL,
    recorded     integer NOT NULL, -- the day the changes were recorded in the log
    delta        integer NOT NULL,
    CONSTRAINT %[1]s_changes_pkey PRIMARY KEY (category, specialty, kind, harm, region, organisation, occurred, reported, recorded)
);`, s.name)
	if _, err := s.pool.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("create %s: %w", s.name, err)
	}
	return nil
}

// Name implements projections.Projection.
func (s *Trends) Name() string { return trends.Name }

// Checkpoint implements projections.Projection.
func (s *Trends) Checkpoint(ctx context.Context) (uint64, error) {
	seq, _, _, err := checkpoint(ctx, s.pool, s.name)
	return seq, err
}

type changeKey struct {
	fact     trends.Fact
	recorded trends.Day
}

// Apply implements projections.Projection: one transaction per batch,
// under the checkpoint row's lock, changes summed per cell and day before
// they are written.
func (s *Trends) Apply(ctx context.Context, batch []projections.Event, through uint64) error {
	tx, cp, err := beginApply(ctx, s.pool, s.name, through)
	if err != nil || tx == nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var ids []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, e := range batch {
		if e.Envelope.AggregateType != projections.AggregateSignal {
			continue
		}
		// Every id is checked, so that a bad batch fails whole.
		id, err := uuid.Parse(e.Envelope.AggregateID)
		if err != nil {
			return fmt.Errorf("%s: sequence %d: aggregate id: %w", s.name, e.Sequence, err)
		}
		if e.Sequence > cp && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	tracker := trends.NewTracker()
	if len(ids) > 0 {
		rows, err := tx.Query(ctx, "SELECT id, state FROM "+s.name+"_signals WHERE id = ANY($1)", ids)
		if err != nil {
			return fmt.Errorf("%s: load states: %w", s.name, err)
		}
		for rows.Next() {
			var id uuid.UUID
			var doc []byte
			var st domain.Signal
			if err := rows.Scan(&id, &doc); err != nil {
				rows.Close()
				return fmt.Errorf("%s: load states: %w", s.name, err)
			}
			if err := json.Unmarshal(doc, &st); err != nil {
				rows.Close()
				return fmt.Errorf("%s: decode state: %w", s.name, err)
			}
			tracker.Seed(id, st)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: load states: %w", s.name, err)
		}
	}
	deltas := map[changeKey]int{}
	var order []changeKey
	for _, e := range batch {
		if e.Sequence <= cp {
			continue
		}
		changes, err := tracker.Apply(e)
		if err != nil {
			return err
		}
		for _, c := range changes {
			k := changeKey{fact: c.Fact, recorded: trends.DayOf(c.At)}
			if _, ok := deltas[k]; !ok {
				order = append(order, k)
			}
			deltas[k] += c.Delta
		}
	}
	if err := s.writeChanges(ctx, tx, order, deltas); err != nil {
		return err
	}
	if err := s.writeStates(ctx, tx, ids, tracker); err != nil {
		return err
	}
	return commitApply(ctx, tx, s.name, through)
}

func (s *Trends) writeChanges(ctx context.Context, tx pgx.Tx, order []changeKey, deltas map[changeKey]int) error {
	var kinds, cats, harms, specs, regions, orgs []string
	var occurred, reported, recorded, delta []int32
	for _, k := range order {
		d := deltas[k]
		if d == 0 {
			continue
		}
		f := k.fact
		kinds, cats, harms, specs = append(kinds, string(f.Kind)), append(cats, string(f.Category)), append(harms, string(f.Harm)), append(specs, string(f.Specialty))
		regions, orgs = append(regions, f.Region), append(orgs, f.Organisation)
		occurred, reported, recorded, delta = append(occurred, int32(f.Occurred)), append(reported, int32(f.Reported)), append(recorded, int32(k.recorded)), append(delta, int32(d))
	}
	if len(delta) == 0 {
		return nil
	}
	// Rows whose changes cancel out are deleted, so that the table does
	// not depend on how the log was cut into batches.
	rows, err := tx.Query(ctx, `
WITH up AS (
    INSERT INTO `+s.name+`_changes AS t (kind, category, harm, specialty, region, organisation, occurred, reported, recorded, delta)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::int[], $9::int[], $10::int[])
    ON CONFLICT (category, specialty, kind, harm, region, organisation, occurred, reported, recorded)
    DO UPDATE SET delta = t.delta + EXCLUDED.delta
    RETURNING kind, category, harm, specialty, region, organisation, occurred, reported, recorded, delta)
SELECT kind, category, harm, specialty, region, organisation, occurred, reported, recorded FROM up WHERE delta = 0`,
		kinds, cats, harms, specs, regions, orgs, occurred, reported, recorded, delta)
	if err != nil {
		return fmt.Errorf("%s: write %d changes: %w", s.name, len(delta), err)
	}
	var zk, zc, zh, zs, zr, zo []string
	var zoc, zre, zrec []int32
	for rows.Next() {
		var k, c, h, sp, r, o string
		var oc, re, rec int32
		if err := rows.Scan(&k, &c, &h, &sp, &r, &o, &oc, &re, &rec); err != nil {
			rows.Close()
			return fmt.Errorf("%s: write changes: %w", s.name, err)
		}
		zk, zc, zh, zs, zr, zo = append(zk, k), append(zc, c), append(zh, h), append(zs, sp), append(zr, r), append(zo, o)
		zoc, zre, zrec = append(zoc, oc), append(zre, re), append(zrec, rec)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: write changes: %w", s.name, err)
	}
	if len(zk) == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, `
DELETE FROM `+s.name+`_changes t USING unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::int[], $9::int[])
    AS z(kind, category, harm, specialty, region, organisation, occurred, reported, recorded)
WHERE t.kind = z.kind AND t.category = z.category AND t.harm = z.harm AND t.specialty = z.specialty AND t.region = z.region
  AND t.organisation = z.organisation AND t.occurred = z.occurred AND t.reported = z.reported AND t.recorded = z.recorded
  AND t.delta = 0`, zk, zc, zh, zs, zr, zo, zoc, zre, zrec)
	if err != nil {
		return fmt.Errorf("%s: delete %d cancelled changes: %w", s.name, len(zk), err)
	}
	return nil
}

func (s *Trends) writeStates(ctx context.Context, tx pgx.Tx, ids []uuid.UUID, tracker *trends.Tracker) error {
	if len(ids) == 0 {
		return nil
	}
	docs := make([]string, 0, len(ids))
	keep := make([]uuid.UUID, 0, len(ids))
	for _, id := range ids {
		st, ok := tracker.State(id)
		if !ok {
			continue
		}
		doc, err := json.Marshal(st)
		if err != nil {
			return fmt.Errorf("%s: encode state: %w", s.name, err)
		}
		keep, docs = append(keep, id), append(docs, string(doc))
	}
	_, err := tx.Exec(ctx, `
INSERT INTO `+s.name+`_signals (id, state) SELECT u.id, u.state::jsonb FROM unnest($1::uuid[], $2::text[]) AS u(id, state)
ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state`, keep, docs)
	if err != nil {
		return fmt.Errorf("%s: write %d states: %w", s.name, len(keep), err)
	}
	return nil
}

// filterColumns maps the dimensions a query filters on to columns.
var filterColumns = map[trends.Dimension]string{
	trends.DimKind: "kind", trends.DimCategory: "category", trends.DimHarm: "harm",
	trends.DimSpecialty: "specialty", trends.DimRegion: "region", trends.DimOrganisation: "organisation",
}

// Query implements trends.Store: the cells the filters select are summed
// and grouped in SQL (over the days of recording up to AsOf), so only the
// groups travel; periods are labelled as trends.PeriodLabel labels them,
// and rows are ordered as trends.Aggregate orders them, so both stores
// answer alike.
func (s *Trends) Query(ctx context.Context, q trends.Query) (trends.Result, error) {
	basis := "occurred"
	if q.Basis == trends.BasisReported {
		basis = "reported"
	}
	where := []string{"($1 = 0 OR recorded <= $1)", "($2 = 0 OR " + basis + " >= $2)", "($3 = 0 OR " + basis + " <= $3)"}
	args := []any{int32(q.AsOf), int32(q.From), int32(q.To)}
	dims := trends.FilterDimensions()
	slices.Sort(dims)
	for _, d := range dims {
		vals := q.Filter[d]
		if len(vals) == 0 {
			continue
		}
		args = append(args, vals)
		where = append(where, fmt.Sprintf("%s = ANY($%d)", filterColumns[d], len(args)))
	}
	groups := make([]string, 0, len(q.GroupBy))
	for _, d := range q.GroupBy {
		switch {
		case d == trends.DimPeriod && q.Period == trends.PeriodMonth:
			// First day of the month, as days since 1970-01-01.
			groups = append(groups, "(date_trunc('month', date '1970-01-01' + "+basis+")::date - date '1970-01-01')")
		case d == trends.DimPeriod:
			// The Monday of the ISO week (day 0 was a Thursday).
			groups = append(groups, "("+basis+" - (("+basis+" + 3) % 7 + 7) % 7)")
		case filterColumns[d] != "":
			groups = append(groups, filterColumns[d]+"::text")
		default:
			return trends.Result{}, fmt.Errorf("%s: cannot group by %q", s.name, d)
		}
	}
	selectList, groupBy := "", ""
	for i, g := range groups {
		selectList += g + ", "
		if i > 0 {
			groupBy += ", "
		}
		groupBy += fmt.Sprint(i + 1)
	}
	sql := "SELECT " + selectList + "sum(delta)::bigint FROM " + s.name + "_changes WHERE " + joinAnd(where)
	if groupBy != "" {
		sql += " GROUP BY " + groupBy
	}
	sql += " HAVING sum(delta) > 0"
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return trends.Result{}, fmt.Errorf("%s: query: %w", s.name, err)
	}
	defer rows.Close()
	res := trends.Result{Rows: []trends.Row{}}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return trends.Result{}, fmt.Errorf("%s: query: %w", s.name, err)
		}
		key := make([]string, len(q.GroupBy))
		for i, d := range q.GroupBy {
			switch v := vals[i].(type) {
			case string:
				key[i] = v
			case int32:
				if d == trends.DimPeriod {
					key[i] = trends.PeriodLabel(q.Period, trends.Day(v))
				}
			default:
				return trends.Result{}, fmt.Errorf("%s: query: group value %T", s.name, vals[i])
			}
		}
		n, ok := vals[len(vals)-1].(int64)
		if !ok {
			return trends.Result{}, fmt.Errorf("%s: query: count %T", s.name, vals[len(vals)-1])
		}
		res.Rows = append(res.Rows, trends.Row{Key: key, Count: int(n)})
		res.Total += int(n)
	}
	if err := rows.Err(); err != nil {
		return trends.Result{}, fmt.Errorf("%s: query: %w", s.name, err)
	}
	slices.SortFunc(res.Rows, func(a, b trends.Row) int { return slices.Compare(a.Key, b.Key) })
	return res, nil
}

func joinAnd(parts []string) string {
	out := parts[0]
	for _, p := range parts[1:] {
		out += " AND " + p
	}
	return out
}
