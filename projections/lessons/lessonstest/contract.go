// Package lessonstest is the contract every lessons.Store meets.
package lessonstest

import (
	"context"
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
