// Package lessonstest is the contract every lessons.Store meets.
package lessonstest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/lessons"
)

// Fixture lessons.
var (
	Morphine = uuid.MustParse("0193a5f0-0000-7000-8000-00000000d001")
	Handover = uuid.MustParse("0193a5f0-0000-7000-8000-00000000d002")
	Falls    = uuid.MustParse("0193a5f0-0000-7000-8000-00000000d003")
)

var at = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

func ev(seq uint64, id uuid.UUID, e domain.Event) projections.Event {
	return projections.Event{Sequence: seq, Envelope: eventstore.Envelope{AggregateType: projections.AggregateLesson, AggregateID: id.String()}, Data: e}
}

// History is the fixture: three lessons of two organisations, one with a
// Norwegian translation and two organisations that applied it, and an
// event of another aggregate in between.
func History() []projections.Event {
	return []projections.Event{
		ev(1, Morphine, domain.LessonPublished{LessonID: Morphine, Kind: domain.LessonFromSignal, Organisation: "umc-utrecht", SignalID: uuid.MustParse("0193a5f0-0000-7000-8000-000000000001"),
			Language: "en", Category: domain.CategoryMedication, Specialty: "anaesthesiology", PublishedAt: at,
			Text: domain.LessonText{Title: "Two morphine concentrations side by side", WhatHappened: "A tenfold dose was prepared.", WhatWasLearned: "Look-alike labels defeat the double check."}}),
		{Sequence: 2, Envelope: eventstore.Envelope{AggregateType: projections.AggregateSignal, AggregateID: uuid.NewString()}, Data: domain.SignalAcknowledged{AcknowledgedAt: at}},
		ev(3, Handover, domain.LessonPublished{LessonID: Handover, Kind: domain.LessonGoodPractice, Organisation: "haukeland",
			Language: "nb", Specialty: "surgery", PublishedAt: at.Add(time.Hour),
			Text: domain.LessonText{Title: "Strukturert overlevering på kirurgisk post", WhatHappened: "Viktig informasjon gikk tapt ved vaktskifte.", WhatWasLearned: "En fast sjekkliste for overlevering hjelper.", WhatOthersCanDo: "Bruk ISBAR ved hver overlevering."}}),
		ev(4, Morphine, domain.LessonTranslated{LessonID: Morphine, Language: "nb", TranslatedAt: at.Add(2 * time.Hour),
			Text: domain.LessonText{Title: "To morfinstyrker side om side", WhatHappened: "En tidobbel dose ble laget.", WhatWasLearned: "Like etiketter slår dobbeltkontrollen."}}),
		ev(5, Morphine, domain.LessonApplied{LessonID: Morphine, Organisation: "haukeland", AppliedAt: at.Add(3 * time.Hour)}),
		ev(6, Morphine, domain.LessonApplied{LessonID: Morphine, Organisation: "karolinska", AppliedAt: at.Add(4 * time.Hour)}),
		ev(7, Falls, domain.LessonPublished{LessonID: Falls, Kind: domain.LessonGoodPractice, Organisation: "karolinska",
			Language: "sv", Category: domain.CategoryPatientAccident, PublishedAt: at.Add(5 * time.Hour),
			Text: domain.LessonText{Title: "Fallprevention för äldre patienter", WhatHappened: "Många fall på natten.", WhatWasLearned: "Nattlampor och larmmattor minskade fallen."}}),
	}
}

