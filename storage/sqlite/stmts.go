package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

const (
	deviceCols  = `id, auth_scheme, username, password_hash, server_password_sealed, server_auth_scheme, cert_sha256, transport_auth, server_nonce, client_nonce, notify_addr, devinfo, labels, created_at, last_seen`
	jobCols     = `id, device_id, spec, state, status, results, child_status, error, session_id, attempts, created_at, sent_at, done_at`
	sessionCols = sqlcommon.SessionCols
	eventCols   = sqlcommon.EventCols
	treeCols    = sqlcommon.TreeCols
	traceCols   = sqlcommon.TraceCols
	terminal    = `('done', 'failed', 'cancelled')`
)

// stmts are the statements prepared once at Open; writes go to the writer
// connection, reads to the reader pool.
type stmts struct {
	all []*sql.Stmt
	// twin maps each reader statement to the same statement prepared on the
	// writer, which batches (transactions on the writer) use instead.
	twin map[*sql.Stmt]*sql.Stmt

	createDevice, getDevice, updateDevice, updateDeviceInfo, updateDevInfo, listDevices, deleteDevice, countDevices *sql.Stmt

	createJob, getJob, pendingJobs, updateJob, cancelJob, jobExists, countJobs, countAllJobs *sql.Stmt
	firstJobSince, deleteJobs                                                                *sql.Stmt

	insertSession, sessionExists, updateSession, getSession, getSessionByToken, deleteSessions *sql.Stmt

	// One message's device and session in one statement (reads.go), and
	// several jobs by ID.
	readByID, readByToken, getJobs *sql.Stmt

	listEvents, listAllEvents, deleteEvents *sql.Stmt

	appendChunk, readChunks, deleteChunks *sql.Stmt

	putTree, listTree, listTreePrefix, deleteTree, deleteTreePrefix *sql.Stmt

	listTraces, listSessionTraces, pruneTraces, pruneDeviceTraces *sql.Stmt

	// Operations (the statements shared with PostgreSQL, sqlcommon).
	insertOp, getOp, opByCorr, opByJob, opExists, expiredOps, eventsByCorr *sql.Stmt
	// transitionOp holds the conditional updates from the usual sets of
	// states (sqlcommon.TransitionKey); read-only once prepared.
	transitionOp map[string]*sql.Stmt

	// Campaigns (sqlcommon).
	getCampaign, updateCampaign, leaseCampaign, transitionCD, countCD *sql.Stmt

	// The savepoint around each batch of a group commit (batch.go):
	// prepared once instead of parsed twice per DM message.
	savepoint, release, rollbackTo *sql.Stmt

	inv invStmts // fleet inventory (inventory.go)
}

