-- Fewer indexes on the tables written by every DM message (issue 6 profile:
-- index maintenance was a visible part of each message's commit).
-- ListJobs by device and state reads jobs_device (device_id, id) and filters
-- the state; PendingJobs keeps its partial index jobs_pending.
DROP INDEX IF EXISTS jobs_device_state;
-- Session traces are read per device (at most TraceKeep rows each) through
-- traces_device (device_id, id), filtering the session.
DROP INDEX IF EXISTS traces_device_session;
