package lessons_test

import (
	"slices"
	"testing"

	"github.com/safesignal/safesignal/projections/lessons"
	"github.com/safesignal/safesignal/projections/lessons/lessonstest"
)

func TestMemoryContract(t *testing.T) {
	t.Parallel()
	lessonstest.Run(t, func(*testing.T) lessons.Store { return lessons.NewMemory() })
}

func TestTokens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"Æresløs Überdosis café", []string{"aereslos", "uberdosis", "cafe"}},
		{"ÅÄÖ åäö", []string{"aao", "aao"}},
		{"Straße, Łódź; œuvre", []string{"strasse", "lodz", "oeuvre"}},
		{"ISBAR-overlevering (2×)", []string{"isbar", "overlevering", "2"}},
		{"", nil},
	} {
		if got := lessons.Tokens(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
