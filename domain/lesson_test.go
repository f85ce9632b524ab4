package domain_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
)

var lessonID = uuid.MustParse("0193a5f0-0000-7000-8000-0000000000c1")

func lessonText() domain.LessonText {
	return domain.LessonText{
		Title:           "Two morphine concentrations side by side",
		WhatHappened:    "A tenfold dose was prepared from the wrong vial.",
		WhatWasLearned:  "Look-alike labels defeat the double check.",
		WhatWasChanged:  "The stronger concentration is stocked in the pharmacy only.",
		WhatOthersCanDo: "Check your wards for both concentrations.",
	}
}

func lessonPublished() domain.LessonPublished {
	return domain.LessonPublished{
		LessonID: lessonID, Kind: domain.LessonFromSignal, Organisation: "umc-utrecht", SignalID: signalID, Language: "en",
		Text: lessonText(), Category: domain.CategoryMedication, Specialty: "anaesthesiology", PublishedAt: hour(30),
	}
}

func TestLesson(t *testing.T) {
	t.Parallel()
	publish := func(mod func(*domain.PublishLesson)) domain.PublishLesson {
		e := lessonPublished()
		c := domain.PublishLesson{LessonID: e.LessonID, Kind: e.Kind, Organisation: e.Organisation, SignalID: e.SignalID, Language: e.Language, Text: e.Text, Category: e.Category, Specialty: e.Specialty, At: e.PublishedAt}
		if mod != nil {
			mod(&c)
		}
		return c
	}
	nl := domain.LessonText{Title: "Twee sterktes morfine naast elkaar", WhatHappened: "Een tienvoudige dosis.", WhatWasLearned: "Etiketten lijken op elkaar."}
	translated := domain.LessonTranslated{LessonID: lessonID, Language: "nl", Text: nl, TranslatedAt: hour(31)}
	applied := domain.LessonApplied{LessonID: lessonID, Organisation: "haukeland", AppliedAt: hour(32)}
	for _, tc := range []struct {
		name       string
		given      []domain.Event
		when       domain.Command
		then       []domain.Event
		wantFields []string
		wantErr    error
	}{
		{name: "a lesson from a signal", when: publish(nil), then: []domain.Event{lessonPublished()}},
		{name: "a good practice", when: publish(func(c *domain.PublishLesson) {
			c.Kind, c.SignalID, c.Category = domain.LessonGoodPractice, uuid.Nil, ""
		}),
			then: []domain.Event{func() domain.Event {
				e := lessonPublished()
				e.Kind, e.SignalID, e.Category = domain.LessonGoodPractice, uuid.Nil, ""
				return e
			}()}},
		{name: "a good practice with a signal", when: publish(func(c *domain.PublishLesson) { c.Kind = domain.LessonGoodPractice }), wantFields: []string{"signalId"}},
		{name: "a lesson without its signal", when: publish(func(c *domain.PublishLesson) { c.SignalID = uuid.Nil }), wantFields: []string{"signalId"}},
		{name: "bad codes", when: publish(func(c *domain.PublishLesson) { c.Category, c.Specialty, c.Language = "x", "y", "de" }), wantFields: []string{"language", "category", "specialty"}},
		{name: "text missing or too long", when: publish(func(c *domain.PublishLesson) {
			c.Text = domain.LessonText{Title: strings.Repeat("t", domain.MaxLessonTitleLength+1), WhatWasChanged: "\x00"}
		}), wantFields: []string{"title", "whatHappened", "whatWasLearned", "whatWasChanged"}},
		{name: "published twice", given: []domain.Event{lessonPublished()}, when: publish(nil), wantErr: domain.ErrIllegalTransition},
		{name: "translated", given: []domain.Event{lessonPublished()}, when: domain.TranslateLesson{Language: "nl", Text: nl, At: hour(31)}, then: []domain.Event{translated}},
		{name: "translated into its own language", given: []domain.Event{lessonPublished()}, when: domain.TranslateLesson{Language: "en", Text: nl, At: hour(31)}, wantFields: []string{"language"}},
		{name: "translating nothing", when: domain.TranslateLesson{Language: "nl", Text: nl, At: hour(31)}, wantErr: domain.ErrNotFound},
		{name: "applied", given: []domain.Event{lessonPublished()}, when: domain.MarkLessonApplied{Organisation: "haukeland", At: hour(32)}, then: []domain.Event{applied}},
		{name: "applied twice by one organisation", given: []domain.Event{lessonPublished(), applied}, when: domain.MarkLessonApplied{Organisation: "haukeland", At: hour(33)}, wantErr: domain.ErrIllegalTransition},
		{name: "applied by its own organisation", given: []domain.Event{lessonPublished()}, when: domain.MarkLessonApplied{Organisation: "umc-utrecht", At: hour(33)}, wantErr: domain.ErrIllegalTransition},
		{name: "a signal command", given: []domain.Event{lessonPublished()}, when: domain.AcknowledgeSignal{At: hour(3)}, wantErr: domain.ErrIllegalTransition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var state domain.Lesson
			for _, e := range tc.given {
				state = domain.EvolveLesson(state, e)
			}
			got, err := domain.DecideLesson(state, tc.when)
			var ve *domain.ValidationError
			switch {
			case tc.wantFields != nil:
				if !errors.As(err, &ve) {
					t.Fatalf("want fields %v, got %v", tc.wantFields, err)
				}
				var named []string
				for _, f := range ve.Fields {
					named = append(named, f.Field)
				}
				if !reflect.DeepEqual(named, tc.wantFields) {
					t.Errorf("fields %v, want %v", named, tc.wantFields)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) || got != nil {
					t.Fatalf("want %v, got %v %v", tc.wantErr, got, err)
				}
			default:
				if err != nil || !reflect.DeepEqual(got, tc.then) {
					t.Fatalf("got %#v %v, want %#v", got, err, tc.then)
				}
			}
		})
	}
	l := domain.EvolveLesson(domain.Lesson{}, lessonPublished())
	l2 := domain.EvolveLesson(domain.EvolveLesson(l, translated), applied)
	l3 := domain.EvolveLesson(l2, domain.LessonTranslated{LessonID: lessonID, Language: "nl", Text: lessonText(), TranslatedAt: hour(40)})
	if l2.Version != 3 || len(l2.Translations) != 1 || l2.AppliedBy[0] != "haukeland" || len(l.Translations) != 0 {
		t.Errorf("state %+v", l2)
	}
	if len(l3.Translations) != 1 || l3.Translations[0].Text.Title != lessonText().Title || l2.Translations[0].Text.Title != nl.Title {
		t.Errorf("a new translation replaces the old one without changing the earlier state: %+v / %+v", l3.Translations, l2.Translations)
	}
}
