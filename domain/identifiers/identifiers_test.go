package identifiers_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/safesignal/safesignal/domain/identifiers"
)

// found is a match as the tests compare it: its kind and the number as
// written in the text.
type found struct {
	kind   identifiers.Kind
	number string
}

type detectCase struct {
	name string
	text string
	want []found
}

func (c detectCase) run(t *testing.T) {
	t.Helper()
	matches := identifiers.Detect(c.text)
	var got []found
	for _, m := range matches {
		if m.Start < 0 || m.End > len(c.text) || m.Start >= m.End {
			t.Fatalf("match %v out of range for a text of %d bytes", m, len(c.text))
		}
		if m.Country != m.Kind.Country() || m.Country == "" {
			t.Errorf("match %v: country %q, want %q", m, m.Country, m.Kind.Country())
		}
		got = append(got, found{m.Kind, c.text[m.Start:m.End]})
	}
	if !reflect.DeepEqual(got, c.want) {
		t.Errorf("Detect(%q)\n got: %v\nwant: %v", c.text, got, c.want)
	}
}

func runDetect(t *testing.T, cases []detectCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t)
		})
	}
}

// group writes s in groups joined by sep: first groups of the given sizes,
// then the rest.
func group(s, sep string, sizes ...int) string {
	var parts []string
	for _, n := range sizes {
		parts = append(parts, s[:n])
		s = s[n:]
	}
	return strings.Join(append(parts, s), sep)
}

// Well-known published example numbers.
const (
	bsnExample      = "123456782"   // the BSN used in Dutch government examples
	bsnTestExample  = "111222333"   // a BSN used in Dutch test environments
	seTolvan        = "121212-1212" // Tolvan Tolvansson, the Swedish tax agency's example
	seExample       = "811228-9874" // example in the Swedish tax agency's description
	seSamordning    = "701063-2391" // samordningsnummer example (born 3 October 1970)
	dkCPRExample    = "070761-4285" // the widely used CPR example, passes modulus-11
	dkCPRExampleRaw = "0707614285"
)

// TestPublishedExamplesAgreeWithBuilders checks the test's own check-digit
// builders against the published example numbers, so that constructed
// numbers below are valid for the same reason the published ones are.
func TestPublishedExamplesAgreeWithBuilders(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, built, published string }{
		{"bsn example", bsn(t, "12345678"), bsnExample},
		{"bsn test", bsn(t, "11122233"), bsnTestExample},
		{"tolvan", pnr(t, "121212", "121", "-"), seTolvan},
		{"se example", pnr(t, "811228", "987", "-"), seExample},
		{"samordningsnummer", pnr(t, "701063", "239", "-"), seSamordning},
		{"cpr example", cprMod11(t, "070761", 4285), dkCPRExampleRaw},
	}
	for _, tt := range tests {
		if tt.built != tt.published {
			t.Errorf("%s: built %s, published %s", tt.name, tt.built, tt.published)
		}
	}
}

