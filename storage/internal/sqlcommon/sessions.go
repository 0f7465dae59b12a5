package sqlcommon

// The statements of sessions, their large-object chunks, events, the tree
// cache, traces, trace housekeeping and API tokens that are the same in both
// dialects, written once with numbered placeholders ($1, …); SQLite takes
// them through Dialect. What differs (SQLite's rowid against PostgreSQL's
// ctid, the time columns' encoding, upserts with RETURNING, array
// parameters) stays in each backend.

// SessionCols are the sessions columns in the order the backends scan them.
const SessionCols = `device_id, session_id, token, state, version, closed, created_at, updated_at`

// Session reads.
const (
	GetSession        = `SELECT ` + SessionCols + ` FROM sessions WHERE device_id = $1 AND session_id = $2`
	GetSessionByToken = `SELECT ` + SessionCols + ` FROM sessions WHERE token = $1 AND token <> ''`
)

// Large-object chunks of a session (storage.ChunkStore).
const (
	AppendChunk  = `INSERT INTO session_chunks (device_id, session_id, seq, data) VALUES ($1, $2, $3, $4)`
	ReadChunks   = `SELECT data FROM session_chunks WHERE device_id = $1 AND session_id = $2 ORDER BY seq`
	DeleteChunks = `DELETE FROM session_chunks WHERE device_id = $1 AND session_id = $2`
)
