package sqlcommon

import (
	"fmt"
	"strings"

	"github.com/omadm/omadm/storage"
)

// The operations statements, written once for both dialects with numbered
// placeholders ($1, …); SQLite takes them as ?1, … (see Dialect).

// OpCols are the operations columns in the order the backends scan them.
const OpCols = `id, device_id, mo, name, node, params, correlator, job_id, state, exec_status, result, result_data, event_id, error, deadline, created_at, updated_at, done_at, attempt, attempt_at, max_attempts, timeout_us, backoff_us, max_backoff_us`

// Operations statements.
const (
	InsertOp = `INSERT INTO operations (device_id, mo, name, node, params, correlator, job_id, state, exec_status, result,
		result_data, event_id, error, deadline, created_at, updated_at, done_at, attempt, attempt_at, max_attempts, timeout_us, backoff_us, max_backoff_us)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) RETURNING id`
	GetOp         = `SELECT ` + OpCols + ` FROM operations WHERE id = $1`
	OpByCorr      = `SELECT ` + OpCols + ` FROM operations WHERE device_id = $1 AND correlator = $2`
	OpByJob       = `SELECT ` + OpCols + ` FROM operations WHERE job_id = $1 ORDER BY id LIMIT 1`
	OpExists      = `SELECT count(*) FROM operations WHERE id = $1`
	ExpiredOps    = `SELECT ` + OpCols + ` FROM operations WHERE state IN ('queued', 'sent', 'accepted', 'retry_wait') AND deadline < $1 ORDER BY deadline, id LIMIT $2`
	EventsByCorr  = `SELECT %s FROM events WHERE device_id = $1 AND correlator = $2 AND correlator <> '' ORDER BY id`
	transitionOp  = `UPDATE operations SET state = $1, exec_status = $2, result = $3, result_data = $4, event_id = $5, error = $6, done_at = $7, updated_at = $8 WHERE id = $9 AND state IN (%s)`
	listOpsPrefix = `SELECT ` + OpCols + ` FROM operations WHERE id > $1`
	reattemptOp   = `UPDATE operations SET state = $1, exec_status = $2, result = $3, result_data = $4, event_id = $5, error = $6, done_at = $7, updated_at = $8,
		attempt = $10, attempt_at = $11, job_id = $12, correlator = $13, deadline = $14 WHERE id = $9 AND state IN (%s)`
)

// Operation attempts statements.
const (
	AttemptCols   = `operation_id, attempt, device_id, job_id, correlator, state, exec_status, result, event_id, late, error, started_at, ended_at`
	InsertAttempt = `INSERT INTO operation_attempts (` + AttemptCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
	ListAttempts  = `SELECT ` + AttemptCols + ` FROM operation_attempts WHERE operation_id = $1 ORDER BY attempt`
	AttemptByCorr = `SELECT ` + AttemptCols + ` FROM operation_attempts WHERE device_id = $1 AND correlator = $2 ORDER BY operation_id, attempt LIMIT 1`
	// SetLateReport's arguments: event id, result, operation id, attempt, true.
	SetLateReport = `UPDATE operation_attempts SET event_id = $1, result = $2, late = $5 WHERE operation_id = $3 AND attempt = $4 AND event_id = 0`
	AttemptExists = `SELECT count(*) FROM operation_attempts WHERE operation_id = $1 AND attempt = $2`
)

// ReattemptOp is the conditional update of an operation's state and
// attempt from one of the states in from; its arguments are
// TransitionOp's eight SET values and the ID, then attempt, attempt_at,
// job_id, correlator, deadline, then from.
func ReattemptOp(from []storage.OpState, sqlite bool) (string, []any) {
	ph := make([]string, len(from))
	args := make([]any, len(from))
	for i, s := range from {
		ph[i] = fmt.Sprintf("$%d", 15+i)
		args[i] = string(s)
	}
	if len(from) == 0 {
		ph = []string{"NULL"}
	}
	return Dialect(fmt.Sprintf(reattemptOp, strings.Join(ph, ", ")), sqlite), args
}

// Dialect rewrites a statement's $N placeholders for SQLite (?N); PostgreSQL
// takes them as they are.
func Dialect(q string, sqlite bool) string {
	if !sqlite {
		return q
	}
	return strings.ReplaceAll(q, "$", "?")
}

// TransitionOp is the conditional update of an operation from one of the
// states in from; its arguments are the eight SET values, the ID, then from.
func TransitionOp(from []storage.OpState, sqlite bool) (string, []any) {
	ph := make([]string, len(from))
	args := make([]any, len(from))
	for i, s := range from {
		ph[i] = fmt.Sprintf("$%d", 10+i)
		args[i] = string(s)
	}
	if len(from) == 0 {
		ph = []string{"NULL"}
	}
	return Dialect(fmt.Sprintf(transitionOp, strings.Join(ph, ", ")), sqlite), args
}

// UsualTransitions are the sets of states operations are moved from (a
// backend may prepare their statements once).
var UsualTransitions = [][]storage.OpState{
	storage.OpOpen, {storage.OpQueued}, {storage.OpSent}, {storage.OpAccepted}, {storage.OpRetryWait},
}

// TransitionKey names a set of from-states.
func TransitionKey(from []storage.OpState) string {
	var b strings.Builder
	for _, s := range from {
		b.WriteString(string(s))
		b.WriteByte(',')
	}
	return b.String()
}

// ListOps builds ListOperations' query and arguments.
func ListOps(f storage.OperationFilter, sqlite bool) (string, []any) {
	q := listOpsPrefix
	args := []any{f.AfterID}
	if f.DeviceID != "" {
		args = append(args, f.DeviceID)
		q += fmt.Sprintf(" AND device_id = $%d", len(args))
	}
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, s := range f.States {
			args = append(args, string(s))
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		q += " AND state IN (" + strings.Join(ph, ", ") + ")"
	}
	args = append(args, Limit(f.Limit))
	q += fmt.Sprintf(" ORDER BY id LIMIT $%d", len(args))
	return Dialect(q, sqlite), args
}

// CheckOp rejects an operation a SQL text column cannot hold.
func CheckOp(op *storage.Operation) error {
	if err := CheckText("operation device id", op.DeviceID, "operation mo", op.MO, "operation name", op.Name,
		"operation node", op.Node, "correlator", op.Correlator, "operation result data", op.ResultData,
		"operation error", op.Error); err != nil {
		return err
	}
	for k, v := range op.Params {
		if err := CheckText("operation parameter", k, "operation parameter value", v); err != nil {
			return err
		}
	}
	if op.Attempt < 0 || op.MaxAttempts < 0 || op.Timeout < 0 || op.Backoff < 0 || op.MaxBackoff < 0 {
		return fmt.Errorf("invalid operation retry values (attempt %d, max_attempts %d)", op.Attempt, op.MaxAttempts)
	}
	if op.State != "" && !op.State.Valid() {
		return fmt.Errorf("invalid operation state %q", op.State)
	}
	return nil
}
