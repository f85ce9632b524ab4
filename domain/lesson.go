package domain

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// A lesson is an aggregate of its own (lesson): what an organisation
// learned from a signal, or a good practice not tied to one, written in
// general terms for every organisation of the network. It keeps the
// language it was written in and can be translated later; colleagues of
// other organisations mark it applied, once per organisation.

// Lesson kinds.
const (
	LessonFromSignal   = "lesson"
	LessonGoodPractice = "good_practice"
)

// Lesson command names.
const (
	CommandPublishLesson     = "publish-lesson"
	CommandTranslateLesson   = "translate-lesson"
	CommandMarkLessonApplied = "mark-lesson-applied"
)

// Lesson event types.
const (
	EventLessonPublished  = "LessonPublished"
	EventLessonTranslated = "LessonTranslated"
	EventLessonApplied    = "LessonApplied"
)

// LessonEventTypes lists the event types of lessons.
func LessonEventTypes() []string {
	return []string{EventLessonPublished, EventLessonTranslated, EventLessonApplied}
}

// Limits of a lesson's text, in characters.
const (
	MaxLessonTitleLength = 200
	MaxLessonTextLength  = 5_000
)

// LessonText is a lesson's text in one language.
type LessonText struct {
	Title           string `json:"title"`
	WhatHappened    string `json:"whatHappened"`
	WhatWasLearned  string `json:"whatWasLearned"`
	WhatWasChanged  string `json:"whatWasChanged,omitempty"`
	WhatOthersCanDo string `json:"whatOthersCanDo,omitempty"`
}

// Fields returns the text's fields by their JSON names, in order.
func (t LessonText) Fields() [][2]string {
	return [][2]string{
		{"title", t.Title}, {"whatHappened", t.WhatHappened}, {"whatWasLearned", t.WhatWasLearned},
		{"whatWasChanged", t.WhatWasChanged}, {"whatOthersCanDo", t.WhatOthersCanDo},
	}
}

func (t LessonText) validate(fe *fieldErrors) {
	validateText(fe, "title", t.Title, true, MaxLessonTitleLength)
	validateText(fe, "whatHappened", t.WhatHappened, true, MaxLessonTextLength)
	validateText(fe, "whatWasLearned", t.WhatWasLearned, true, MaxLessonTextLength)
	validateText(fe, "whatWasChanged", t.WhatWasChanged, false, MaxLessonTextLength)
	validateText(fe, "whatOthersCanDo", t.WhatOthersCanDo, false, MaxLessonTextLength)
}

// LessonTranslation is the text in a language other than the original.
type LessonTranslation struct {
	Language Language
	Text     LessonText
	At       time.Time
}

// Lesson is the state of one lesson.
type Lesson struct {
	ID           uuid.UUID
	Version      int
	Kind         string
	Organisation string
	// SignalID is the signal the lesson was drawn from (kind lesson).
	SignalID     uuid.UUID
	Language     Language
	Text         LessonText
	Category     Category
	Specialty    Specialty
	Translations []LessonTranslation
	// AppliedBy lists the organisations that applied it, in order.
	AppliedBy   []string
	PublishedAt time.Time
	UpdatedAt   time.Time
}

// Exists reports whether the lesson was published.
func (l Lesson) Exists() bool { return !l.PublishedAt.IsZero() }

// PublishLesson publishes a lesson or a good practice.
type PublishLesson struct {
	LessonID     uuid.UUID
	Kind         string
	Organisation string
	SignalID     uuid.UUID
	Language     Language
	Text         LessonText
	Category     Category
	Specialty    Specialty
	At           time.Time
}

// CommandName implements Command.
func (PublishLesson) CommandName() string { return CommandPublishLesson }

// TranslateLesson adds (or replaces) the text in another language.
type TranslateLesson struct {
	Language Language
	Text     LessonText
	At       time.Time
}

// CommandName implements Command.
func (TranslateLesson) CommandName() string { return CommandTranslateLesson }

// MarkLessonApplied says an organisation applied the lesson.
type MarkLessonApplied struct {
	Organisation string
	At           time.Time
}

// CommandName implements Command.
func (MarkLessonApplied) CommandName() string { return CommandMarkLessonApplied }

// LessonPublished records a lesson. Its text is written for everyone and
// is not sealed.
type LessonPublished struct {
	LessonID     uuid.UUID  `json:"lessonId"`
	Kind         string     `json:"kind"`
	Organisation string     `json:"organisation"`
	SignalID     uuid.UUID  `json:"signalId,omitzero"`
	Language     Language   `json:"language"`
	Text         LessonText `json:"text"`
	Category     Category   `json:"category,omitempty"`
	Specialty    Specialty  `json:"specialty,omitempty"`
	PublishedAt  time.Time  `json:"publishedAt"`
}

// EventType implements Event.
func (LessonPublished) EventType() string { return EventLessonPublished }

// LessonTranslated records a translation.
type LessonTranslated struct {
	LessonID     uuid.UUID  `json:"lessonId"`
	Language     Language   `json:"language"`
	Text         LessonText `json:"text"`
	TranslatedAt time.Time  `json:"translatedAt"`
}

// EventType implements Event.
func (LessonTranslated) EventType() string { return EventLessonTranslated }

