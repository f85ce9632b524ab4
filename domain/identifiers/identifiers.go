package identifiers

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind names the sort of personal number a match is.
type Kind string

// The kinds of personal number Detect recognises.
const (
	KindBSN                 Kind = "bsn"
	KindNOFodselsnummer     Kind = "no_fodselsnummer"
	KindNODNumber           Kind = "no_d_number"
	KindNOHNumber           Kind = "no_h_number"
	KindSEPersonnummer      Kind = "se_personnummer"
	KindSESamordningsnummer Kind = "se_samordningsnummer"
	KindDKCPR               Kind = "dk_cpr"
)

// Kinds returns every kind Detect can report.
func Kinds() []Kind {
	return []Kind{
		KindBSN, KindNOFodselsnummer, KindNODNumber, KindNOHNumber,
		KindSEPersonnummer, KindSESamordningsnummer, KindDKCPR,
	}
}

// Country is the ISO 3166-1 alpha-2 code of the country that issues numbers
// of this kind, or "" for an unknown kind.
func (k Kind) Country() string {
	switch k {
	case KindBSN:
		return "NL"
	case KindNOFodselsnummer, KindNODNumber, KindNOHNumber:
		return "NO"
	case KindSEPersonnummer, KindSESamordningsnummer:
		return "SE"
	case KindDKCPR:
		return "DK"
	default:
		return ""
	}
}

func (k Kind) String() string { return string(k) }

// Match is one personal number found in a text: its kind and where it lies,
// as byte offsets, text[Start:End] being the number as written (with its
// separators). A Match never holds the number itself, so logging or printing
// one does not leak it.
type Match struct {
	Kind    Kind
	Country string
	Start   int
	End     int
}

func (m Match) String() string {
	return fmt.Sprintf("%s (%s) at bytes %d-%d", m.Kind, m.Country, m.Start, m.End)
}

// Marker is what Mask puts in place of each personal number.
const Marker = "[personal number removed]"

// Mask returns text with every personal number Detect finds replaced by
// Marker. Detect finds nothing in the result.
func Mask(text string) string {
	return MaskWith(text, func(Match) string { return Marker })
}

// MaskWith returns text with every personal number Detect finds replaced by
// what replace returns for its match, for instance a marker in the reader's
// language. A nil replace masks with Marker. Detect finds nothing in the
// result as long as the replacements contain no digits.
func MaskWith(text string, replace func(Match) string) string {
	matches := Detect(text)
	if len(matches) == 0 {
		return text
	}
	if replace == nil {
		replace = func(Match) string { return Marker }
	}
	var b strings.Builder
	b.Grow(len(text) + len(matches)*len(Marker))
	prev := 0
	for _, m := range matches {
		b.WriteString(text[prev:m.Start])
		b.WriteString(replace(m))
		prev = m.End
	}
	b.WriteString(text[prev:])
	return b.String()
}

// group is a maximal run of ASCII digits, text[start:end].
type group struct{ start, end int }

func (g group) len() int { return g.end - g.start }

// sep classifies what lies between two neighbouring digit groups.
type sep uint8

const (
	sepNone   sep = iota // no neighbour, or more than one character between
	sepSpace             // one space, no-break space or thin space
	sepDot               // one full stop
	sepHyphen            // one hyphen, en dash or minus sign
	sepPlus              // one plus sign
	sepOther             // one slash, comma, colon, underscore or em dash
)

// tight reports whether the separator binds the digits on either side into
// one longer number.
func (s sep) tight() bool { return s >= sepDot }

func classify(gap string) sep {
	r, size := utf8.DecodeRuneInString(gap)
	if size != len(gap) {
		return sepNone
	}
	switch r {
	case ' ', '\u00a0', '\u2009', '\u202f':
		return sepSpace
	case '.':
		return sepDot
	case '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2212':
		return sepHyphen
	case '+':
		return sepPlus
	case '/', ',', ':', '_', '\u2014':
		return sepOther
	default:
		return sepNone
	}
}

// candidate is a number of some kind written as groups[first..last].
type candidate struct {
	kind        Kind
	first, last int
	// spaced is set when the groups are separated by spaces, which makes
	// the number hard to tell from a longer space-separated one.
	spaced bool
}

// scan holds a text cut into digit groups.
type scan struct {
	text   string
	groups []group
	// joins[i] is the separator between groups[i-1] and groups[i];
	// joins[0] and joins[len(groups)] are sepNone.
	joins []sep
	// chunk[i] is the first group of the run of joined groups that
	// groups[i] belongs to.
	chunk []int
}

