package postgres

// SetExportPage makes s read exports in pages of n rows, so that a test
// with a few signals crosses page boundaries.
func SetExportPage(s *SignalDetail, n int) { s.exportPage = n }
