-- Times are INTEGER microseconds since the Unix epoch (UTC); NULL means unset.
-- JSON columns hold encoding/json text. Text compares bytewise (BINARY).

CREATE TABLE devices (
    id              TEXT    NOT NULL PRIMARY KEY,
    auth_scheme     TEXT    NOT NULL,
    username        TEXT    NOT NULL,
    password        TEXT    NOT NULL,
    server_password TEXT    NOT NULL,
    server_nonce    BLOB,
    client_nonce    BLOB,
    notify_addr     TEXT    NOT NULL,
    devinfo         TEXT,
    labels          TEXT,
    created_at      INTEGER NOT NULL,
    last_seen       INTEGER
) STRICT;

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id    TEXT    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    spec         TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'sent', 'done', 'failed', 'cancelled')),
    status       INTEGER NOT NULL DEFAULT 0,
    results      TEXT,
    child_status TEXT,
    error        TEXT    NOT NULL DEFAULT '',
    session_id   TEXT    NOT NULL DEFAULT '',
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER,
    done_at      INTEGER
) STRICT;
-- ListJobs by device, PendingJobs (device + state), ListJobs/CountJobs by state.
CREATE INDEX jobs_device ON jobs (device_id, id);
CREATE INDEX jobs_device_state ON jobs (device_id, state, id);
CREATE INDEX jobs_state ON jobs (state, id);
-- PendingJobs: only unfinished jobs, already in ID order.
CREATE INDEX jobs_pending ON jobs (device_id, id) WHERE state IN ('queued', 'sent');

CREATE TABLE sessions (
    device_id  TEXT    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    session_id TEXT    NOT NULL,
    token      TEXT    NOT NULL,
    state      BLOB,
    version    INTEGER NOT NULL,
    closed     INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, session_id)
) STRICT;
CREATE UNIQUE INDEX sessions_token ON sessions (token) WHERE token <> '';
CREATE INDEX sessions_updated ON sessions (updated_at);

CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id  TEXT    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    session_id TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    format     TEXT    NOT NULL,
    mark       TEXT    NOT NULL,
    data       TEXT    NOT NULL,
    correlator TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX events_device ON events (device_id, id);

CREATE TABLE tree_nodes (
    device_id  TEXT    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    uri        TEXT    NOT NULL,
    format     TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, uri)
) STRICT, WITHOUT ROWID;

CREATE TABLE traces (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id    TEXT    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    session_id   TEXT    NOT NULL,
    direction    TEXT    NOT NULL,
    msg_id       TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    decoded      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX traces_device ON traces (device_id, id);
CREATE INDEX traces_device_session ON traces (device_id, session_id, id);