func TestDetectValid(t *testing.T) {
	t.Parallel()
	b0 := bsnFrom(t, "01234567")
	noBorn := fnr(t, "010190", 0)
	noLeap := fnr(t, "290296", 100)
	noD := fnr(t, "410190", 0)
	noH := fnr(t, "014590", 0)
	sePlain := pnr(t, "850612", "123", "")
	seLeap := pnr(t, "000229", "456", "-")
	seLong := "20" + pnr(t, "000229", "456", "")
	dkPlain := cprMod11(t, "150345", 0)

	cases := []detectCase{
		// BSN
		{"bsn plain", "BSN " + bsnExample, []found{{identifiers.KindBSN, bsnExample}}},
		{"bsn test number", "bsn: " + bsnTestExample + ".", []found{{identifiers.KindBSN, bsnTestExample}}},
		{"bsn with leading zero", b0, []found{{identifiers.KindBSN, b0}}},
		{"bsn glued to a colon", "BSN:" + bsnExample, []found{{identifiers.KindBSN, bsnExample}}},
		{"bsn in parentheses", "(" + bsnExample + ")", []found{{identifiers.KindBSN, bsnExample}}},
		{"bsn 3.3.3", "nr. 123.456.782 gemeld", []found{{identifiers.KindBSN, "123.456.782"}}},
		{"bsn 4.2.3 as on the identity card", "1234.56.782", []found{{identifiers.KindBSN, "1234.56.782"}}},
		{"bsn 3 3 3", "BSN 123 456 782, opname", []found{{identifiers.KindBSN, "123 456 782"}}},
		{"bsn 4 2 3", "BSN 1234 56 782", []found{{identifiers.KindBSN, "1234 56 782"}}},
		{"bsn with no-break spaces", "BSN 123\u00a0456\u00a0782", []found{{identifiers.KindBSN, "123\u00a0456\u00a0782"}}},
		{"bsn next to a dose", "BSN 111222333 10 mg", []found{{identifiers.KindBSN, bsnTestExample}}},
		{"two bsns", bsnExample + " en " + bsnTestExample, []found{{identifiers.KindBSN, bsnExample}, {identifiers.KindBSN, bsnTestExample}}},
		{"plain and grouped bsn side by side", bsnTestExample + " 1234 56 782", []found{{identifiers.KindBSN, bsnTestExample}, {identifiers.KindBSN, "1234 56 782"}}},

		// Norway
		{"fødselsnummer plain", "fnr " + noBorn, []found{{identifiers.KindNOFodselsnummer, noBorn}}},
		{"fødselsnummer 6 5", "fnr " + group(noBorn, " ", 6), []found{{identifiers.KindNOFodselsnummer, group(noBorn, " ", 6)}}},
		{"fødselsnummer 6-5", group(noBorn, "-", 6), []found{{identifiers.KindNOFodselsnummer, group(noBorn, "-", 6)}}},
		{"fødselsnummer on a leap day", noLeap, []found{{identifiers.KindNOFodselsnummer, noLeap}}},
		{"d-number", "d-nr. " + noD, []found{{identifiers.KindNODNumber, noD}}},
		{"h-number", noH, []found{{identifiers.KindNOHNumber, noH}}},

		// Sweden
		{"personnummer tolvan", "pnr " + seTolvan, []found{{identifiers.KindSEPersonnummer, seTolvan}}},
		{"personnummer tolvan unhyphenated", "1212121212", []found{{identifiers.KindSEPersonnummer, "1212121212"}}},
		{"personnummer example", seExample + ",", []found{{identifiers.KindSEPersonnummer, seExample}}},
		{"personnummer with plus", "121212+1212", []found{{identifiers.KindSEPersonnummer, "121212+1212"}}},
		{"personnummer twelve digits", "191212121212", []found{{identifiers.KindSEPersonnummer, "191212121212"}}},
		{"personnummer eight-four", "19121212-1212", []found{{identifiers.KindSEPersonnummer, "19121212-1212"}}},
		{"personnummer en dash", "121212\u20131212", []found{{identifiers.KindSEPersonnummer, "121212\u20131212"}}},
		{"personnummer constructed", sePlain, []found{{identifiers.KindSEPersonnummer, sePlain}}},
		{"personnummer leap day", seLeap, []found{{identifiers.KindSEPersonnummer, seLeap}}},
		{"personnummer leap day 2000", seLong, []found{{identifiers.KindSEPersonnummer, seLong}}},
		{"samordningsnummer", seSamordning, []found{{identifiers.KindSESamordningsnummer, seSamordning}}},
		{"samordningsnummer unhyphenated", "7010632391", []found{{identifiers.KindSESamordningsnummer, "7010632391"}}},

		// Denmark
		{"cpr example", "CPR-nr. " + dkCPRExample, []found{{identifiers.KindDKCPR, dkCPRExample}}},
		{"cpr example unhyphenated", dkCPRExampleRaw, []found{{identifiers.KindDKCPR, dkCPRExampleRaw}}},
		{"cpr without modulus-11, hyphenated", "150345-1234", []found{{identifiers.KindDKCPR, "150345-1234"}}},
		{"cpr leap day", "290296-1234", []found{{identifiers.KindDKCPR, "290296-1234"}}},
		{"cpr modulus-11 unhyphenated", dkPlain, []found{{identifiers.KindDKCPR, dkPlain}}},
	}
	runDetect(t, cases)
}

