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
	"github.com/safesignal/safesignal/projections/peersupport"
)

// PeerSupportVersion is the version of the peer_support table; raise it
// with any change to its layout or to what the fold writes.
const PeerSupportVersion = 1

// PeerSupport is the PostgreSQL store of peer-support requests. Each
// request is one row: its organisation and request time, which the inbox
// filters and sorts on, and the whole view as a JSON document. The view
// holds the requester, the contact and the message in the clear, as the
// memory store does, until PeerSupportRequesterErased blanks them in the
// row. Requests are confidential: the store answers Get, Inbox and
// ByRequester (for an erasure) and nothing else, and no other table
// refers to them.
type PeerSupport struct {
	pool  *pgxpool.Pool
	table string // the table, also the checkpoint's name
}

var _ peersupport.Store = (*PeerSupport)(nil)

// OpenPeerSupport returns the store, creating its table on first use. A
// store built by another version of the code reports Stale; Rebuild
// replaces it.
func OpenPeerSupport(ctx context.Context, pool *pgxpool.Pool) (*PeerSupport, error) {
	s := &PeerSupport{pool: pool, table: peersupport.Name}
	if err := open(ctx, pool, s); err != nil {
		return nil, err
	}
	return s, nil
}

// Stale reports whether the table was built by another version.
func (s *PeerSupport) Stale(ctx context.Context) (bool, error) { return stale(ctx, s.pool, s) }

// Rebuild rebuilds the table from the log; see rebuild.
func (s *PeerSupport) Rebuild(ctx context.Context, log projections.Log, codec *projections.Codec, opts RebuildOptions) (RebuildResult, error) {
	return rebuild(ctx, s.pool, s, log, codec, opts)
}

func (s *PeerSupport) base() string               { return s.table }
func (s *PeerSupport) version() int               { return PeerSupportVersion }
func (s *PeerSupport) tables() []string           { return []string{""} }
func (s *PeerSupport) indexes() []string          { return []string{"_pkey", "_inbox"} }
func (s *PeerSupport) at(base string) rebuildable { return &PeerSupport{pool: s.pool, table: base} }

