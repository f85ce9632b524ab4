// Package identifiers finds personal identification numbers in free text and
// masks them, so that a description can be shown beyond the reporter's own
// organisation without naming a patient or a colleague.
//
// Detect recognises these numbers in the forms people write them:
//
//   - Dutch BSN (citizen service number): nine digits passing the elfproef,
//     written 123456782, 123.456.782, 123 456 782, 1234.56.782 or
//     1234 56 782 (one kind of separator throughout). BSNs written with
//     eight digits, their leading zero dropped, are not recognised: every
//     eight-digit run (dates such as 20261120, phone numbers) would be a
//     candidate.
//   - Norwegian fødselsnummer, D-number (day + 40) and H-number (month + 40):
//     eleven digits DDMMYYIIIKK, also written DDMMYY IIIKK or DDMMYY-IIIKK,
//     both control digits passing their modulus-11 check. The numbering
//     planned from 2032 and synthetic test numbers are not recognised.
//   - Swedish personnummer and samordningsnummer (day + 60): YYMMDD-NNNC,
//     YYMMDD+NNNC (a person aged 100 or more), YYMMDDNNNC, YYYYMMDD-NNNC and
//     YYYYMMDDNNNC, the Luhn check over the ten digits YYMMDDNNNC.
//   - Danish CPR number: DDMMYY-SSSS with any serial, since CPR numbers
//     issued after 2007 need not pass the old modulus-11 check; unhyphenated
//     as DDMMYYSSSS only when it does pass modulus-11, to keep ten-digit
//     order and phone numbers from being flagged.
//
// Every date must be a real calendar date. When the century is not written,
// 29 February is accepted in any year divisible by four. Ten digits can
// read validly both as a Swedish and as a Danish number (070761-4285, the
// widely used CPR example, also passes the Swedish Luhn check). Such a
// number is reported as Danish when it passes the Danish modulus-11 check,
// which every CPR number issued before 2007 does, and as Swedish otherwise;
// either way it is masked.
//
// A number counts only when it stands on its own: not inside a longer digit
// run, not glued to letters (as in an IBAN or a product code), not joined by
// a dot, hyphen, plus, slash, comma or colon to further digits (dates, times,
// decimals, amounts, phone numbers written 0031-...), not in a run of
// space-separated digit groups that starts with "+" (an international phone
// number), not right after a currency sign, and, when the number itself is
// written in space-separated groups, not next to further space-separated
// digit groups. Only ASCII digits are considered.
//
// Detect and Mask run in time linear in the length of the text.
package identifiers
