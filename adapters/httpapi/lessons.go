package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/domain/identifiers"
	"github.com/safesignal/safesignal/projections/lessons"
)

// The lesson and good-practice library (docs/LEARNING.md): safety officers
// publish, every signed-in role searches and reads, colleagues and safety
// officers of other organisations mark a lesson applied.

// lessonTextBody is a lesson's text as the API takes and shows it.
type lessonTextBody struct {
	Title           string `json:"title"`
	WhatHappened    string `json:"whatHappened"`
	WhatWasLearned  string `json:"whatWasLearned"`
	WhatWasChanged  string `json:"whatWasChanged,omitempty"`
	WhatOthersCanDo string `json:"whatOthersCanDo,omitempty"`
}

func lessonTextOf(t domain.LessonText) lessonTextBody {
	return lessonTextBody{Title: t.Title, WhatHappened: t.WhatHappened, WhatWasLearned: t.WhatWasLearned, WhatWasChanged: t.WhatWasChanged, WhatOthersCanDo: t.WhatOthersCanDo}
}

// publishLessonBody is the body of POST /api/v1/lessons. (The strict
// decoder knows a struct's own fields, not embedded ones, so the text's
// fields are spelled out here and in translateLessonBody.)
type publishLessonBody struct {
	Kind            string    `json:"kind"`
	SignalID        uuid.UUID `json:"signalId"`
	Language        string    `json:"language"`
	Title           string    `json:"title"`
	WhatHappened    string    `json:"whatHappened"`
	WhatWasLearned  string    `json:"whatWasLearned"`
	WhatWasChanged  string    `json:"whatWasChanged"`
	WhatOthersCanDo string    `json:"whatOthersCanDo"`
	Category        string    `json:"category"`
	Specialty       string    `json:"specialty"`
}

func (b publishLessonBody) domain() domain.LessonText {
	return domain.LessonText{Title: b.Title, WhatHappened: b.WhatHappened, WhatWasLearned: b.WhatWasLearned, WhatWasChanged: b.WhatWasChanged, WhatOthersCanDo: b.WhatOthersCanDo}
}

// translateLessonBody is the body of POST /api/v1/lessons/{id}/translations.
type translateLessonBody struct {
	Language        string `json:"language"`
	Title           string `json:"title"`
	WhatHappened    string `json:"whatHappened"`
	WhatWasLearned  string `json:"whatWasLearned"`
	WhatWasChanged  string `json:"whatWasChanged"`
	WhatOthersCanDo string `json:"whatOthersCanDo"`
}

func (b translateLessonBody) domain() domain.LessonText {
	return domain.LessonText{Title: b.Title, WhatHappened: b.WhatHappened, WhatWasLearned: b.WhatWasLearned, WhatWasChanged: b.WhatWasChanged, WhatOthersCanDo: b.WhatOthersCanDo}
}

type lessonTranslationView struct {
	Language string `json:"language"`
	lessonTextBody
}

// lessonView is a lesson as every signed-in role sees it. It says whether
// the lesson came from a signal, never which.
type lessonView struct {
	ID           uuid.UUID `json:"id"`
	Version      int       `json:"version"`
	Kind         string    `json:"kind"`
	Organisation string    `json:"organisation"`
	FromSignal   bool      `json:"fromSignal"`
	Language     string    `json:"language"`
	lessonTextBody
	Category     string                  `json:"category,omitempty"`
	Specialty    string                  `json:"specialty,omitempty"`
	Translations []lessonTranslationView `json:"translations"`
	AppliedCount int                     `json:"appliedCount"`
	AppliedHere  bool                    `json:"appliedHere"`
	PublishedAt  time.Time               `json:"publishedAt"`
	UpdatedAt    time.Time               `json:"updatedAt"`
}

func presentLesson(p auth.Principal, v lessons.View) lessonView {
	out := lessonView{
		ID: v.ID, Version: v.Version, Kind: v.Kind, Organisation: v.Organisation, FromSignal: v.SignalID != uuid.Nil,
		Language: string(v.Language), lessonTextBody: lessonTextOf(v.Text), Category: string(v.Category), Specialty: string(v.Specialty),
		Translations: make([]lessonTranslationView, 0, len(v.Translations)), AppliedCount: len(v.AppliedBy),
		AppliedHere: p.Organisation != "" && slices.Contains(v.AppliedBy, p.Organisation), PublishedAt: v.PublishedAt, UpdatedAt: v.UpdatedAt,
	}
	for _, t := range v.Translations {
		out.Translations = append(out.Translations, lessonTranslationView{Language: string(t.Language), lessonTextBody: lessonTextOf(t.Text)})
	}
	return out
}

