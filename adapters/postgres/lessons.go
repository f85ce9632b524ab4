package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/lessons"
)

// LessonsVersion is the version of the lessons table. Raise it with any
// change to its layout, to what the fold writes or to how words are
// folded (lessons.Words): serve then rebuilds it from the log into a
// fresh table before it follows the log again.
const LessonsVersion = 1

// Lessons is the PostgreSQL store of the lesson library. Each lesson is
// one row: the columns the search filters and sorts on, the lesson's
// folded words (lessons.Words, so a search matches exactly what the
// memory store matches) and the whole view as a JSON document.
type Lessons struct {
	pool  *pgxpool.Pool
	table string // the table, also the checkpoint's name
}

var _ lessons.Store = (*Lessons)(nil)

// OpenLessons returns the store, creating its table on first use. A
// store built by another version of the code reports Stale; Rebuild
// replaces it.
func OpenLessons(ctx context.Context, pool *pgxpool.Pool) (*Lessons, error) {
	s := &Lessons{pool: pool, table: lessons.Name}
	if err := open(ctx, pool, s); err != nil {
		return nil, err
	}
	return s, nil
}

// Stale reports whether the table was built by another version.
func (s *Lessons) Stale(ctx context.Context) (bool, error) { return stale(ctx, s.pool, s) }

// Rebuild rebuilds the table from the log; see rebuild.
func (s *Lessons) Rebuild(ctx context.Context, log projections.Log, codec *projections.Codec, opts RebuildOptions) (RebuildResult, error) {
	return rebuild(ctx, s.pool, s, log, codec, opts)
}

func (s *Lessons) base() string               { return s.table }
func (s *Lessons) version() int               { return LessonsVersion }
func (s *Lessons) tables() []string           { return []string{""} }
func (s *Lessons) indexes() []string          { return []string{"_pkey", "_newest"} }
func (s *Lessons) at(base string) rebuildable { return &Lessons{pool: s.pool, table: base} }

// create makes the table; with indexes, the secondary index too (a
// rebuild adds it after the load).
//
// published_ns is the publication in nanoseconds since 1970, the sort
// key: timestamptz keeps microseconds, and the order must be the memory
// store's to the nanosecond. It and published_at are NULL for a lesson
// the log holds no publication of, which no search finds.
func (s *Lessons) create(ctx context.Context, indexes bool) error {
	ddl := fmt.Sprintf(`
CREATE TABLE %[1]s (
    id           uuid        NOT NULL,
    organisation text        NOT NULL,
    kind         text        NOT NULL,
    category     text        NOT NULL,
    specialty    text        NOT NULL,
    languages    text[]      NOT NULL, -- the original's, then the translations'
    published_at timestamptz,
    published_ns bigint,
    words        text[]      NOT NULL, -- lessons.Words: sorted, distinct, folded
    sequence     bigint      NOT NULL,
    doc          jsonb       NOT NULL,
    CONSTRAINT %[1]s_pkey PRIMARY KEY (id)
);`, s.table)
	if _, err := s.pool.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("create %s: %w", s.table, err)
	}
	if indexes {
		return s.index(ctx)
	}
	return nil
}

func (s *Lessons) index(ctx context.Context) error {
	ddl := fmt.Sprintf(`CREATE INDEX %[1]s_newest ON %[1]s (published_ns DESC, id DESC) WHERE published_ns IS NOT NULL;`, s.table)
	if _, err := s.pool.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("index %s: %w", s.table, err)
	}
	return nil
}

// Name implements projections.Projection.
func (s *Lessons) Name() string { return lessons.Name }

// Checkpoint implements projections.Projection.
func (s *Lessons) Checkpoint(ctx context.Context) (uint64, error) {
	seq, _, _, err := checkpoint(ctx, s.pool, s.table)
	return seq, err
}