func TestDetectMixedLanguages(t *testing.T) {
	t.Parallel()
	noBorn := fnr(t, "010190", 0)
	noD := fnr(t, "410190", 0)
	cases := []detectCase{
		{
			"nl",
			"Patiënt (BSN 1234.56.782) kreeg om 14:30 10 mg morfine i.v. op 20-11-2026; afdeling gebeld via 06-12345678.",
			[]found{{identifiers.KindBSN, "1234.56.782"}},
		},
		{
			"nb",
			"Pasienten, fødselsnummer " + noBorn + ", fikk 2,5 mg midazolam kl. 08.15 den 20.11.2026. Ring +47 22 12 34 56.",
			[]found{{identifiers.KindNOFodselsnummer, noBorn}},
		},
		{
			"nn",
			"Pasienten med d-nummer " + group(noD, " ", 6) + " vart send heim 20. november 2026 etter 3 dagar på rom 12.",
			[]found{{identifiers.KindNODNumber, group(noD, " ", 6)}},
		},
		{
			"sv",
			"Patienten (personnummer 19121212-1212) fick 500 mg paracetamol kl. 14.30; anhörig har samordningsnummer " +
				seSamordning + ". Tel 070-123 45 67.",
			[]found{{identifiers.KindSEPersonnummer, "19121212-1212"}, {identifiers.KindSESamordningsnummer, seSamordning}},
		},
		{
			"da",
			"Patienten med CPR-nr. " + dkCPRExample + " fik 0,5 mg/kg kl. 10:15 den 20/11-2026. Tlf. +45 33 12 34 56.",
			[]found{{identifiers.KindDKCPR, dkCPRExample}},
		},
		{
			"en",
			"Wristbands swapped: BSN " + bsnExample + " and CPR 150345-1234 on ward 7, bed 3; 1000 ml NaCl 0.9% at 2026-11-20T14:30.",
			[]found{{identifiers.KindBSN, bsnExample}, {identifiers.KindDKCPR, "150345-1234"}},
		},
		{
			"all four countries in one text",
			"NL " + bsnTestExample + " / NO " + noBorn + " / SE " + seExample + " / DK " + dkCPRExample,
			[]found{
				{identifiers.KindBSN, bsnTestExample}, {identifiers.KindNOFodselsnummer, noBorn},
				{identifiers.KindSEPersonnummer, seExample}, {identifiers.KindDKCPR, dkCPRExample},
			},
		},
	}
	runDetect(t, cases)
}

// nearMisses returns the texts with one digit changed and with two
// neighbouring digits exchanged, for a number whose check catches both.
func nearMisses(t *testing.T, name, number string) []detectCase {
	t.Helper()
	var cases []detectCase
	n := digitCount(number)
	for i := 0; i < n; i++ {
		cases = append(cases, detectCase{name: fmt.Sprintf("%s digit %d changed", name, i), text: changeDigit(number, i)})
		if i+1 < n {
			if s, ok := swapDigits(number, i); ok {
				cases = append(cases, detectCase{name: fmt.Sprintf("%s digits %d,%d swapped", name, i, i+1), text: s})
			}
		}
	}
	return cases
}

