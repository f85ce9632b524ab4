// Package lessons is the read model of the lesson and good-practice
// library: every lesson of every organisation, searchable by every
// signed-in role.
package lessons

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections"
	"golang.org/x/text/unicode/norm"
)

// Name is the projection's name.
const Name = "lessons"

// View is one lesson as the read side holds it.
type View struct {
	domain.Lesson
	// Sequence is the stream sequence of the last commit folded in.
	Sequence uint64
}

// Query selects lessons. Empty fields do not filter.
type Query struct {
	// Text: every word of it must begin a word of the lesson (title and
	// text, in the original or any translation), compared case-insensitive
	// and with diacritics folded (é→e, ø→o, æ→ae, ß→ss).
	Text      string
	Kind      string
	Category  domain.Category
	Specialty domain.Specialty
	// Language matches the original language or a translation.
	Language domain.Language
	// Organisation matches the publishing organisation.
	Organisation string
	Limit        int
	Offset       int
}

// Store holds the read model. The contract suite in lessonstest keeps
// every implementation alike.
type Store interface {
	projections.Projection
	// Get returns a lesson, or false when the read model does not hold it.
	Get(ctx context.Context, id uuid.UUID) (View, bool, error)
	// Search returns one page of the matching lessons, newest first, and
	// how many match.
	Search(ctx context.Context, q Query) ([]View, int, error)
}

// Memory is the in-memory store, rebuilt from the log at every start.
type Memory struct {
	mu         sync.RWMutex
	lessons    map[uuid.UUID]View
	words      map[uuid.UUID][]string
	checkpoint uint64
}

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{lessons: map[uuid.UUID]View{}, words: map[uuid.UUID][]string{}}
}

// Name implements projections.Projection.
func (m *Memory) Name() string { return Name }

// Checkpoint implements projections.Projection.
func (m *Memory) Checkpoint(context.Context) (uint64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.checkpoint, nil
}

// LessonID returns the id of the lesson an event belongs to.
func LessonID(e projections.Event) (uuid.UUID, error) {
	id, err := uuid.Parse(e.Envelope.AggregateID)
	if err != nil {
		return uuid.Nil, fmt.Errorf("lessons: sequence %d: aggregate id: %w", e.Sequence, err)
	}
	return id, nil
}

// Apply implements projections.Projection. Events at or below the
// checkpoint were folded in already (a redelivery) and are skipped.
func (m *Memory) Apply(_ context.Context, batch []projections.Event, through uint64) error {
	ids := make([]uuid.UUID, len(batch))
	for i, e := range batch {
		if e.Envelope.AggregateType != projections.AggregateLesson {
			continue
		}
		id, err := LessonID(e)
		if err != nil {
			return err
		}
		ids[i] = id
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, e := range batch {
		if e.Envelope.AggregateType != projections.AggregateLesson || e.Sequence <= m.checkpoint {
			continue
		}
		v := View{Lesson: domain.EvolveLesson(m.lessons[ids[i]].Lesson, e.Data), Sequence: e.Sequence}
		m.lessons[ids[i]] = v
		m.words[ids[i]] = Words(v.Lesson)
	}
	m.checkpoint = max(m.checkpoint, through)
	return nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, id uuid.UUID) (View, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.lessons[id]
	return v, ok, nil
}

// Search implements Store.
func (m *Memory) Search(_ context.Context, q Query) ([]View, int, error) {
	terms := Tokens(q.Text)
	m.mu.RLock()
	var out []View
	for id, v := range m.lessons {
		if Matches(v.Lesson, q) && MatchesWords(m.words[id], terms) {
			out = append(out, v)
		}
	}
	m.mu.RUnlock()
	SortNewestFirst(out)
	return Page(out, q.Offset, q.Limit), len(out), nil
}

// SortNewestFirst orders lessons by publication, newest first.
func SortNewestFirst(vs []View) {
	slices.SortFunc(vs, func(a, b View) int {
		return cmp.Or(b.PublishedAt.Compare(a.PublishedAt), cmp.Compare(b.ID.String(), a.ID.String()))
	})
}

// Page cuts one page; limit 0 means all.
func Page(vs []View, offset, limit int) []View {
	if offset >= len(vs) {
		return []View{}
	}
	vs = vs[offset:]
	if limit > 0 && limit < len(vs) {
		vs = vs[:limit]
	}
	return vs
}

// Matches applies the query's filters (not its text).
func Matches(l domain.Lesson, q Query) bool {
	switch {
	case !l.Exists():
		return false
	case q.Kind != "" && l.Kind != q.Kind,
		q.Category != "" && l.Category != q.Category,
		q.Specialty != "" && l.Specialty != q.Specialty,
		q.Organisation != "" && l.Organisation != q.Organisation:
		return false
	case q.Language != "" && l.Language != q.Language:
		return slices.ContainsFunc(l.Translations, func(t domain.LessonTranslation) bool { return t.Language == q.Language })
	}
	return true
}

// MatchesWords reports whether every term begins one of the words.
func MatchesWords(words, terms []string) bool {
	for _, t := range terms {
		i, _ := slices.BinarySearch(words, t)
		if i >= len(words) || !strings.HasPrefix(words[i], t) {
			return false
		}
	}
	return true
}

// Words returns the sorted, distinct folded words of a lesson's texts.
func Words(l domain.Lesson) []string {
	var all []string
	texts := []domain.LessonText{l.Text}
	for _, t := range l.Translations {
		texts = append(texts, t.Text)
	}
	for _, t := range texts {
		for _, f := range t.Fields() {
			all = append(all, Tokens(f[1])...)
		}
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// Tokens splits text into folded words: letters and digits, lower case,
// diacritics removed.
func Tokens(text string) []string {
	return strings.FieldsFunc(Fold(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// Fold lowers text and removes its diacritics, so that "Æresløs Überdosis
// café" and "aeresloes uberdosis cafe" meet; letters that do not decompose
// (ø, æ, ß, đ, ł) are spelled out.
func Fold(text string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(text)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'ø':
			b.WriteRune('o')
		case r == 'æ':
			b.WriteString("ae")
		case r == 'ß':
			b.WriteString("ss")
		case r == 'đ':
			b.WriteRune('d')
		case r == 'ł':
			b.WriteRune('l')
		case r == 'œ':
			b.WriteString("oe")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
