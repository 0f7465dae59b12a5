-- Operation retries: the retry_wait state (an attempt failed or timed out
-- and the operation's retry policy makes another one at its deadline), the
-- current attempt's number and start, each operation's retry policy, and
-- the history of the attempts that ended.
ALTER TABLE operations DROP CONSTRAINT operations_state_check;
ALTER TABLE operations ADD CONSTRAINT operations_state_check
    CHECK (state IN ('queued', 'sent', 'accepted', 'retry_wait', 'succeeded', 'failed', 'timed_out', 'cancelled'));
ALTER TABLE operations
    ADD COLUMN attempt        integer     NOT NULL DEFAULT 1,
    ADD COLUMN attempt_at     timestamptz,
    ADD COLUMN max_attempts   integer     NOT NULL DEFAULT 1,
    ADD COLUMN timeout_us     bigint      NOT NULL DEFAULT 0,
    ADD COLUMN backoff_us     bigint      NOT NULL DEFAULT 0,
    ADD COLUMN max_backoff_us bigint      NOT NULL DEFAULT 0;
DROP INDEX operations_open;
CREATE INDEX operations_open ON operations (deadline) WHERE state IN ('queued', 'sent', 'accepted', 'retry_wait');
-- The attempts that ended and were made again; a late report of one is
-- found by its correlator.
CREATE TABLE operation_attempts (
    operation_id bigint      NOT NULL REFERENCES operations (id) ON DELETE CASCADE,
    attempt      integer     NOT NULL,
    device_id    text COLLATE "C" NOT NULL,
    job_id       bigint      NOT NULL,
    correlator   text        NOT NULL,
    state        text        NOT NULL,
    exec_status  integer     NOT NULL DEFAULT 0,
    result       integer     NOT NULL DEFAULT 0,
    event_id     bigint      NOT NULL DEFAULT 0,
    late         boolean     NOT NULL DEFAULT false,
    error        text        NOT NULL DEFAULT '',
    started_at   timestamptz,
    ended_at     timestamptz,
    PRIMARY KEY (operation_id, attempt)
);
CREATE INDEX operation_attempts_correlator ON operation_attempts (device_id, correlator);