// Apply implements projections.Projection: in one transaction, under the
// checkpoint row's lock, it folds the events after the checkpoint into
// their rows with domain.EvolveLesson, as the memory store does (each
// row read and written once per batch), and moves the checkpoint to
// through.
func (s *Lessons) Apply(ctx context.Context, batch []projections.Event, through uint64) error {
	tx, cp, err := beginApply(ctx, s.pool, s.table, through)
	if err != nil || tx == nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	ids, err := touched(batch, cp, projections.AggregateLesson, lessons.LessonID)
	if err != nil {
		return fmt.Errorf("%s: %w", s.table, err)
	}
	if len(ids) == 0 {
		return commitApply(ctx, tx, s.table, through)
	}
	views, err := loadDocs[lessons.View](ctx, tx, s.table, ids)
	if err != nil {
		return err
	}
	for _, e := range batch {
		if e.Sequence <= cp || e.Envelope.AggregateType != projections.AggregateLesson {
			continue
		}
		id, _ := lessons.LessonID(e)
		views[id] = lessons.View{Lesson: domain.EvolveLesson(views[id].Lesson, e.Data), Sequence: e.Sequence}
	}
	var b pgx.Batch
	for _, id := range ids {
		v := views[id]
		doc, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%s: encode lesson %s: %w", s.table, id, err)
		}
		languages := []string{string(v.Language)}
		for _, t := range v.Translations {
			languages = append(languages, string(t.Language))
		}
		words := lessons.Words(v.Lesson)
		if words == nil {
			words = []string{} // a lesson the log holds no text of (yet)
		}
		var publishedAt, publishedNS any
		if v.Exists() {
			publishedAt, publishedNS = v.PublishedAt, v.PublishedAt.UnixNano()
		}
		b.Queue(`INSERT INTO `+s.table+` (id, organisation, kind, category, specialty, languages, published_at, published_ns, words, sequence, doc)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::jsonb)
ON CONFLICT (id) DO UPDATE SET organisation = EXCLUDED.organisation, kind = EXCLUDED.kind, category = EXCLUDED.category,
    specialty = EXCLUDED.specialty, languages = EXCLUDED.languages, published_at = EXCLUDED.published_at,
    published_ns = EXCLUDED.published_ns, words = EXCLUDED.words, sequence = EXCLUDED.sequence, doc = EXCLUDED.doc`,
			id, v.Organisation, v.Kind, string(v.Category), string(v.Specialty), languages, publishedAt, publishedNS,
			words, int64(v.Sequence), string(doc))
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("%s: write %d rows: %w", s.table, len(ids), err)
	}
	return commitApply(ctx, tx, s.table, through)
}

// Get implements lessons.Store.
func (s *Lessons) Get(ctx context.Context, id uuid.UUID) (lessons.View, bool, error) {
	var doc []byte
	err := s.pool.QueryRow(ctx, "SELECT doc FROM "+s.table+" WHERE id = $1", id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return lessons.View{}, false, nil
	}
	if err != nil {
		return lessons.View{}, false, fmt.Errorf("%s: get %s: %w", s.table, id, err)
	}
	var v lessons.View
	if err := json.Unmarshal(doc, &v); err != nil {
		return lessons.View{}, false, fmt.Errorf("%s: decode lesson %s: %w", s.table, id, err)
	}
	return v, true, nil
}

// Search implements lessons.Store. Every term of the query, folded as
// the lesson's words are (lessons.Tokens), must begin one of the lesson's
// words: starts_with compares plain strings, so no character of a term
// is a pattern. Ties in the publication go by id, descending, as in
// memory (the order of uuid values is that of their strings).
func (s *Lessons) Search(ctx context.Context, q lessons.Query) ([]lessons.View, int, error) {
	where := `published_ns IS NOT NULL
    AND ($1 = '' OR kind = $1)
    AND ($2 = '' OR category = $2)
    AND ($3 = '' OR specialty = $3)
    AND ($4 = '' OR $4 = ANY(languages))
    AND ($5 = '' OR organisation = $5)
    AND NOT EXISTS (SELECT FROM unnest($6::text[]) AS term
        WHERE NOT EXISTS (SELECT FROM unnest(words) AS word WHERE starts_with(word, term)))`
	terms := lessons.Tokens(q.Text)
	if terms == nil {
		terms = []string{}
	}
	args := []any{q.Kind, string(q.Category), string(q.Specialty), string(q.Language), q.Organisation, terms}
	var limit *int
	if q.Limit > 0 {
		limit = &q.Limit
	}
	offset := max(q.Offset, 0)
	rows, err := s.pool.Query(ctx, "SELECT doc, count(*) OVER () FROM "+s.table+" WHERE "+where+
		" ORDER BY published_ns DESC, id DESC LIMIT $7 OFFSET $8", append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: search: %w", s.table, err)
	}
	out := []lessons.View{}
	total := 0
	for rows.Next() {
		var doc []byte
		var v lessons.View
		if err := rows.Scan(&doc, &total); err != nil {
			return nil, 0, fmt.Errorf("%s: search: %w", s.table, err)
		}
		if err := json.Unmarshal(doc, &v); err != nil {
			return nil, 0, fmt.Errorf("%s: decode lesson: %w", s.table, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("%s: search: %w", s.table, err)
	}
	if len(out) == 0 && offset > 0 {
		// Past the last page: the window had no row to count on.
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM "+s.table+" WHERE "+where, args...).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("%s: search count: %w", s.table, err)
		}
	}
	return out, total, nil
}