func TestDetectNearMisses(t *testing.T) {
	t.Parallel()
	noBorn := fnr(t, "010190", 0)
	// Swedish and Danish numbers whose date does not read as a date the
	// other way round, so a changed digit cannot turn one into the other.
	sePlain := pnr(t, "850612", "123", "")
	seHyphen := pnr(t, "850612", "123", "-")
	dkPlain := cprMod11(t, "150345", 0)

	var cases []detectCase
	cases = append(cases, nearMisses(t, "bsn", bsnExample)...)
	cases = append(cases, nearMisses(t, "bsn dotted", "1234.56.782")...)
	cases = append(cases, nearMisses(t, "fødselsnummer", noBorn)...)
	cases = append(cases, nearMisses(t, "personnummer", sePlain)...)
	cases = append(cases, nearMisses(t, "personnummer hyphenated", seHyphen)...)
	cases = append(cases, nearMisses(t, "cpr", dkPlain)...)

	misses := []detectCase{
		// Too short, too long, wrongly grouped.
		{name: "bsn with its leading zero dropped", text: bsnFrom(t, "01234567")[1:]},
		{name: "eight digits", text: "12345678"},
		{name: "all zeros pass the sum but are no bsn", text: "000000000"},
		{name: "bsn inside a longer run", text: "00" + bsnExample + "00"},
		{name: "bsn with a digit before", text: "9" + bsnExample},
		{name: "bsn with a digit after", text: bsnExample + "9"},
		{name: "bsn mixed separators", text: "123.456 782"},
		{name: "bsn wrongly grouped", text: "12.345.67.82"},
		{name: "bsn grouped in a longer grouped number", text: "1.123.456.782"},
		{name: "bsn followed by a grouped digit", text: "123.456.782.1"},
		{name: "fødselsnummer too short", text: noBorn[:10]},
		{name: "fødselsnummer grouped wrongly", text: group(noBorn, " ", 5)},
		{name: "personnummer three-digit tail", text: "121212-121"},
		{name: "personnummer plus in long form", text: "19121212+1212"},
		{name: "cpr five-digit tail", text: "150345-12345"},
		{name: "cpr with a space", text: "150345 1234"},

		// Impossible dates, with correct check digits.
		{name: "fødselsnummer 31 February", text: fnr(t, "310290", 0)},
		{name: "fødselsnummer 29 February 1997", text: fnr(t, "290297", 0)},
		{name: "fødselsnummer month 13", text: fnr(t, "011390", 0)},
		{name: "fødselsnummer day 0", text: fnr(t, "000190", 0)},
		{name: "d-number day 32", text: fnr(t, "720190", 0)},
		{name: "d- and h-number at once", text: fnr(t, "414590", 0)},
		{name: "personnummer 30 February", text: pnr(t, "850230", "123", "-")},
		{name: "personnummer month 13", text: pnr(t, "851301", "123", "-")},
		{name: "personnummer day 0", text: pnr(t, "850100", "123", "-")},
		{name: "samordningsnummer day 32", text: pnr(t, "850192", "123", "-")},
		{name: "personnummer 29 February 1900", text: "19" + pnr(t, "000229", "456", "")},
		{name: "personnummer in the 1700s", text: "17" + pnr(t, "850612", "123", "")},
		{name: "cpr 30 February", text: "300245-1234"},
		{name: "cpr 31 April", text: "310445-1234"},
		{name: "cpr 29 February 1945", text: "290245-1234"},
		{name: "cpr day 0", text: "001245-1234"},
		{name: "cpr month 13", text: "151345-1234"},

		// Dates, times, doses.
		{name: "iso date", text: "2026-11-20"},
		{name: "dutch date", text: "20-11-2026"},
		{name: "norwegian date", text: "20.11.2026"},
		{name: "danish date", text: "20/11-2026"},
		{name: "compact date", text: "20261120"},
		{name: "date and time", text: "2026-11-20 14:30:00"},
		{name: "dose", text: "10 mg"},
		{name: "dose per kilogram", text: "0,5 mg/kg"},
		{name: "infusion", text: "1000 ml NaCl 0,9% in 24 uur, 2 x 500 mg"},
		{name: "time with colon", text: "14:30"},
		{name: "time with dot", text: "kl. 14.30"},

		// Phone numbers.
		{name: "dutch mobile", text: "06-12345678"},
		{name: "dutch international", text: "+31 6 12345678"},
		{name: "amsterdam", text: "+31 20 123 4567"},
		{name: "norwegian", text: "+47 22 12 34 56"},
		{name: "swedish mobile", text: "070-123 45 67"},
		{name: "swedish international", text: "+46 70 123 45 67"},
		{name: "danish", text: "+45 33 12 34 56"},
		{name: "international with a valid bsn", text: "+31 " + bsnFrom(t, "61234567")},
		{name: "international with a valid grouped bsn", text: "+31 1234 56 782"},
		{name: "international with a valid personnummer", text: "+46 " + sePlain},
		{name: "international with a valid fødselsnummer", text: "+47 " + noBorn},
		{name: "trunk prefix with a valid bsn", text: "0031-" + bsnExample},
		{name: "spaced phone containing a grouped bsn", text: "06 1234 56 782"},

		// Bank accounts, amounts, decimals, codes.
		{name: "dutch iban", text: "NL91 ABNA 0417 1643 00"},
		{name: "dutch iban unspaced", text: "NL91ABNA0417164300"},
		{name: "norwegian iban", text: "NO93 8601 1117 947"},
		{name: "swedish iban", text: "SE45 5000 0000 0583 9825 7466"},
		{name: "danish iban", text: "DK50 0040 0440 1162 43"},
		{name: "valid cpr inside an iban", text: "NL02ABNA" + dkPlain},
		{name: "valid bsn after letters", text: "ID" + bsnExample},
		{name: "valid bsn before letters", text: bsnExample + "abc"},
		{name: "valid bsn before an underscore", text: bsnExample + "_1"},
		{name: "amount in euros", text: "€ 123.456.782"},
		{name: "amount in euros unspaced", text: "€123456782"},
		{name: "amount with cents", text: "123.456.782,00"},
		{name: "decimal", text: bsnExample + ".5"},
		{name: "slash-joined", text: bsnExample + "/2"},
		{name: "ratio", text: "1:" + bsnExample},
	}
	cases = append(cases, misses...)
	runDetect(t, cases)
}

