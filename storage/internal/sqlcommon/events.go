package sqlcommon

// EventCols are the events columns in the order the backends scan them.
const EventCols = `id, device_id, session_id, kind, type, source, target, format, mark, data, correlator, created_at`

// Event statements: the listing (one device, or all) and the retention
// sweep, which deletes at most $2 events created before $1 per statement.
const (
	ListEvents       = `SELECT ` + EventCols + ` FROM events WHERE device_id = $1 AND id > $2 ORDER BY id LIMIT $3`
	ListAllEvents    = `SELECT ` + EventCols + ` FROM events WHERE id > $1 ORDER BY id LIMIT $2`
	DeleteEventsStep = `DELETE FROM events WHERE id IN
		(SELECT id FROM events WHERE created_at < $1 ORDER BY created_at LIMIT $2)`
)