// Run runs the contract on stores newStore makes.
func Run(t *testing.T, newStore func(t *testing.T) lessons.Store) {
	t.Helper()
	t.Run("batches at or below the checkpoint change nothing", func(t *testing.T) {
		t.Parallel()
		redelivery(t, newStore(t))
	})
	t.Run("ties and folded words", func(t *testing.T) {
		t.Parallel()
		tiesAndWords(t, newStore(t))
	})
	ctx := context.Background()
	s := newStore(t)
	if err := s.Apply(ctx, History()[:3], 3); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, History()[3:], 7); err != nil {
		t.Fatal(err)
	}
	if cp, err := s.Checkpoint(ctx); err != nil || cp != 7 {
		t.Fatalf("checkpoint %d %v", cp, err)
	}
	t.Run("get", func(t *testing.T) {
		v, ok, err := s.Get(ctx, Morphine)
		if err != nil || !ok || v.Version != 4 || v.Sequence != 6 || len(v.Translations) != 1 || len(v.AppliedBy) != 2 || v.Text.Title != "Two morphine concentrations side by side" {
			t.Fatalf("%+v %v %v", v, ok, err)
		}
		if _, ok, _ := s.Get(ctx, uuid.New()); ok {
			t.Error("an unknown lesson was found")
		}
	})
	for _, tc := range []struct {
		name  string
		q     lessons.Query
		want  []uuid.UUID
		total int
	}{
		{name: "everything, newest first", want: []uuid.UUID{Falls, Handover, Morphine}, total: 3},
		{name: "a word", q: lessons.Query{Text: "morphine"}, want: []uuid.UUID{Morphine}, total: 1},
		{name: "case and prefix", q: lessons.Query{Text: "MORPH lab"}, want: []uuid.UUID{Morphine}, total: 1},
		{name: "all words must match", q: lessons.Query{Text: "morphine handover"}, want: []uuid.UUID{}, total: 0},
		{name: "a translation's word", q: lessons.Query{Text: "morfinstyrker"}, want: []uuid.UUID{Morphine}, total: 1},
		{name: "diacritics folded both ways", q: lessons.Query{Text: "pa kirurgisk"}, want: []uuid.UUID{Handover}, total: 1},
		{name: "diacritics in the query", q: lessons.Query{Text: "fallprevention för ÄLDRE"}, want: []uuid.UUID{Falls}, total: 1},
		{name: "ø spelled o", q: lessons.Query{Text: "overlevering"}, want: []uuid.UUID{Handover}, total: 1},
		{name: "kind", q: lessons.Query{Kind: domain.LessonGoodPractice}, want: []uuid.UUID{Falls, Handover}, total: 2},
		{name: "category", q: lessons.Query{Category: domain.CategoryMedication}, want: []uuid.UUID{Morphine}, total: 1},
		{name: "specialty", q: lessons.Query{Specialty: "surgery"}, want: []uuid.UUID{Handover}, total: 1},
		{name: "language of a translation", q: lessons.Query{Language: "nb"}, want: []uuid.UUID{Handover, Morphine}, total: 2},
		{name: "organisation", q: lessons.Query{Organisation: "karolinska"}, want: []uuid.UUID{Falls}, total: 1},
		{name: "a page", q: lessons.Query{Limit: 1, Offset: 1}, want: []uuid.UUID{Handover}, total: 3},
		{name: "past the end", q: lessons.Query{Offset: 10}, want: []uuid.UUID{}, total: 3},
		{name: "no match", q: lessons.Query{Text: "xylophone"}, want: []uuid.UUID{}, total: 0},
		{name: "a prefix is not a substring", q: lessons.Query{Text: "orphine"}, want: []uuid.UUID{}, total: 0},
		{name: "a query word longer than the lesson's", q: lessons.Query{Text: "morphines"}, want: []uuid.UUID{}, total: 0},
		{name: "LIKE metacharacters are no wildcards", q: lessons.Query{Text: "m%ine"}, want: []uuid.UUID{}, total: 0},
		{name: "punctuation splits query words", q: lessons.Query{Text: "mor%_ lab_"}, want: []uuid.UUID{Morphine}, total: 1},
		{name: "a query of punctuation only matches all", q: lessons.Query{Text: "%_\\"}, want: []uuid.UUID{Falls, Handover, Morphine}, total: 3},
		{name: "diacritics of a translation", q: lessons.Query{Text: "slår dobbeltkontrollen"}, want: []uuid.UUID{Morphine}, total: 1},
		{name: "words across texts of different languages", q: lessons.Query{Text: "tenfold tidobbel"}, want: []uuid.UUID{Morphine}, total: 1},
		{name: "filters together", q: lessons.Query{Text: "overlevering", Kind: domain.LessonGoodPractice, Language: "nb", Organisation: "haukeland"}, want: []uuid.UUID{Handover}, total: 1},
		{name: "filters that exclude each other", q: lessons.Query{Kind: domain.LessonFromSignal, Organisation: "karolinska"}, want: []uuid.UUID{}, total: 0},
		{name: "a language nobody wrote in", q: lessons.Query{Language: "da"}, want: []uuid.UUID{}, total: 0},
		{name: "a page with text", q: lessons.Query{Language: "nb", Limit: 1, Offset: 1}, want: []uuid.UUID{Morphine}, total: 2},
		{name: "past the end of a filtered list", q: lessons.Query{Kind: domain.LessonGoodPractice, Offset: 2, Limit: 5}, want: []uuid.UUID{}, total: 2},
		{name: "a limit beyond the end", q: lessons.Query{Offset: 2, Limit: 10}, want: []uuid.UUID{Morphine}, total: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := s.Search(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]uuid.UUID, 0, len(got))
			for _, v := range got {
				ids = append(ids, v.ID)
			}
			if total != tc.total || len(ids) != len(tc.want) {
				t.Fatalf("got %v (total %d), want %v (total %d)", ids, total, tc.want, tc.total)
			}
			for i := range ids {
				if ids[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", ids, tc.want)
				}
			}
		})
	}
}