func (s *Store) prepare(ctx context.Context) error {
	st := &s.st
	st.twin = map[*sql.Stmt]*sql.Stmt{}
	var err error
	p := func(db *sql.DB, dst **sql.Stmt, q string) {
		if err != nil {
			return
		}
		var x, w *sql.Stmt
		x, err = db.PrepareContext(ctx, q)
		if err == nil && db != s.w {
			if w, err = s.w.PrepareContext(ctx, q); err == nil {
				st.twin[x] = w
				st.all = append(st.all, w)
			}
		}
		if err != nil {
			err = fmt.Errorf("sqlite: prepare %q: %w", q, err)
			return
		}
		*dst = x
		st.all = append(st.all, x)
	}
	w, r := s.w, s.r

	// The legacy plaintext columns password and server_password stay empty.
	p(w, &st.createDevice, `INSERT INTO devices (`+deviceCols+`, password, server_password)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '')`)
	p(r, &st.getDevice, `SELECT `+deviceCols+` FROM devices WHERE id = ?`)
	// DevInfo and labels are written by a statement of their own, only
	// when they changed: a column in the SET list makes SQLite rewrite every
	// index entry computed from it (devices_created holds the DevInfo
	// columns of migration device_facets), whatever the value.
	p(w, &st.updateDevice, `UPDATE devices SET auth_scheme = ?, username = ?, password_hash = ?,
		server_password_sealed = ?, server_auth_scheme = ?, cert_sha256 = ?, transport_auth = ?,
		server_nonce = ?, client_nonce = ?, notify_addr = ?, last_seen = ?,
		password = '', server_password = '' WHERE id = ?`)
	p(w, &st.updateDeviceInfo, `UPDATE devices SET devinfo = ?1, labels = ?2
		WHERE id = ?3 AND (devinfo IS NOT ?1 OR labels IS NOT ?2)`)
	p(w, &st.updateDevInfo, `UPDATE devices SET devinfo = ?1 WHERE id = ?2 AND devinfo IS NOT ?1`)
	p(r, &st.listDevices, `SELECT `+deviceCols+` FROM devices WHERE id > ? ORDER BY id LIMIT ?`)
	p(w, &st.deleteDevice, `DELETE FROM devices WHERE id = ?`)
	p(r, &st.countDevices, `SELECT count(*) FROM devices`)

	p(w, &st.createJob, `INSERT INTO jobs (device_id, spec, state, status, results, child_status, error, session_id,
		attempts, created_at, sent_at, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	p(r, &st.getJob, `SELECT `+jobCols+` FROM jobs WHERE id = ?`)
	p(r, &st.pendingJobs, `SELECT `+jobCols+` FROM jobs WHERE device_id = ?
		AND state IN ('queued', 'sent') AND (state = 'queued' OR session_id <> ?) ORDER BY id LIMIT `+fmt.Sprint(maxLimit))
	p(w, &st.updateJob, `UPDATE jobs SET state = ?, status = ?, results = ?, child_status = ?, error = ?,
		session_id = ?, attempts = ?, sent_at = ?, done_at = ? WHERE id = ? AND state NOT IN `+terminal)
	p(w, &st.cancelJob, `UPDATE jobs SET state = 'cancelled', done_at = ? WHERE id = ? AND state NOT IN `+terminal+
		` RETURNING `+jobCols)
	p(w, &st.jobExists, `SELECT count(*) FROM jobs WHERE id = ?`)
	p(r, &st.countJobs, `SELECT count(*) FROM jobs WHERE state = ?`)
	p(r, &st.firstJobSince, `SELECT id FROM jobs WHERE created_at >= ? ORDER BY id LIMIT 1`)
	p(w, &st.deleteJobs, `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs
		WHERE id < ? AND created_at < ? AND state IN `+terminal+` ORDER BY id LIMIT ?)`)
	p(r, &st.countAllJobs, `SELECT count(*) FROM jobs`)

	p(w, &st.insertSession, `INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, 1, ?, ?, ?)`)
	p(w, &st.sessionExists, `SELECT count(*) FROM sessions WHERE device_id = ? AND session_id = ?`)
	p(w, &st.updateSession, `UPDATE sessions SET token = ?, state = ?, version = version + 1, closed = ?, updated_at = ?
		WHERE device_id = ? AND session_id = ? AND version = ? RETURNING created_at`)
	p(r, &st.getSession, q(sqlcommon.GetSession))
	p(r, &st.getSessionByToken, q(sqlcommon.GetSessionByToken))
	p(r, &st.readByID, `SELECT `+prefixed("d.", deviceCols)+`, `+prefixed("s.", sessionCols)+` FROM devices d
		LEFT JOIN sessions s ON s.device_id = d.id AND s.session_id = ? WHERE d.id = ?`)
	p(r, &st.readByToken, `SELECT `+prefixed("d.", deviceCols)+`, `+prefixed("s.", sessionCols)+` FROM devices d
		LEFT JOIN sessions s ON s.token = ? AND s.token <> '' WHERE d.id = ?`)
	p(r, &st.getJobs, `SELECT `+jobCols+` FROM jobs WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`)
	p(w, &st.deleteSessions, `DELETE FROM sessions WHERE rowid IN
		(SELECT rowid FROM sessions WHERE updated_at < ? ORDER BY updated_at LIMIT ?)`)

	p(w, &st.appendChunk, q(sqlcommon.AppendChunk))
	p(r, &st.readChunks, q(sqlcommon.ReadChunks))
	p(w, &st.deleteChunks, q(sqlcommon.DeleteChunks))

	p(r, &st.listEvents, q(sqlcommon.ListEvents))
	p(r, &st.listAllEvents, q(sqlcommon.ListAllEvents))
	p(w, &st.deleteEvents, q(sqlcommon.DeleteEventsStep))

	p(w, &st.putTree, q(sqlcommon.PutTreeNode))
	p(r, &st.listTree, q(sqlcommon.ListTree))
	p(r, &st.listTreePrefix, q(sqlcommon.ListTreePrefix))
	p(w, &st.deleteTree, q(sqlcommon.DeleteTree))
	p(w, &st.deleteTreePrefix, q(sqlcommon.DeleteTreePrefix))

	p(r, &st.listTraces, q(sqlcommon.ListTraces))
	p(r, &st.listSessionTraces, q(sqlcommon.ListSessionTraces))
	p(w, &st.pruneTraces, q(sqlcommon.PruneTraces))
	p(w, &st.pruneDeviceTraces, q(sqlcommon.PruneDeviceTraces))
	p(w, &st.insertOp, q(sqlcommon.InsertOp))
	p(r, &st.getOp, q(sqlcommon.GetOp))
	p(r, &st.opByCorr, q(sqlcommon.OpByCorr))
	p(r, &st.opByJob, q(sqlcommon.OpByJob))
	p(w, &st.opExists, q(sqlcommon.OpExists))
	p(r, &st.expiredOps, q(sqlcommon.ExpiredOps))
	p(r, &st.eventsByCorr, q(fmt.Sprintf(sqlcommon.EventsByCorr, eventCols)))
	st.transitionOp = map[string]*sql.Stmt{}
	for _, from := range sqlcommon.UsualTransitions {
		var x *sql.Stmt
		query, _ := sqlcommon.TransitionOp(from, true)
		p(w, &x, query)
		st.transitionOp[sqlcommon.TransitionKey(from)] = x
	}
	p(r, &st.getCampaign, q(sqlcommon.GetCampaign))
	p(w, &st.updateCampaign, q(sqlcommon.UpdateCampaign))
	p(w, &st.leaseCampaign, q(sqlcommon.LeaseCampaign))
	p(w, &st.transitionCD, q(sqlcommon.TransitionCampaignDevice))
	p(r, &st.countCD, q(sqlcommon.CountCampaignDevices))
	p(w, &st.savepoint, `SAVEPOINT batch`)
	p(w, &st.release, `RELEASE batch`)
	p(w, &st.rollbackTo, `ROLLBACK TO batch`)
	s.prepareInventory(p)
	return err
}

func (st *stmts) close() {
	for _, x := range st.all {
		x.Close()
	}
	st.all = nil
}
