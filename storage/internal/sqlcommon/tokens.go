package sqlcommon

// TokenCols are the api_tokens columns in the order the backends scan them.
const TokenCols = `id, name, prefix, hash, created_at, last_used_at, revoked_at`

// API token statements (storage.TokenStore).
const (
	InsertToken = `INSERT INTO api_tokens (name, prefix, hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id`
	TokenByHash = `SELECT ` + TokenCols + ` FROM api_tokens WHERE hash = $1`
	TokenByID   = `SELECT ` + TokenCols + ` FROM api_tokens WHERE id = $1`
	// ListTokens and ListLiveTokens list the tokens by ID, with and
	// without the revoked ones.
	ListTokens     = `SELECT ` + TokenCols + ` FROM api_tokens ORDER BY id`
	ListLiveTokens = `SELECT ` + TokenCols + ` FROM api_tokens WHERE revoked_at IS NULL ORDER BY id`
	// RevokeToken sets revoked_at ($1) of token $2 unless it is set.
	RevokeToken = `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`
)
