-- Operations: an MO action on one device (its job, the correlator of its
-- Exec, its state and the device's report). A report finds its operation by
-- (device, correlator); the job's changes find it by job; the scheduler finds
-- the open ones past their deadline.
CREATE TABLE operations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   text COLLATE "C" NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    mo          text        NOT NULL,
    name        text        NOT NULL,
    node        text        NOT NULL,
    params      json,
    correlator  text        NOT NULL,
    job_id      bigint      NOT NULL,
    state       text        NOT NULL CHECK (state IN ('queued', 'sent', 'accepted', 'succeeded', 'failed', 'timed_out', 'cancelled')),
    exec_status integer     NOT NULL DEFAULT 0,
    result      integer     NOT NULL DEFAULT 0,
    result_data text        NOT NULL DEFAULT '',
    event_id    bigint      NOT NULL DEFAULT 0,
    error       text        NOT NULL DEFAULT '',
    deadline    timestamptz,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    done_at     timestamptz
);
CREATE UNIQUE INDEX operations_correlator ON operations (device_id, correlator);
CREATE INDEX operations_device ON operations (device_id, id);
CREATE INDEX operations_job ON operations (job_id);
CREATE INDEX operations_open ON operations (deadline) WHERE state IN ('queued', 'sent', 'accepted');
-- A 1226 report is found by the correlator it carries.
CREATE INDEX events_correlator ON events (device_id, correlator) WHERE correlator <> '';
