-- Same schema as sqlite/0001_init.sql. Identifiers and URIs use COLLATE "C" so
-- ordering and prefix ranges are bytewise, as in SQLite, whatever the database
-- collation. JSON columns are json (kept verbatim, unlike jsonb).

CREATE TABLE devices (
    id              text COLLATE "C" NOT NULL PRIMARY KEY,
    auth_scheme     text        NOT NULL,
    username        text        NOT NULL,
    password        text        NOT NULL,
    server_password text        NOT NULL,
    server_nonce    bytea,
    client_nonce    bytea,
    notify_addr     text        NOT NULL,
    devinfo         json,
    labels          json,
    created_at      timestamptz NOT NULL,
    last_seen       timestamptz
);

CREATE TABLE jobs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id    text COLLATE "C" NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    spec         json        NOT NULL,
    state        text        NOT NULL CHECK (state IN ('queued', 'sent', 'done', 'failed', 'cancelled')),
    status       integer     NOT NULL DEFAULT 0,
    results      json,
    child_status json,
    error        text        NOT NULL DEFAULT '',
    session_id   text        NOT NULL DEFAULT '',
    attempts     integer     NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    sent_at      timestamptz,
    done_at      timestamptz
);
CREATE INDEX jobs_device ON jobs (device_id, id);
CREATE INDEX jobs_device_state ON jobs (device_id, state, id);
CREATE INDEX jobs_state ON jobs (state, id);
-- PendingJobs: only unfinished jobs, already in ID order.
CREATE INDEX jobs_pending ON jobs (device_id, id) WHERE state IN ('queued', 'sent');

CREATE TABLE sessions (
    device_id  text COLLATE "C" NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    session_id text        NOT NULL,
    token      text        NOT NULL,
    state      bytea,
    version    bigint      NOT NULL,
    closed     boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (device_id, session_id)
);
CREATE UNIQUE INDEX sessions_token ON sessions (token) WHERE token <> '';
CREATE INDEX sessions_updated ON sessions (updated_at);

CREATE TABLE events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id  text COLLATE "C" NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    session_id text        NOT NULL,
    kind       text        NOT NULL,
    type       text        NOT NULL,
    source     text        NOT NULL,
    target     text        NOT NULL,
    format     text        NOT NULL,
    mark       text        NOT NULL,
    data       text        NOT NULL,
    correlator text        NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX events_device ON events (device_id, id);

CREATE TABLE tree_nodes (
    device_id  text COLLATE "C" NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    uri        text COLLATE "C" NOT NULL,
    format     text        NOT NULL,
    type       text        NOT NULL,
    value      text        NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (device_id, uri)
);

CREATE TABLE traces (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id    text COLLATE "C" NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    session_id   text        NOT NULL,
    direction    text        NOT NULL,
    msg_id       text        NOT NULL,
    content_type text        NOT NULL,
    body         bytea       NOT NULL,
    decoded      text        NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX traces_device ON traces (device_id, id);
CREATE INDEX traces_device_session ON traces (device_id, session_id, id);