func newScan(text string) scan {
	s := scan{text: text}
	for i := 0; i < len(text); {
		if !isDigit(text[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(text) && isDigit(text[j]) {
			j++
		}
		s.groups = append(s.groups, group{i, j})
		i = j
	}
	s.joins = make([]sep, len(s.groups)+1)
	s.chunk = make([]int, len(s.groups))
	for i := 1; i < len(s.groups); i++ {
		s.joins[i] = classify(text[s.groups[i-1].end:s.groups[i].start])
		if s.joins[i] != sepNone {
			s.chunk[i] = s.chunk[i-1]
		} else {
			s.chunk[i] = i
		}
	}
	return s
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Detect returns the personal numbers in text, ordered by position and not
// overlapping. See the package documentation for the forms recognised.
func Detect(text string) []Match {
	s := newScan(text)
	if len(s.groups) == 0 {
		return nil
	}
	var plain, spaced []candidate
	for i := range s.groups {
		c, ok := s.read(i)
		if !ok || !s.standsAlone(c) {
			continue
		}
		if c.spaced {
			spaced = append(spaced, c)
		} else {
			plain = append(plain, c)
		}
	}
	// A number written in space-separated groups counts only if every
	// space-separated digit group next to it is itself part of a number
	// found; otherwise it may be a slice of a longer grouped number.
	if len(spaced) > 0 {
		covered := make([]bool, len(s.groups))
		for _, c := range plain {
			for g := c.first; g <= c.last; g++ {
				covered[g] = true
			}
		}
		kept := spaced[:0]
		for _, c := range spaced {
			if s.joins[c.first] == sepSpace && !covered[c.first-1] {
				continue
			}
			if s.joins[c.last+1] == sepSpace && !covered[c.last+1] {
				continue
			}
			kept = append(kept, c)
		}
		spaced = kept
	}
	matches := make([]Match, 0, len(plain)+len(spaced))
	add := func(c candidate) {
		start, end := s.groups[c.first].start, s.groups[c.last].end
		if n := len(matches); n > 0 && matches[n-1].End > start {
			return
		}
		matches = append(matches, Match{Kind: c.kind, Country: c.kind.Country(), Start: start, End: end})
	}
	for len(plain) > 0 || len(spaced) > 0 {
		if len(spaced) == 0 || (len(plain) > 0 && plain[0].first < spaced[0].first) {
			add(plain[0])
			plain = plain[1:]
		} else {
			add(spaced[0])
			spaced = spaced[1:]
		}
	}
	if len(matches) == 0 {
		return nil
	}
	return matches
}

// read tries the written forms that start with groups[i].
func (s scan) read(i int) (candidate, bool) {
	var buf [12]byte
	g := s.groups
	digits := func(first, last int) []byte {
		d := buf[:0]
		for k := first; k <= last; k++ {
			for p := g[k].start; p < g[k].end; p++ {
				d = append(d, s.text[p]-'0')
			}
		}
		return d
	}
	next := func(k int) (int, sep) {
		if i+k >= len(g) {
			return 0, sepNone
		}
		return g[i+k].len(), s.joins[i+k]
	}
	one := func(kind Kind, ok bool) (candidate, bool) {
		return candidate{kind: kind, first: i, last: i}, ok
	}
	switch g[i].len() {
	case 9:
		return one(KindBSN, validBSN(digits(i, i)))
	case 10:
		return one(tenDigits(digits(i, i), sepNone))
	case 11:
		return one(noKind(digits(i, i)))
	case 12:
		d := digits(i, i)
		return one(seLong(d))
	case 3, 4:
		// BSN as 123.456.782, 123 456 782, 1234.56.782 or 1234 56 782.
		n1, s1 := next(1)
		n2, s2 := next(2)
		if s1 != s2 || (s1 != sepSpace && s1 != sepDot) || n2 != 3 ||
			(g[i].len() == 3 && n1 != 3) || (g[i].len() == 4 && n1 != 2) {
			return candidate{}, false
		}
		return candidate{kind: KindBSN, first: i, last: i + 2, spaced: s1 == sepSpace}, validBSN(digits(i, i+2))
	case 6:
		n1, s1 := next(1)
		c := candidate{first: i, last: i + 1, spaced: s1 == sepSpace}
		switch {
		case n1 == 4 && (s1 == sepHyphen || s1 == sepPlus):
			kind, ok := tenDigits(digits(i, i+1), s1)
			c.kind = kind
			return c, ok
		case n1 == 5 && (s1 == sepHyphen || s1 == sepSpace):
			kind, ok := noKind(digits(i, i+1))
			c.kind = kind
			return c, ok
		}
	case 8:
		if n1, s1 := next(1); n1 == 4 && s1 == sepHyphen {
			kind, ok := seLong(digits(i, i+1))
			return candidate{kind: kind, first: i, last: i + 1}, ok
		}
	}
	return candidate{}, false
}

// tenDigits reads a Swedish or Danish number of ten digits, written without
// a separator (sepNone), with a hyphen or, Swedish only, with a plus sign.
// Read both ways, the Danish reading wins when it passes modulus-11, the
// Swedish one when it passes Luhn, and a hyphenated Danish number with a
// valid date counts last.
func tenDigits(d []byte, written sep) (Kind, bool) {
	if written != sepPlus && validCPRDate(d) && cprModulus11(d) {
		return KindDKCPR, true
	}
	if kind, ok := seKind(d, 0); ok {
		return kind, true
	}
	if written == sepHyphen && validCPRDate(d) {
		return KindDKCPR, true
	}
	return "", false
}

// seLong reads a Swedish number written with a four-digit year, YYYYMMDDNNNC.
func seLong(d []byte) (Kind, bool) {
	century := twoDigits(d[0:2])
	if century < 18 || century > 20 {
		return "", false
	}
	return seKind(d[2:], century)
}

// standsAlone reports whether the candidate is a number of its own rather
// than part of something longer.
func (s scan) standsAlone(c candidate) bool {
	start, end := s.groups[c.first].start, s.groups[c.last].end
	if s.joins[c.first].tight() || s.joins[c.last+1].tight() {
		return false
	}
	before, size := utf8.DecodeLastRuneInString(s.text[:start])
	after, _ := utf8.DecodeRuneInString(s.text[end:])
	if isWordRune(before) || isWordRune(after) {
		return false
	}
	// An amount: "€ 123.456.782", "€123456782".
	if before == ' ' || before == '\u00a0' {
		before, _ = utf8.DecodeLastRuneInString(s.text[:start-size])
	}
	if unicode.Is(unicode.Sc, before) {
		return false
	}
	// An international phone number: "+47 22 12 34 56".
	head := s.groups[s.chunk[c.first]].start
	lead, _ := utf8.DecodeLastRuneInString(s.text[:head])
	return lead != '+'
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}
