package sqlcommon

// TreeCols are the tree_nodes columns in the order the backends scan them.
const TreeCols = `device_id, uri, format, type, value, updated_at`

// Tree cache statements. The prefix forms take the bounds of PrefixRange
// as $2, $3 and $4.
const (
	PutTreeNode = `INSERT INTO tree_nodes (` + TreeCols + `) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (device_id, uri) DO UPDATE SET format = excluded.format, type = excluded.type,
		value = excluded.value, updated_at = excluded.updated_at`
	ListTree         = `SELECT ` + TreeCols + ` FROM tree_nodes WHERE device_id = $1 ORDER BY uri`
	ListTreePrefix   = `SELECT ` + TreeCols + ` FROM tree_nodes WHERE device_id = $1 AND (uri = $2 OR (uri >= $3 AND uri < $4)) ORDER BY uri`
	DeleteTree       = `DELETE FROM tree_nodes WHERE device_id = $1`
	DeleteTreePrefix = `DELETE FROM tree_nodes WHERE device_id = $1 AND (uri = $2 OR (uri >= $3 AND uri < $4))`
)
