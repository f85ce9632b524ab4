// Package csvcell keeps CSV cells from being read as formulas when a
// spreadsheet opens the file ("CSV injection"). A cell that begins with
// '=', '+', '-' or '@', or with a tab or carriage return, is evaluated by
// Excel, LibreOffice Calc and Google Sheets; Guard prefixes such a cell
// with an apostrophe, which spreadsheets take as "text, do not evaluate".
//
// A cell that begins with an apostrophe gets one more, so that the guard
// can be undone: a program reading the file strips one leading apostrophe
// from every cell that has one (Unguard) and gets the text back exactly.
//
// Quoting (RFC 4180) is encoding/csv's work and does not protect: a quoted
// "=1+1" is still a formula to a spreadsheet.
package csvcell

// Guard returns s with a leading apostrophe when a spreadsheet would
// evaluate it or it begins with an apostrophe, else s unchanged.
func Guard(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\'':
		return "'" + s
	}
	return s
}

// Unguard undoes Guard.
func Unguard(s string) string {
	if len(s) > 0 && s[0] == '\'' {
		return s[1:]
	}
	return s
}

// GuardRecord guards every cell of a record in place and returns it.
func GuardRecord(record []string) []string {
	for i, s := range record {
		record[i] = Guard(s)
	}
	return record
}
