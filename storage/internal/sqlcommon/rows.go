package sqlcommon

import "github.com/omadm/omadm/storage"

// Rows is what the result sets of both drivers (database/sql's *sql.Rows,
// pgx.Rows) offer for reading; the readers below take it, and the caller
// closes the rows.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ReadChunkRows reads a ReadChunks result: the chunks' data concatenated in
// order, and how many chunks there were.
func ReadChunkRows(rows Rows) ([]byte, int, error) {
	var out []byte
	n := 0
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, 0, err
		}
		out = append(out, b...)
		n++
	}
	return out, n, rows.Err()
}

// ReadTraceCuts reads a TraceCuts result.
func ReadTraceCuts(rows Rows) ([]storage.TraceCut, error) {
	var cuts []storage.TraceCut
	for rows.Next() {
		var c storage.TraceCut
		if err := rows.Scan(&c.DeviceID, &c.ID); err != nil {
			return nil, err
		}
		cuts = append(cuts, c)
	}
	return cuts, rows.Err()
}
