-- Operation retries: the retry_wait state (an attempt failed or timed out
-- and the operation's retry policy makes another one at its deadline), the
-- current attempt's number and start, each operation's retry policy, and
-- the history of the attempts that ended. The state CHECK changes, which
-- SQLite can only do by rebuilding the table: its rows, IDs (and so the
-- AUTOINCREMENT sequence), foreign key to devices and indexes are kept. No
-- table has a foreign key to operations (campaign_devices holds the ID as
-- a plain column), so the rebuild leaves every other table as it is.
CREATE TABLE operations_new (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id         TEXT    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    mo                TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    node              TEXT    NOT NULL,
    params            TEXT,
    correlator        TEXT    NOT NULL,
    job_id            INTEGER NOT NULL,
    state             TEXT    NOT NULL CHECK (state IN ('queued', 'sent', 'accepted', 'retry_wait', 'succeeded', 'failed', 'timed_out', 'cancelled')),
    exec_status       INTEGER NOT NULL DEFAULT 0,
    result            INTEGER NOT NULL DEFAULT 0,
    result_data       TEXT    NOT NULL DEFAULT '',
    event_id          INTEGER NOT NULL DEFAULT 0,
    error             TEXT    NOT NULL DEFAULT '',
    deadline          INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    done_at           INTEGER,
    attempt           INTEGER NOT NULL DEFAULT 1,
    attempt_at        INTEGER,
    max_attempts      INTEGER NOT NULL DEFAULT 1,
    timeout_us        INTEGER NOT NULL DEFAULT 0,
    backoff_us        INTEGER NOT NULL DEFAULT 0,
    max_backoff_us    INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO operations_new (id, device_id, mo, name, node, params, correlator, job_id, state, exec_status, result,
    result_data, event_id, error, deadline, created_at, updated_at, done_at, attempt_at)
    SELECT id, device_id, mo, name, node, params, correlator, job_id, state, exec_status, result,
    result_data, event_id, error, deadline, created_at, updated_at, done_at, created_at FROM operations;
DROP TABLE operations;
ALTER TABLE operations_new RENAME TO operations;
CREATE UNIQUE INDEX operations_correlator ON operations (device_id, correlator);
CREATE INDEX operations_device ON operations (device_id, id);
CREATE INDEX operations_job ON operations (job_id);
CREATE INDEX operations_open ON operations (deadline) WHERE state IN ('queued', 'sent', 'accepted', 'retry_wait');
-- The attempts that ended and were made again; a late report of one is
-- found by its correlator.
CREATE TABLE operation_attempts (
    operation_id INTEGER NOT NULL REFERENCES operations (id) ON DELETE CASCADE,
    attempt      INTEGER NOT NULL,
    device_id    TEXT    NOT NULL,
    job_id       INTEGER NOT NULL,
    correlator   TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    exec_status  INTEGER NOT NULL DEFAULT 0,
    result       INTEGER NOT NULL DEFAULT 0,
    event_id     INTEGER NOT NULL DEFAULT 0,
    late         INTEGER NOT NULL DEFAULT 0,
    error        TEXT    NOT NULL DEFAULT '',
    started_at   INTEGER,
    ended_at     INTEGER,
    PRIMARY KEY (operation_id, attempt)
) STRICT, WITHOUT ROWID;
CREATE INDEX operation_attempts_correlator ON operation_attempts (device_id, correlator);
