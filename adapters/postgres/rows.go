package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/safesignal/safesignal/projections"
)

// touched lists the aggregates of one type that the events of a batch
// after the checkpoint belong to, in first-touch order. An id that does
// not parse fails the whole batch.
func touched(batch []projections.Event, cp uint64, aggregateType string, idOf func(projections.Event) (uuid.UUID, error)) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, e := range batch {
		if e.Sequence <= cp || e.Envelope.AggregateType != aggregateType {
			continue
		}
		id, err := idOf(e)
		if err != nil {
			return nil, err
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// loadDocs reads the JSON documents of the rows of ids in one query,
// keyed by the row's id (the aggregate's, which a view folded from an
// incomplete history may not carry).
func loadDocs[V any](ctx context.Context, tx pgx.Tx, table string, ids []uuid.UUID) (map[uuid.UUID]V, error) {
	out := make(map[uuid.UUID]V, len(ids))
	rows, err := tx.Query(ctx, "SELECT id, doc FROM "+table+" WHERE id = ANY($1)", ids)
	if err != nil {
		return nil, fmt.Errorf("%s: load rows: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var doc []byte
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, fmt.Errorf("%s: load rows: %w", table, err)
		}
		var v V
		if err := json.Unmarshal(doc, &v); err != nil {
			return nil, fmt.Errorf("%s: decode row %s: %w", table, id, err)
		}
		out[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: load rows: %w", table, err)
	}
	return out, nil
}