// redelivery applies the history, then again (as after a crash between
// commit and acknowledgement), then a batch that overlaps the checkpoint:
// nothing is folded twice.
func redelivery(t *testing.T, s lessons.Store) {
	ctx := context.Background()
	h := History()
	if err := s.Apply(ctx, h, 7); err != nil {
		t.Fatal(err)
	}
	want, _, err := s.Get(ctx, Morphine)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, h[:4], 4); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, h, 7); err != nil {
		t.Fatal(err)
	}
	later := ev(8, Morphine, domain.LessonApplied{LessonID: Morphine, Organisation: "isala", AppliedAt: at.Add(6 * time.Hour)})
	if err := s.Apply(ctx, append(h[4:], later), 8); err != nil {
		t.Fatal(err)
	}
	if cp, err := s.Checkpoint(ctx); err != nil || cp != 8 {
		t.Fatalf("checkpoint %d, %v; want 8", cp, err)
	}
	got, _, err := s.Get(ctx, Morphine)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != want.Version+1 || got.Sequence != 8 || !slices.Equal(got.AppliedBy, []string{"haukeland", "karolinska", "isala"}) || len(got.Translations) != 1 {
		t.Fatalf("after redeliveries: version %d, sequence %d, applied by %v, %d translations",
			got.Version, got.Sequence, got.AppliedBy, len(got.Translations))
	}
	if _, total, err := s.Search(ctx, lessons.Query{}); err != nil || total != 3 {
		t.Fatalf("after redeliveries: %d lessons, %v", total, err)
	}
	bad := []projections.Event{later, {Sequence: 9, Envelope: eventstore.Envelope{AggregateType: projections.AggregateLesson, AggregateID: "nope"}}}
	bad[0].Sequence = 9
	if err := s.Apply(ctx, bad, 9); err == nil {
		t.Fatal("a batch with a bad id was applied")
	}
	if cp, err := s.Checkpoint(ctx); err != nil || cp != 8 {
		t.Fatalf("a failed batch moved the checkpoint to %d, %v", cp, err)
	}
}

// tiesAndWords: lessons published at the same instant come by id,
// descending; a translation replaced by a new one in the same language
// no longer matches its old words; diacritics and letters that do not
// decompose match their spelled-out forms; nanoseconds are kept.
func tiesAndWords(t *testing.T, s lessons.Store) {
	ctx := context.Background()
	a := uuid.MustParse("0193a5f0-0000-7000-8000-00000000f00a")
	b := uuid.MustParse("0193a5f0-0000-7000-8000-00000000f00b")
	c := uuid.MustParse("0193a5f0-0000-7000-8000-00000000f00c")
	orphan := uuid.MustParse("0193a5f0-0000-7000-8000-00000000f00d")
	same := at.Add(123456789)
	text := func(title string) domain.LessonText {
		return domain.LessonText{Title: title, WhatHappened: "Æresløs Überdosis café; Straße Łódź œuvre.", WhatWasLearned: "ISBAR-overlevering (2×)."}
	}
	batch := []projections.Event{
		ev(1, b, domain.LessonPublished{LessonID: b, Kind: domain.LessonGoodPractice, Organisation: "isala", Language: "nl", PublishedAt: same, Text: text("Tweede")}),
		ev(2, c, domain.LessonPublished{LessonID: c, Kind: domain.LessonGoodPractice, Organisation: "isala", Language: "nl", PublishedAt: same.Add(-1), Text: text("Derde")}),
		ev(3, a, domain.LessonPublished{LessonID: a, Kind: domain.LessonGoodPractice, Organisation: "isala", Language: "nl", PublishedAt: same, Text: text("Eerste")}),
		ev(4, a, domain.LessonTranslated{LessonID: a, Language: "en", TranslatedAt: same.Add(time.Hour), Text: text("Zebra crossing")}),
		ev(5, a, domain.LessonTranslated{LessonID: a, Language: "en", TranslatedAt: same.Add(2 * time.Hour), Text: text("Pedestrian crossing")}),
		// An event of a lesson the log holds no publication of: no search
		// finds it.
		ev(6, orphan, domain.LessonApplied{LessonID: orphan, Organisation: "isala", AppliedAt: same}),
	}
	if err := s.Apply(ctx, batch, 6); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Get(ctx, orphan); err != nil || ok && v.Exists() {
		t.Errorf("a lesson never published: %+v, %v, %v", v, ok, err)
	}
	got, total, err := s.Search(ctx, lessons.Query{Organisation: "isala"})
	if err != nil || total != 3 || len(got) != 3 || got[0].ID != b || got[1].ID != a || got[2].ID != c {
		t.Fatalf("same instant: %v (total %d), %v; want %s, %s, %s", idsOf(got), total, err, b, a, c)
	}
	if !got[0].PublishedAt.Equal(same) {
		t.Errorf("published at %v, want %v", got[0].PublishedAt, same)
	}
	for _, tc := range []struct {
		q     string
		total int
	}{
		{"aereslos uberdosis cafe", 3},
		{"ÆRESLØS ÜBERDOSIS CAFÉ", 3},
		{"aeres über caf", 3},
		{"strasse lodz oeuvre", 3},
		{"straße łódź œuv", 3},
		{"isbar overlevering 2", 3},
		{"pedestrian", 1},
		{"zebra", 0},
		{"tweede", 1},
		{"", 3},
		{"eerste crossing", 1},
	} {
		if _, total, err := s.Search(ctx, lessons.Query{Text: tc.q}); err != nil || total != tc.total {
			t.Errorf("Search(%q): total %d, %v; want %d", tc.q, total, err, tc.total)
		}
	}
	if v, _, _ := s.Get(ctx, a); len(v.Translations) != 1 || v.Translations[0].Text.Title != "Pedestrian crossing" || v.Version != 3 {
		t.Errorf("retranslated lesson %+v", v)
	}
}

func idsOf(vs []lessons.View) []uuid.UUID {
	out := make([]uuid.UUID, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}