// lessonIdentifiers refuses text with a personal identification number: a
// filing keeps one with a warning (its organisation may need it), but a
// lesson is published to every organisation of the network.
func lessonIdentifiers(t domain.LessonText) *Problem {
	var fields []domain.FieldError
	for _, f := range t.Fields() {
		for _, m := range identifiers.Detect(f[1]) {
			fields = append(fields, domain.FieldError{Field: f[0], Code: "personal_identifier",
				Message: "the text holds what looks like a " + string(m.Kind) + " (" + m.Kind.Country() + ") at bytes " + strconv.Itoa(m.Start) + "–" + strconv.Itoa(m.End) + "; a lesson is published to the whole network: remove it"})
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return newProblem(http.StatusUnprocessableEntity, "validation", "Invalid lesson", "the lesson's text holds a personal identification number", fields...)
}

func (s *Server) lessonsEnabled(w http.ResponseWriter, r *http.Request) bool {
	if s.deps.Lessons == nil || s.deps.LessonLibrary == nil {
		writeProblem(w, r, newProblem(http.StatusNotFound, "not-found", "Not found", "the lesson library is not enabled"))
		return false
	}
	return true
}

// publishLesson answers POST /api/v1/lessons.
func (s *Server) publishLesson(w http.ResponseWriter, r *http.Request) {
	if !s.lessonsEnabled(w, r) {
		return
	}
	p, _ := auth.FromContext(r.Context())
	raw, prob := readBody(w, r)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	var body publishLessonBody
	if prob := decodeStrict(raw, &body); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	if prob := lessonIdentifiers(body.domain()); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	if body.SignalID != uuid.Nil {
		v, ok, err := s.deps.Signals.Get(r.Context(), body.SignalID)
		if err != nil {
			writeProblem(w, r, s.commandProblem(r, err))
			return
		}
		if !ok || v.Organisation != p.Organisation {
			writeProblem(w, r, fieldProblem(http.StatusUnprocessableEntity, "validation", "Invalid lesson", "signalId", "not_found", "signalId must be a signal of your organisation"))
			return
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		writeProblem(w, r, s.problemOf(r, err, "lesson"))
		return
	}
	audited := ""
	if body.SignalID != uuid.Nil {
		audited = body.SignalID.String()
	}
	if prob := s.record(r, "lesson.publish", audited); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	cmd := domain.PublishLesson{
		LessonID: id, Kind: body.Kind, Organisation: p.Organisation, SignalID: body.SignalID, Language: domain.Language(body.Language),
		Text: body.domain(), Category: domain.Category(body.Category), Specialty: domain.Specialty(body.Specialty), At: s.deps.Lessons.Now().UTC(),
	}
	res, err := s.deps.Lessons.Execute(r.Context(), id, cmd, p.Subject, correlationID(r.Context()))
	if err != nil {
		writeProblem(w, r, s.problemOf(r, err, "lesson"))
		return
	}
	s.waitForReadModel(r.Context(), res.Sequence)
	w.Header().Set("Location", "/api/v1/lessons/"+id.String())
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "version": res.Version})
}

// lessonByID reads the {id} of a lesson route.
func (s *Server) lessonByID(r *http.Request) (lessons.View, *Problem) {
	raw := r.PathValue("id")
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		return lessons.View{}, fieldProblem(http.StatusBadRequest, "invalid-id", "Invalid lesson id", "id", "invalid", "the lesson id must be a UUID")
	}
	v, ok, err := s.deps.LessonLibrary.Get(r.Context(), id)
	if err != nil {
		return lessons.View{}, s.problemOf(r, err, "lesson")
	}
	if !ok {
		return lessons.View{}, newProblem(http.StatusNotFound, "not-found", "Lesson not found", "no lesson with this id")
	}
	return v, nil
}

// getLesson answers GET /api/v1/lessons/{id}.
func (s *Server) getLesson(w http.ResponseWriter, r *http.Request) {
	if !s.lessonsEnabled(w, r) {
		return
	}
	p, _ := auth.FromContext(r.Context())
	v, prob := s.lessonByID(r)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	w.Header().Set("ETag", etag(v.Version))
	writeJSON(w, http.StatusOK, presentLesson(p, v))
}

