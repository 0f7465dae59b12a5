package sqlcommon

// TraceCols are the traces columns in the order the backends scan them.
const TraceCols = `id, device_id, session_id, direction, msg_id, content_type, body, decoded, created_at, codec`

// Trace statements.
const (
	// ListTraces and ListSessionTraces read the newest traces first.
	ListTraces        = `SELECT ` + TraceCols + ` FROM traces WHERE device_id = $1 ORDER BY id DESC LIMIT $2`
	ListSessionTraces = `SELECT ` + TraceCols + ` FROM traces WHERE device_id = $1 AND session_id = $2 ORDER BY id DESC LIMIT $3`
	// PruneTraces keeps the newest $1 traces of every device.
	PruneTraces = `DELETE FROM traces WHERE id IN (SELECT id FROM (SELECT id,
		row_number() OVER (PARTITION BY device_id ORDER BY id DESC) AS rn FROM traces) AS t WHERE rn > $1)`
	// PruneDeviceTraces deletes device $1's traces older than its ($2+1)-th
	// newest, found by walking traces_device backwards; nothing while the
	// device has at most $2 traces (the subquery is NULL).
	PruneDeviceTraces = `DELETE FROM traces WHERE device_id = $1 AND id <= (SELECT id FROM traces
		WHERE device_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`
)

// Housekeeping statements (storage.Housekeeper): each visits a bounded range
// of trace IDs (the primary key).
const (
	// TraceRangeEnd is the highest ID of the first $2 traces above $1.
	TraceRangeEnd = `SELECT max(id) FROM (SELECT id FROM traces WHERE id > $1 ORDER BY id LIMIT $2) AS r`
	// TraceCuts: for every device with a trace in ($1, $2], the ($3+1)-th
	// newest of all its traces, from a backward walk of traces_device (at
	// most $3+1 index entries per device); none when it has at most $3.
	TraceCuts = `SELECT device_id, cut FROM (SELECT d.device_id, (SELECT v.id FROM traces v
		WHERE v.device_id = d.device_id ORDER BY v.id DESC LIMIT 1 OFFSET $3) AS cut
		FROM (SELECT DISTINCT device_id FROM traces WHERE id > $1 AND id <= $2) AS d) AS c WHERE cut IS NOT NULL`
	// DeleteOldTraces deletes the traces in ($1, $2] created before $3.
	DeleteOldTraces = `DELETE FROM traces WHERE id > $1 AND id <= $2 AND created_at < $3`
)
