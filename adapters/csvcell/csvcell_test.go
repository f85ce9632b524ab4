package csvcell_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/safesignal/safesignal/adapters/csvcell"
)

func TestGuard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain text", "Tenfold morphine dose", "Tenfold morphine dose"},
		{"formula", "=HYPERLINK(\"http://x\",\"click\")", "'=HYPERLINK(\"http://x\",\"click\")"},
		{"plus", "+1+2", "'+1+2"},
		{"minus", "-2+3", "'-2+3"},
		{"at", "@SUM(A1:A2)", "'@SUM(A1:A2)"},
		{"tab", "\t=1", "'\t=1"},
		{"carriage return", "\r=1", "'\r=1"},
		{"dde", "=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
		{"formula later in the cell", "dose = 10 mg", "dose = 10 mg"},
		{"leading space", " =1", " =1"},
		{"apostrophe already", "'=1", "''=1"},
		{"apostrophe", "'t was late", "''t was late"},
		{"date", "2026-11-20T14:30:00Z", "2026-11-20T14:30:00Z"},
		{"newline first", "\nline", "\nline"},
		{"non-ASCII", "ønske", "ønske"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := csvcell.Guard(tt.in); got != tt.want {
				t.Errorf("Guard(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if back := csvcell.Unguard(csvcell.Guard(tt.in)); back != tt.in {
				t.Errorf("Unguard(Guard(%q)) = %q", tt.in, back)
			}
		})
	}
}

func TestGuardRecordSurvivesCSV(t *testing.T) {
	t.Parallel()
	rec := csvcell.GuardRecord([]string{"=1+1", "a,b", "say \"hi\"", "-", "line\nbreak"})
	want := []string{"'=1+1", "a,b", "say \"hi\"", "'-", "line\nbreak"}
	if !slices.Equal(rec, want) {
		t.Fatalf("GuardRecord = %q, want %q", rec, want)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	got, err := csv.NewReader(&buf).Read()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("read back %q, want %q", got, want)
	}
}

func FuzzGuardRoundTrip(f *testing.F) {
	for _, seed := range []string{"", "=1", "'", "''=", "plain", "\t", "-"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g := csvcell.Guard(s)
		if g != "" && strings.ContainsRune("=+-@\t\r", rune(g[0])) {
			t.Fatalf("Guard(%q) = %q still begins with a formula character", s, g)
		}
		if back := csvcell.Unguard(g); back != s {
			t.Fatalf("Unguard(Guard(%q)) = %q", s, back)
		}
	})
}