// searchLessons answers GET /api/v1/lessons?q=&kind=&category=&specialty=&language=&organisation=&limit=&offset=.
func (s *Server) searchLessons(w http.ResponseWriter, r *http.Request) {
	if !s.lessonsEnabled(w, r) {
		return
	}
	p, _ := auth.FromContext(r.Context())
	qv := r.URL.Query()
	if prob := knownParams(qv, "q", "kind", "category", "specialty", "language", "organisation", "limit", "offset"); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	bad := func(field, msg string) {
		writeProblem(w, r, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", field, "invalid", msg))
	}
	q := lessons.Query{Text: qv.Get("q"), Kind: qv.Get("kind"), Category: domain.Category(qv.Get("category")), Specialty: domain.Specialty(qv.Get("specialty")),
		Language: domain.Language(qv.Get("language")), Organisation: qv.Get("organisation"), Limit: 20}
	switch {
	case len(q.Text) > 500:
		bad("q", "q must be at most 500 bytes")
		return
	case q.Kind != "" && q.Kind != domain.LessonFromSignal && q.Kind != domain.LessonGoodPractice:
		bad("kind", "kind must be lesson or good_practice")
		return
	case q.Category != "" && !q.Category.Valid():
		bad("category", "unknown category")
		return
	case q.Specialty != "" && !q.Specialty.Valid():
		bad("specialty", "unknown specialty")
		return
	case q.Language != "" && !q.Language.Valid():
		bad("language", "language must be one of nl, nb, nn, sv, da, en")
		return
	case len(q.Organisation) > domain.MaxOrganisationLength:
		bad("organisation", "organisation is too long")
		return
	}
	if v := qv.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			bad("limit", "limit must be 1 to 100")
			return
		}
		q.Limit = n
	}
	if v := qv.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1_000_000 {
			bad("offset", "offset must be 0 or more")
			return
		}
		q.Offset = n
	}
	views, total, err := s.deps.LessonLibrary.Search(r.Context(), q)
	if err != nil {
		writeProblem(w, r, s.problemOf(r, err, "lesson"))
		return
	}
	out := make([]lessonView, 0, len(views))
	for _, v := range views {
		out = append(out, presentLesson(p, v))
	}
	writeJSON(w, http.StatusOK, map[string]any{"lessons": out, "total": total})
}

// translateLesson answers POST /api/v1/lessons/{id}/translations: a safety
// officer of the publishing organisation adds a language.
func (s *Server) translateLesson(w http.ResponseWriter, r *http.Request) {
	if !s.lessonsEnabled(w, r) {
		return
	}
	p, _ := auth.FromContext(r.Context())
	v, prob := s.lessonByID(r)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	if v.Organisation != p.Organisation {
		writeProblem(w, r, newProblem(http.StatusNotFound, "not-found", "Lesson not found", "only the publishing organisation translates its lessons"))
		return
	}
	raw, prob := readBody(w, r)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	var body translateLessonBody
	if prob := decodeStrict(raw, &body); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	if prob := lessonIdentifiers(body.domain()); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	res, err := s.deps.Lessons.Execute(r.Context(), v.ID, domain.TranslateLesson{Language: domain.Language(body.Language), Text: body.domain(), At: s.deps.Lessons.Now().UTC()}, p.Subject, correlationID(r.Context()))
	if err != nil {
		writeProblem(w, r, s.problemOf(r, err, "lesson"))
		return
	}
	s.waitForReadModel(r.Context(), res.Sequence)
	writeJSON(w, http.StatusOK, map[string]any{"id": v.ID, "version": res.Version})
}

// markLessonApplied answers POST /api/v1/lessons/{id}/applied: the
// caller's organisation applied the lesson (once; not the publisher).
func (s *Server) markLessonApplied(w http.ResponseWriter, r *http.Request) {
	if !s.lessonsEnabled(w, r) {
		return
	}
	p, _ := auth.FromContext(r.Context())
	v, prob := s.lessonByID(r)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	raw, prob := readOptionalBody(w, r)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	if prob := decodeStrict(raw, &struct{}{}); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	res, err := s.deps.Lessons.Execute(r.Context(), v.ID, domain.MarkLessonApplied{Organisation: p.Organisation, At: s.deps.Lessons.Now().UTC()}, p.Subject, correlationID(r.Context()))
	if err != nil {
		writeProblem(w, r, s.problemOf(r, err, "lesson"))
		return
	}
	s.waitForReadModel(r.Context(), res.Sequence)
	writeJSON(w, http.StatusOK, map[string]any{"id": v.ID, "version": res.Version, "appliedCount": len(v.AppliedBy) + 1})
}
