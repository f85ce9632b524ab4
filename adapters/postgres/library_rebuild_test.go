package postgres_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	peersupportsvc "github.com/safesignal/safesignal/adapters/peersupport"
	"github.com/safesignal/safesignal/adapters/postgres"
	"github.com/safesignal/safesignal/adapters/postgres/pgtest"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/lessons"
	"github.com/safesignal/safesignal/projections/lessons/lessonstest"
	"github.com/safesignal/safesignal/projections/peersupport"
	"github.com/safesignal/safesignal/projections/peersupport/peersupporttest"
)

// appendEach writes each lesson and peer-support event of the fixtures
// to a real log as a commit of its own (events of other aggregates are
// left out) and returns the last sequence.
func appendEach(t *testing.T, w world, events []projections.Event) uint64 {
	t.Helper()
	ctx := context.Background()
	type state struct {
		seq     uint64
		version int
	}
	aggs := map[string]state{}
	var last uint64
	for _, e := range events {
		typ := e.Envelope.AggregateType
		if typ != projections.AggregateLesson && typ != projections.AggregatePeerSupport {
			continue
		}
		key := typ + "/" + e.Envelope.AggregateID
		st := aggs[key]
		envs, err := w.codec.Encode(ctx, eventstore.Envelope{ID: uuid.New(), AggregateType: typ, AggregateID: e.Envelope.AggregateID, Actor: "tester"}, st.version, []domain.Event{e.Data})
		if err != nil {
			t.Fatal(err)
		}
		res, err := w.log.Append(ctx, eventstore.AppendRequest{Aggregate: eventstore.Aggregate{Type: typ, ID: e.Envelope.AggregateID}, ExpectedSequence: st.seq, Events: envs})
		if err != nil {
			t.Fatal(err)
		}
		aggs[key] = state{seq: res.Sequence, version: st.version + 1}
		last = res.Sequence
	}
	return last
}

func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s differs:\n got %s\nwant %s", what, g, w)
	}
}

// compareLibrary checks that the PostgreSQL stores answer as the memory
// stores fed from the same log.
func compareLibrary(t *testing.T, ls lessons.Store, ps peersupport.Store, ml *lessons.Memory, mp *peersupport.Memory) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []lessons.Query{{}, {Text: "overlevering"}, {Language: "nb"}, {Limit: 1, Offset: 1}} {
		got, gn, err := ls.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		want, wn, _ := ml.Search(ctx, q)
		if gn != wn || gn == 0 {
			t.Errorf("Search(%+v): total %d, want %d", q, gn, wn)
		}
		sameJSON(t, "lessons", got, want)
	}
	for _, org := range []string{"umc-utrecht", "haukeland"} {
		got, err := ps.Inbox(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := mp.Inbox(ctx, org)
		if len(want) == 0 {
			t.Fatalf("the reference inbox of %s is empty", org)
		}
		sameJSON(t, "inbox of "+org, got, want)
	}
}

// TestLibraryRebuild: the lesson and peer-support tables of an older
// version are stale and rebuilt from the log into fresh tables (twice: the
// second works on the swapped-in table and its index names), answering
// as the memory stores do; and a person's erasure blanks their request in
// the live table at once, and it stays blank through a rebuild.
func TestLibraryRebuild(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	last := appendEach(t, w, append(lessonstest.History(), peersupporttest.History()...))
	pool := pgtest.Pool(t)
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	ls, err := postgres.OpenLessons(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := postgres.OpenPeerSupport(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, follow(t, w, ls, "lessons_live"), last)
	psLive := follow(t, w, ps, "peer_support_live")
	waitFor(t, psLive, last)
	ml, mp := lessons.NewMemory(), peersupport.NewMemory()
	waitFor(t, follow(t, w, ml, "lessons_memory"), last)
	waitFor(t, follow(t, w, mp, "peer_support_memory"), last)
	compareLibrary(t, ls, ps, ml, mp)

	type store interface {
		Stale(context.Context) (bool, error)
		Rebuild(context.Context, projections.Log, *projections.Codec, postgres.RebuildOptions) (postgres.RebuildResult, error)
	}
	stores := map[string]store{lessons.Name: ls, peersupport.Name: ps}
	for name, s := range stores {
		if st, err := s.Stale(ctx); err != nil || st {
			t.Fatalf("%s: Stale = %v, %v on a fresh table", name, st, err)
		}
		if _, err := pool.Exec(ctx, "UPDATE projection_checkpoints SET version = version - 1 WHERE name = $1", name); err != nil {
			t.Fatal(err)
		}
		if st, err := s.Stale(ctx); err != nil || !st {
			t.Fatalf("%s: Stale = %v, %v; want true", name, st, err)
		}
		for i, force := range []bool{false, true} {
			res, err := s.Rebuild(ctx, w.log, w.codec, postgres.RebuildOptions{Force: force})
			if err != nil || !res.Rebuilt || res.Through != last {
				t.Fatalf("%s: rebuild %d = %+v, %v; want rebuilt through %d", name, i, res, err, last)
			}
		}
		if res, err := s.Rebuild(ctx, w.log, w.codec, postgres.RebuildOptions{}); err != nil || res.Rebuilt {
			t.Fatalf("%s: rebuild of a current table = %+v, %v", name, res, err)
		}
	}
	compareLibrary(t, ls, ps, ml, mp)
	checkIndexes(t, pool, map[string][]string{
		"lessons":      {"lessons_newest", "lessons_pkey"},
		"peer_support": {"peer_support_inbox", "peer_support_pkey"},
	})

	// An erased person: the live table blanks the request as soon as it
	// folds the erasure, and a rebuild after the keys are destroyed keeps
	// it blank.
	requester := "r-" + peersupporttest.Early.String()[32:]
	if v, _, _ := ps.Get(ctx, peersupporttest.Early); v.Requester != requester || v.Contact == "" {
		t.Fatalf("before the erasure: %+v", v)
	}
	n, seq, err := peersupportsvc.EraseRequester(ctx, peersupportsvc.New(w.log, w.codec, nil), requester, []uuid.UUID{peersupporttest.Early}, "admin", "erase-1")
	if err != nil || n != 1 {
		t.Fatalf("erase requester: %d, %v", n, err)
	}
	waitFor(t, psLive, seq)
	erased := func(when string) {
		t.Helper()
		v, ok, err := ps.Get(ctx, peersupporttest.Early)
		if err != nil || !ok || !v.RequesterErased || v.Requester != "" || v.Contact != "" || v.Message != "" || v.Organisation != "umc-utrecht" || v.AcknowledgedBy != "petra" {
			t.Fatalf("%s: %+v, %v, %v", when, v, ok, err)
		}
	}
	erased("after the erasure, without a rebuild")
	if err := w.codec.Keyring().Destroy(ctx, projections.ScopeReporter, w.codec.PersonKeyID(requester)); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Rebuild(ctx, w.log, w.codec, postgres.RebuildOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	erased("after a rebuild")
}

// checkIndexes checks each table's indexes by name.
func checkIndexes(t *testing.T, pool *pgxpool.Pool, want map[string][]string) {
	t.Helper()
	for table, names := range want {
		rows, err := pool.Query(context.Background(), "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 ORDER BY 1", table)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			got = append(got, n)
		}
		if len(got) != len(names) {
			t.Fatalf("%s has indexes %v, want %v", table, got, names)
		}
		for i := range got {
			if got[i] != names[i] {
				t.Fatalf("%s has indexes %v, want %v", table, got, names)
			}
		}
	}
}
