-- Operations: an MO action on one device (its job, the correlator of its
-- Exec, its state and the device's report). A report finds its operation by
-- (device, correlator); the job's changes find it by job; the scheduler finds
-- the open ones past their deadline.
CREATE TABLE operations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id   TEXT    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    mo          TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    node        TEXT    NOT NULL,
    params      TEXT,
    correlator  TEXT    NOT NULL,
    job_id      INTEGER NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('queued', 'sent', 'accepted', 'succeeded', 'failed', 'timed_out', 'cancelled')),
    exec_status INTEGER NOT NULL DEFAULT 0,
    result      INTEGER NOT NULL DEFAULT 0,
    result_data TEXT    NOT NULL DEFAULT '',
    event_id    INTEGER NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT '',
    deadline    INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    done_at     INTEGER
) STRICT;
CREATE UNIQUE INDEX operations_correlator ON operations (device_id, correlator);
CREATE INDEX operations_device ON operations (device_id, id);
CREATE INDEX operations_job ON operations (job_id);
CREATE INDEX operations_open ON operations (deadline) WHERE state IN ('queued', 'sent', 'accepted');
-- A 1226 report is found by the correlator it carries.
CREATE INDEX events_correlator ON events (device_id, correlator) WHERE correlator <> '';
