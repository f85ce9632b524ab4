package identifiers_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// The builders below make valid numbers from the published check-digit
// rules, written independently of the package's own implementation (check
// digits computed forwards, where the package verifies a weighted sum).

func digitsOf(t *testing.T, s string) []int {
	t.Helper()
	d := make([]int, len(s))
	for i, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("not a digit string: %q", s)
		}
		d[i] = int(c - '0')
	}
	return d
}

// bsn completes eight digits to a BSN: the ninth digit is the remainder of
// 9·d1 + 8·d2 + … + 2·d8 divided by 11, which must be below 10.
func bsn(t *testing.T, first8 string) string {
	t.Helper()
	d := digitsOf(t, first8)
	sum := 0
	for i, x := range d {
		sum += (9 - i) * x
	}
	check := sum % 11
	if len(d) != 8 || check == 10 {
		t.Fatalf("no BSN starts with %s", first8)
	}
	return first8 + strconv.Itoa(check)
}

// bsnFrom returns the first BSN at or after the eight-digit prefix.
func bsnFrom(t *testing.T, first8 string) string {
	t.Helper()
	n, err := strconv.Atoi(first8)
	if err != nil {
		t.Fatal(err)
	}
	for ; ; n++ {
		p := fmt.Sprintf("%08d", n)
		d := digitsOf(t, p)
		sum := 0
		for i, x := range d {
			sum += (9 - i) * x
		}
		if sum%11 != 10 {
			return bsn(t, p)
		}
	}
}

// noControl computes a Norwegian control digit with the given weights; ok
// is false when the control digit would be 10.
func noControl(d []int, weights []int) (int, bool) {
	sum := 0
	for i, w := range weights {
		sum += w * d[i]
	}
	k := 11 - sum%11
	switch k {
	case 11:
		return 0, true
	case 10:
		return 0, false
	}
	return k, true
}

// fnr returns the first Norwegian number for the six date digits with an
// individual number at or after from. The date digits are taken as given,
// so an impossible date yields a number with correct control digits.
func fnr(t *testing.T, ddmmyy string, from int) string {
	t.Helper()
	for ind := from; ind < 1000; ind++ {
		base := fmt.Sprintf("%s%03d", ddmmyy, ind)
		d := digitsOf(t, base)
		k1, ok := noControl(d, []int{3, 7, 6, 1, 8, 9, 4, 5, 2})
		if !ok {
			continue
		}
		k2, ok := noControl(append(d, k1), []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2})
		if !ok {
			continue
		}
		return fmt.Sprintf("%s%d%d", base, k1, k2)
	}
	t.Fatalf("no Norwegian number for %s from %d", ddmmyy, from)
	return ""
}

// luhnDigit is the Luhn check digit for nine digits: from the left, every
// other digit starting with the first is doubled and its digits summed.
func luhnDigit(t *testing.T, nine string) string {
	t.Helper()
	sum := 0
	for i, x := range digitsOf(t, nine) {
		if i%2 == 0 {
			p := 2 * x
			sum += p/10 + p%10
		} else {
			sum += x
		}
	}
	return strconv.Itoa((10 - sum%10) % 10)
}

// pnr makes a Swedish number YYMMDD-NNNC from the date and a three-digit
// birth number; sep is "-", "+" or "" (no separator).
func pnr(t *testing.T, yymmdd, nnn, sep string) string {
	t.Helper()
	return yymmdd + sep + nnn + luhnDigit(t, yymmdd+nnn)
}

// cprMod11 returns the first ten-digit CPR number for the date whose serial,
// at or after from, makes 4·d1 + 3·d2 + 2·d3 + 7·d4 + … + 1·d10 a multiple of 11.
func cprMod11(t *testing.T, ddmmyy string, from int) string {
	t.Helper()
	weights := []int{4, 3, 2, 7, 6, 5, 4, 3, 2, 1}
	for serial := from; serial < 10000; serial++ {
		s := fmt.Sprintf("%s%04d", ddmmyy, serial)
		sum := 0
		for i, x := range digitsOf(t, s) {
			sum += weights[i] * x
		}
		if sum%11 == 0 {
			return s
		}
	}
	t.Fatalf("no CPR number for %s", ddmmyy)
	return ""
}

// changeDigit adds one (mod 10) to the digit at the i-th digit position of s,
// counting digits only.
func changeDigit(s string, i int) string {
	b := []byte(s)
	for p := range b {
		if b[p] < '0' || b[p] > '9' {
			continue
		}
		if i == 0 {
			b[p] = '0' + (b[p]-'0'+1)%10
			return string(b)
		}
		i--
	}
	panic("digit position out of range")
}

// swapDigits exchanges the digits at digit positions i and i+1 of s; ok is
// false when they are equal, so that the swap changes nothing.
func swapDigits(s string, i int) (string, bool) {
	var pos []int
	for p := 0; p < len(s); p++ {
		if s[p] >= '0' && s[p] <= '9' {
			pos = append(pos, p)
		}
	}
	b := []byte(s)
	a, c := pos[i], pos[i+1]
	if b[a] == b[c] {
		return s, false
	}
	b[a], b[c] = b[c], b[a]
	return string(b), true
}

func digitCount(s string) int {
	return len(s) - len(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return -1
		}
		return r
	}, s))
}
