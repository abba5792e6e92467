package ingest

// SetParquetGroupRows makes WriteParquet write row groups of n rows (tests
// of multi-row-group files); the returned function restores the default.
// Not safe for parallel tests.
func SetParquetGroupRows(n int) (restore func()) {
	old := pqGroupRows
	pqGroupRows = n
	return func() { pqGroupRows = old }
}
