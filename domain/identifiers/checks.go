package identifiers

// The check-digit and date rules of each national number. Every function
// takes the digits as values 0-9, never as characters.

// twoDigits reads d[0]d[1] as a number.
func twoDigits(d []byte) int { return int(d[0])*10 + int(d[1]) }

// weightedSum is the sum of d[i]*w[i]; d and w have the same length.
func weightedSum(d []byte, w []int) int {
	sum := 0
	for i, x := range w {
		sum += int(d[i]) * x
	}
	return sum
}

// validBSN applies the Dutch "elfproef" for a citizen service number: the
// weights 9..2 for the first eight digits and -1 for the last give a
// multiple of 11. The all-zero number passes the sum but is no number.
func validBSN(d []byte) bool {
	sum := weightedSum(d, []int{9, 8, 7, 6, 5, 4, 3, 2, -1})
	if sum == 0 {
		return false
	}
	return sum%11 == 0
}

// noKind reads a Norwegian 11-digit number DDMMYY III K1 K2: both control
// digits must satisfy their modulus-11 check (a control digit that would
// have to be 10 means the individual number is never issued, which the
// weight-1 form below rejects too), and DDMMYY must be a date, with 40 added
// to the day for a D-number and to the month for an H-number.
func noKind(d []byte) (Kind, bool) {
	if weightedSum(d, []int{3, 7, 6, 1, 8, 9, 4, 5, 2, 1})%11 != 0 ||
		weightedSum(d, []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1})%11 != 0 {
		return "", false
	}
	day, month, yy := twoDigits(d[0:2]), twoDigits(d[2:4]), twoDigits(d[4:6])
	kind := KindNOFodselsnummer
	switch {
	case day > 40 && month > 40:
		return "", false
	case day > 40:
		kind, day = KindNODNumber, day-40
	case month > 40:
		kind, month = KindNOHNumber, month-40
	}
	if !validShortDate(yy, month, day) {
		return "", false
	}
	return kind, true
}

// luhn reports whether the digits pass the Luhn (modulus-10) check, the
// last digit being the check digit.
func luhn(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		x := int(d[i])
		if double {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
		double = !double
	}
	return sum%10 == 0
}

// seKind reads the ten digits YYMMDDNNNC of a Swedish personnummer or, with
// 60 added to the day, samordningsnummer. century is 0 when the number was
// written with a two-digit year, otherwise 18, 19 or 20.
func seKind(d []byte, century int) (Kind, bool) {
	if !luhn(d) {
		return "", false
	}
	yy, month, day := twoDigits(d[0:2]), twoDigits(d[2:4]), twoDigits(d[4:6])
	kind := KindSEPersonnummer
	if day > 60 {
		kind, day = KindSESamordningsnummer, day-60
	}
	if century == 0 {
		if !validShortDate(yy, month, day) {
			return "", false
		}
	} else if !validDate(century*100+yy, month, day) {
		return "", false
	}
	return kind, true
}

// validCPRDate reports whether the first six digits DDMMYY of a Danish CPR
// number are a date.
func validCPRDate(d []byte) bool {
	return validShortDate(twoDigits(d[4:6]), twoDigits(d[2:4]), twoDigits(d[0:2]))
}

// cprModulus11 is the check CPR numbers issued before October 2007 all
// pass: the weights 4 3 2 7 6 5 4 3 2 1 give a multiple of 11.
func cprModulus11(d []byte) bool {
	return weightedSum(d, []int{4, 3, 2, 7, 6, 5, 4, 3, 2, 1})%11 == 0
}

// validShortDate reports whether a date written with a two-digit year
// exists in some century: 29 February is accepted in every year divisible
// by four, because the century is not always known from the number.
func validShortDate(yy, month, day int) bool {
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	if month == 2 && day == 29 {
		return yy%4 == 0
	}
	return day <= daysIn(2001, month)
}

// validDate reports whether the date exists in the Gregorian calendar.
func validDate(year, month, day int) bool {
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	return day <= daysIn(year, month)
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	default:
		return 31
	}
}