// LessonApplied records that an organisation applied the lesson.
type LessonApplied struct {
	LessonID     uuid.UUID `json:"lessonId"`
	Organisation string    `json:"organisation"`
	AppliedAt    time.Time `json:"appliedAt"`
}

// EventType implements Event.
func (LessonApplied) EventType() string { return EventLessonApplied }

func lessonRefused(command, reason string, cause error) error {
	return &TransitionError{Command: command, Reason: reason, Cause: cause, Aggregate: "lesson"}
}

// DecideLesson decides a command on a lesson.
func DecideLesson(l Lesson, c Command) ([]Event, error) {
	switch c := c.(type) {
	case PublishLesson:
		if l.Exists() {
			return nil, lessonRefused(c.CommandName(), "the lesson was already published", nil)
		}
		var fe fieldErrors
		validateAt(&fe, c.At)
		if c.LessonID == uuid.Nil {
			fe.add("id", "required", "a lesson id is required")
		}
		validateIdentifier(&fe, "organisation", c.Organisation, MaxOrganisationLength)
		switch {
		case c.Kind == LessonFromSignal && c.SignalID == uuid.Nil:
			fe.add("signalId", "required", "a lesson from a signal names the signal")
		case c.Kind == LessonGoodPractice && c.SignalID != uuid.Nil:
			fe.add("signalId", "forbidden", "a good practice is not tied to a signal")
		case c.Kind != LessonFromSignal && c.Kind != LessonGoodPractice:
			fe.add("kind", "invalid", "kind must be %s or %s", LessonFromSignal, LessonGoodPractice)
		}
		validateLanguage(&fe, "language", c.Language)
		c.Text.validate(&fe)
		if c.Category != "" && !c.Category.Valid() {
			fe.add("category", "invalid", "unknown category %q (one of the 13 WHO ICPS incident types)", c.Category)
		}
		if c.Specialty != "" && !c.Specialty.Valid() {
			fe.add("specialty", "invalid", "unknown specialty %q", c.Specialty)
		}
		if err := fe.err(); err != nil {
			return nil, err
		}
		return []Event{LessonPublished{
			LessonID: c.LessonID, Kind: c.Kind, Organisation: c.Organisation, SignalID: c.SignalID, Language: c.Language,
			Text: c.Text, Category: c.Category, Specialty: c.Specialty, PublishedAt: c.At.UTC(),
		}}, nil
	case TranslateLesson:
		if !l.Exists() {
			return nil, lessonRefused(c.CommandName(), "", ErrNotFound)
		}
		var fe fieldErrors
		validateAt(&fe, c.At)
		validateLanguage(&fe, "language", c.Language)
		if c.Language == l.Language {
			fe.add("language", "original", "the lesson was written in %s; a translation is into another language", l.Language)
		}
		c.Text.validate(&fe)
		if err := fe.err(); err != nil {
			return nil, err
		}
		return []Event{LessonTranslated{LessonID: l.ID, Language: c.Language, Text: c.Text, TranslatedAt: c.At.UTC()}}, nil
	case MarkLessonApplied:
		if !l.Exists() {
			return nil, lessonRefused(c.CommandName(), "", ErrNotFound)
		}
		var fe fieldErrors
		validateAt(&fe, c.At)
		validateIdentifier(&fe, "organisation", c.Organisation, MaxOrganisationLength)
		if err := fe.err(); err != nil {
			return nil, err
		}
		switch {
		case c.Organisation == l.Organisation:
			return nil, lessonRefused(c.CommandName(), "the organisation published the lesson", nil)
		case slices.Contains(l.AppliedBy, c.Organisation):
			return nil, lessonRefused(c.CommandName(), "the organisation marked it applied already", nil)
		}
		return []Event{LessonApplied{LessonID: l.ID, Organisation: c.Organisation, AppliedAt: c.At.UTC()}}, nil
	default:
		return nil, lessonRefused(c.CommandName(), "not a lesson command", nil)
	}
}

func validateLanguage(fe *fieldErrors, field string, l Language) {
	switch {
	case l == "":
		fe.add(field, "required", "%s is required", field)
	case !l.Valid():
		fe.add(field, "invalid", "%s must be one of nl, nb, nn, sv, da, en", field)
	}
}

// EvolveLesson applies one event to a lesson, never changing the slices
// of the state it is given.
func EvolveLesson(l Lesson, e Event) Lesson {
	switch e := e.(type) {
	case LessonPublished:
		l = Lesson{
			ID: e.LessonID, Kind: e.Kind, Organisation: e.Organisation, SignalID: e.SignalID, Language: e.Language,
			Text: e.Text, Category: e.Category, Specialty: e.Specialty, PublishedAt: e.PublishedAt, UpdatedAt: e.PublishedAt,
		}
	case LessonTranslated:
		ts := slices.DeleteFunc(slices.Clone(l.Translations), func(t LessonTranslation) bool { return t.Language == e.Language })
		l.Translations = append(ts, LessonTranslation{Language: e.Language, Text: e.Text, At: e.TranslatedAt})
		l.UpdatedAt = e.TranslatedAt
	case LessonApplied:
		l.AppliedBy = append(slices.Clip(l.AppliedBy), e.Organisation)
		l.UpdatedAt = e.AppliedAt
	default:
		return l
	}
	l.Version++
	return l
}