func TestMask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, want string
	}{
		{"nothing to mask", "10 mg om 14:30", "10 mg om 14:30"},
		{"empty", "", ""},
		{"one number", "BSN 1234.56.782 gemeld.", "BSN [personal number removed] gemeld."},
		{
			"several numbers in several forms",
			"CPR " + dkCPRExample + ", pnr " + seTolvan + " og BSN 123 456 782 (10 mg).",
			"CPR [personal number removed], pnr [personal number removed] og BSN [personal number removed] (10 mg).",
		},
		{"number at both ends", bsnExample + " x " + bsnTestExample, "[personal number removed] x [personal number removed]"},
		{"multi-byte text around", "Patiënt «" + seExample + "» – æøå", "Patiënt «[personal number removed]» – æøå"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := identifiers.Mask(tt.text); got != tt.want {
				t.Errorf("Mask(%q)\n got: %q\nwant: %q", tt.text, got, tt.want)
			}
			if left := identifiers.Detect(identifiers.Mask(tt.text)); len(left) != 0 {
				t.Errorf("Detect finds %v after masking", left)
			}
		})
	}
}

func TestMaskWith(t *testing.T) {
	t.Parallel()
	text := "BSN " + bsnExample + ", CPR " + dkCPRExample + "."
	tests := []struct {
		name    string
		replace func(identifiers.Match) string
		want    string
	}{
		{"per language", func(identifiers.Match) string { return "[persoonsnummer verwijderd]" },
			"BSN [persoonsnummer verwijderd], CPR [persoonsnummer verwijderd]."},
		{"per kind", func(m identifiers.Match) string { return "<" + string(m.Kind) + "/" + m.Country + ">" },
			"BSN <bsn/NL>, CPR <dk_cpr/DK>."},
		{"nil is the default marker", nil, "BSN [personal number removed], CPR [personal number removed]."},
		{"identity restores the text", func(m identifiers.Match) string { return text[m.Start:m.End] }, text},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := identifiers.MaskWith(text, tt.replace); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestOutputNeverShowsTheNumber prints every match and kind in every way fmt
// can and looks for the number in the output.
func TestOutputNeverShowsTheNumber(t *testing.T) {
	t.Parallel()
	numbers := []string{bsnExample, "1234.56.782", fnr(t, "010190", 0), seTolvan, seSamordning, dkCPRExample}
	for _, n := range numbers {
		t.Run(n, func(t *testing.T) {
			t.Parallel()
			matches := identifiers.Detect("nr " + n)
			if len(matches) != 1 {
				t.Fatalf("want one match, got %v", matches)
			}
			m := matches[0]
			digitsOnly := strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, n)
			for _, out := range []string{
				m.String(), fmt.Sprint(m), fmt.Sprintf("%v %+v %#v %s %q", m, m, m, m, m),
				m.Kind.String(), fmt.Sprintf("%#v", matches),
			} {
				if strings.Contains(out, n) || strings.Contains(out, digitsOnly) || strings.Contains(out, digitsOnly[:6]) {
					t.Errorf("output %q shows the number", out)
				}
			}
		})
	}
}

func TestKinds(t *testing.T) {
	t.Parallel()
	want := map[identifiers.Kind]string{
		identifiers.KindBSN:                 "NL",
		identifiers.KindNOFodselsnummer:     "NO",
		identifiers.KindNODNumber:           "NO",
		identifiers.KindNOHNumber:           "NO",
		identifiers.KindSEPersonnummer:      "SE",
		identifiers.KindSESamordningsnummer: "SE",
		identifiers.KindDKCPR:               "DK",
	}
	kinds := identifiers.Kinds()
	if len(kinds) != len(want) {
		t.Fatalf("Kinds() = %v, want the %d kinds", kinds, len(want))
	}
	for _, k := range kinds {
		if got := k.Country(); got != want[k] {
			t.Errorf("%s.Country() = %q, want %q", k, got, want[k])
		}
	}
	if got := identifiers.Kind("passport").Country(); got != "" {
		t.Errorf("unknown kind has country %q", got)
	}
	kinds[0] = "changed"
	if identifiers.Kinds()[0] != identifiers.KindBSN {
		t.Error("Kinds() shares its slice between calls")
	}
}
