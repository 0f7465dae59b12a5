-- Campaigns: an operation template rolled out to a snapshot of devices in
-- waves. The lease columns say which server node drives a campaign; the
-- version makes every other change conditional.
CREATE TABLE campaigns (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT    NOT NULL,
    spec            TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('creating', 'running', 'paused', 'cancelling', 'cancelled', 'completed')),
    reason          TEXT    NOT NULL DEFAULT '',
    total           INTEGER NOT NULL DEFAULT 0,
    wave            INTEGER NOT NULL DEFAULT 0,
    wave_started_at INTEGER,
    wave_done_at    INTEGER,
    fail_ack        INTEGER NOT NULL DEFAULT 0,
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     INTEGER,
    version         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    done_at         INTEGER
) STRICT;
CREATE INDEX campaigns_state ON campaigns (state, id);
-- One row per target device, in rollout order (seq): a wave is a seq range.
-- No foreign key to devices: the snapshot outlives a deleted device (which
-- then ends skipped).
CREATE TABLE campaign_devices (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    device_id    TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'notified', 'in_progress', 'succeeded', 'failed', 'timed_out', 'cancelled', 'skipped')),
    operation_id INTEGER NOT NULL DEFAULT 0,
    notifies     INTEGER NOT NULL DEFAULT 0,
    next_notify  INTEGER,
    error        TEXT    NOT NULL DEFAULT '',
    version      INTEGER NOT NULL DEFAULT 1,
    updated_at   INTEGER NOT NULL,
    done_at      INTEGER,
    PRIMARY KEY (campaign_id, seq)
) STRICT, WITHOUT ROWID;
-- The devices in flight, found at every scheduler pass; pending and ended
-- devices are reached through the primary key (a wave is a seq range), so
-- snapshotting a campaign writes no other index.
CREATE INDEX campaign_devices_open ON campaign_devices (campaign_id, state, seq) WHERE state IN ('notified', 'in_progress');
-- The failures a rollout policy counts in every pass.
CREATE INDEX campaign_devices_failed ON campaign_devices (campaign_id, state, seq) WHERE state IN ('failed', 'timed_out');
