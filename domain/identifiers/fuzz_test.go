package identifiers_test

import (
	"strings"
	"testing"

	"github.com/safesignal/safesignal/domain/identifiers"
)

// fuzzSeeds are the inputs every fuzz target starts from, next to the corpus
// in testdata/fuzz.
func fuzzSeeds() []string {
	return []string{
		"",
		"BSN 1234.56.782 gemeld, 10 mg om 14:30",
		"fnr 01019000083, d-nr 410190 00077, h-nr 01459000026",
		"pnr 19121212-1212, 121212+1212, 701063-2391, 8506121238",
		"CPR-nr. 070761-4285, 1503450018, 290296-1234",
		"+31 6 12345678, +47 22 12 34 56, 06 1234 56 782",
		"NL91ABNA0417164300 € 123.456.782 123.456.782,00",
		"111222333 1234 56 782 123 456 782 123456782",
		"Patiënt «811228-9874» – æøå\u00a0123\u00a0456\u00a0782",
		"1 2 3 4 5 6 7 8 9 0 12 345 6789 012345 67890",
		"\xff123456782\xfe",
	}
}

func FuzzDetect(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		matches := identifiers.Detect(text)
		end := 0
		for _, m := range matches {
			if m.Start < end || m.End <= m.Start || m.End > len(text) {
				t.Fatalf("match %v out of range or overlapping (previous end %d, text %d bytes)", m, end, len(text))
			}
			end = m.End
			if m.Country == "" || m.Country != m.Kind.Country() {
				t.Fatalf("match %v: unknown kind or wrong country", m)
			}
			number := text[m.Start:m.End]
			if !isASCIIDigit(number[0]) || !isASCIIDigit(number[len(number)-1]) {
				t.Fatalf("match %v does not start and end with a digit", m)
			}
			if n := digitCount(number); n < 9 || n > 12 {
				t.Fatalf("match %v has %d digits", m, n)
			}
			// A number found in context is found on its own, as the same kind.
			alone := identifiers.Detect(number)
			if len(alone) != 1 || alone[0].Kind != m.Kind || alone[0].Start != 0 || alone[0].End != len(number) {
				t.Fatalf("match %v is found on its own as %v", m, alone)
			}
		}
	})
}

func FuzzMask(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		matches := identifiers.Detect(text)
		masked := identifiers.Mask(text)
		if left := identifiers.Detect(masked); len(left) != 0 {
			t.Fatalf("Detect still finds %v after masking", left)
		}
		if len(matches) == 0 && masked != text {
			t.Fatalf("nothing found, yet the text changed")
		}
		if got, min := strings.Count(masked, identifiers.Marker), len(matches); got < min {
			t.Fatalf("%d markers for %d matches", got, min)
		}
		same := identifiers.MaskWith(text, func(m identifiers.Match) string { return text[m.Start:m.End] })
		if same != text {
			t.Fatalf("masking each number with itself changed the text")
		}
	})
}

func isASCIIDigit(c byte) bool { return '0' <= c && c <= '9' }
