package identifiers_test

import (
	"strings"
	"testing"

	"github.com/safesignal/safesignal/domain/identifiers"
)

// description is a text of the maximum description length, 10,000 bytes.
func description(unit string) string {
	const size = 10_000
	return strings.Repeat(unit, size/len(unit)+1)[:size]
}

func BenchmarkDetect(b *testing.B) {
	texts := []struct{ name, text string }{
		{"prose", description("De patiënt kreeg om 14:30 10 mg morfine i.v.; de dubbele controle ontbrak. ")},
		{"prose with numbers", description("BSN 1234.56.782 en CPR 070761-4285 kregen 2,5 mg op 20-11-2026. ")},
		{"spaced digits", description("1 2 3 4 5 6 7 8 9 ")},
		{"grouped digits", description("123 456 782 ")},
		{"one digit run", description("1")},
	}
	for _, tt := range texts {
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(int64(len(tt.text)))
			for b.Loop() {
				identifiers.Detect(tt.text)
			}
		})
	}
}

func BenchmarkMask(b *testing.B) {
	text := description("BSN 1234.56.782 en CPR 070761-4285 kregen 2,5 mg op 20-11-2026. ")
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		identifiers.Mask(text)
	}
}