// create makes the table; with indexes, the secondary index too (a
// rebuild adds it after the load).
//
// organisation is NULL for a request the log holds no opening of, which
// no inbox shows (as in memory). requested_ns is the request time in
// nanoseconds since 1970, the sort key: timestamptz keeps microseconds,
// and the order must be the memory store's to the nanosecond.
func (s *PeerSupport) create(ctx context.Context, indexes bool) error {
	ddl := fmt.Sprintf(`
CREATE TABLE %[1]s (
    id           uuid   NOT NULL,
    organisation text,
    requested_ns bigint NOT NULL,
    sequence     bigint NOT NULL,
    doc          jsonb  NOT NULL,
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

func (s *PeerSupport) index(ctx context.Context) error {
	ddl := fmt.Sprintf(`CREATE INDEX %[1]s_inbox ON %[1]s (organisation, requested_ns DESC, id DESC) WHERE organisation IS NOT NULL;`, s.table)
	if _, err := s.pool.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("index %s: %w", s.table, err)
	}
	return nil
}

// Name implements projections.Projection.
func (s *PeerSupport) Name() string { return peersupport.Name }

// Checkpoint implements projections.Projection.
func (s *PeerSupport) Checkpoint(ctx context.Context) (uint64, error) {
	seq, _, _, err := checkpoint(ctx, s.pool, s.table)
	return seq, err
}

// Apply implements projections.Projection: in one transaction, under the
// checkpoint row's lock, it folds the events after the checkpoint into
// their rows with domain.EvolvePeerSupport, as the memory store does, and
// moves the checkpoint to through.
func (s *PeerSupport) Apply(ctx context.Context, batch []projections.Event, through uint64) error {
	tx, cp, err := beginApply(ctx, s.pool, s.table, through)
	if err != nil || tx == nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	ids, err := touched(batch, cp, projections.AggregatePeerSupport, peersupport.RequestID)
	if err != nil {
		return fmt.Errorf("%s: %w", s.table, err)
	}
	if len(ids) == 0 {
		return commitApply(ctx, tx, s.table, through)
	}
	views, err := loadDocs[peersupport.View](ctx, tx, s.table, ids)
	if err != nil {
		return err
	}
	// The memory store files a request under the organisation it had
	// when it first appeared; keep that.
	orgs := make(map[uuid.UUID]*string, len(ids))
	for _, id := range ids {
		if v, ok := views[id]; ok {
			orgs[id] = orgOf(v)
		}
	}
	for _, e := range batch {
		if e.Sequence <= cp || e.Envelope.AggregateType != projections.AggregatePeerSupport {
			continue
		}
		id, _ := peersupport.RequestID(e)
		old, existed := views[id]
		views[id] = peersupport.View{PeerSupportRequest: domain.EvolvePeerSupport(old.PeerSupportRequest, e.Data), Sequence: e.Sequence}
		if !existed {
			orgs[id] = orgOf(views[id])
		}
	}
	var b pgx.Batch
	for _, id := range ids {
		v := views[id]
		doc, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%s: encode request: %w", s.table, err)
		}
		var ns int64
		if v.Exists() {
			ns = v.RequestedAt.UnixNano()
		}
		b.Queue(`INSERT INTO `+s.table+` (id, organisation, requested_ns, sequence, doc) VALUES ($1, $2, $3, $4, $5::text::jsonb)
ON CONFLICT (id) DO UPDATE SET organisation = EXCLUDED.organisation, requested_ns = EXCLUDED.requested_ns,
    sequence = EXCLUDED.sequence, doc = EXCLUDED.doc`, id, orgs[id], ns, int64(v.Sequence), string(doc))
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("%s: write %d rows: %w", s.table, len(ids), err)
	}
	return commitApply(ctx, tx, s.table, through)
}

// orgOf is the inbox a request is filed in: none without an organisation.
func orgOf(v peersupport.View) *string {
	if v.Organisation == "" {
		return nil
	}
	o := v.Organisation
	return &o
}

// Get implements peersupport.Store.
func (s *PeerSupport) Get(ctx context.Context, id uuid.UUID) (peersupport.View, bool, error) {
	var doc []byte
	err := s.pool.QueryRow(ctx, "SELECT doc FROM "+s.table+" WHERE id = $1", id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return peersupport.View{}, false, nil
	}
	if err != nil {
		return peersupport.View{}, false, fmt.Errorf("%s: get: %w", s.table, err)
	}
	var v peersupport.View
	if err := json.Unmarshal(doc, &v); err != nil {
		return peersupport.View{}, false, fmt.Errorf("%s: decode request: %w", s.table, err)
	}
	return v, true, nil
}

// Inbox implements peersupport.Store: newest first, ties by id,
// descending, as in memory (the order of uuid values is that of their
// strings).
func (s *PeerSupport) Inbox(ctx context.Context, org string) ([]peersupport.View, error) {
	rows, err := s.pool.Query(ctx, "SELECT doc FROM "+s.table+" WHERE organisation = $1 ORDER BY requested_ns DESC, id DESC", org)
	if err != nil {
		return nil, fmt.Errorf("%s: inbox: %w", s.table, err)
	}
	docs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("%s: inbox: %w", s.table, err)
	}
	out := make([]peersupport.View, len(docs))
	for i, d := range docs {
		if err := json.Unmarshal(d, &out[i]); err != nil {
			return nil, fmt.Errorf("%s: decode request: %w", s.table, err)
		}
	}
	return out, nil
}

// ByRequester implements peersupport.Store. An erased request's requester
// is empty and matches no one.
func (s *PeerSupport) ByRequester(ctx context.Context, subject string) ([]uuid.UUID, error) {
	return s.idsOf(ctx, "requester", "Requester", "RequesterErased", subject)
}

// BySupporter implements peersupport.Store.
func (s *PeerSupport) BySupporter(ctx context.Context, subject string) ([]uuid.UUID, error) {
	return s.idsOf(ctx, "supporter", "AcknowledgedBy", "SupporterErased", subject)
}

// idsOf returns, newest first, the requests whose document names subject
// in field and is not marked erased. It reads the documents without an
// index: it serves erasures only, which are rare. field and erased are
// constants of this file, never input.
func (s *PeerSupport) idsOf(ctx context.Context, what, field, erased, subject string) ([]uuid.UUID, error) {
	if subject == "" {
		return []uuid.UUID{}, nil
	}
	rows, err := s.pool.Query(ctx, "SELECT id FROM "+s.table+" WHERE doc->>'"+field+"' = $1 AND NOT coalesce((doc->>'"+erased+"')::boolean, false)"+
		" ORDER BY requested_ns DESC, id DESC", subject)
	if err != nil {
		return nil, fmt.Errorf("%s: by %s: %w", s.table, what, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("%s: by %s: %w", s.table, what, err)
	}
	return ids, nil
}
