-- Campaigns: an operation template rolled out to a snapshot of devices in
-- waves. The lease columns say which server node drives a campaign; the
-- version makes every other change conditional.
CREATE TABLE campaigns (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text        NOT NULL,
    spec            text        NOT NULL,
    state           text        NOT NULL CHECK (state IN ('creating', 'running', 'paused', 'cancelling', 'cancelled', 'completed')),
    reason          text        NOT NULL DEFAULT '',
    total           integer     NOT NULL DEFAULT 0,
    wave            integer     NOT NULL DEFAULT 0,
    wave_started_at timestamptz,
    wave_done_at    timestamptz,
    fail_ack        integer     NOT NULL DEFAULT 0,
    lease_owner     text        NOT NULL DEFAULT '',
    lease_until     timestamptz,
    version         bigint      NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    done_at         timestamptz
);
CREATE INDEX campaigns_state ON campaigns (state, id);
-- One row per target device, in rollout order (seq): a wave is a seq range.
-- No foreign key to devices: the snapshot outlives a deleted device (which
-- then ends skipped).
CREATE TABLE campaign_devices (
    campaign_id  bigint  NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    seq          integer NOT NULL,
    device_id    text COLLATE "C" NOT NULL,
    state        text    NOT NULL CHECK (state IN ('pending', 'notified', 'in_progress', 'succeeded', 'failed', 'timed_out', 'cancelled', 'skipped')),
    operation_id bigint  NOT NULL DEFAULT 0,
    notifies     integer NOT NULL DEFAULT 0,
    next_notify  timestamptz,
    error        text    NOT NULL DEFAULT '',
    version      bigint  NOT NULL DEFAULT 1,
    updated_at   timestamptz NOT NULL,
    done_at      timestamptz,
    PRIMARY KEY (campaign_id, seq)
);
-- The devices in flight, found at every scheduler pass; pending and ended
-- devices are reached through the primary key (a wave is a seq range), so
-- snapshotting a campaign writes no other index.
CREATE INDEX campaign_devices_open ON campaign_devices (campaign_id, state, seq) WHERE state IN ('notified', 'in_progress');
-- The failures a rollout policy counts in every pass.
CREATE INDEX campaign_devices_failed ON campaign_devices (campaign_id, state, seq) WHERE state IN ('failed', 'timed_out');
