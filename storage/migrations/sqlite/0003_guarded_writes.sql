-- Migration 3 adds a PostgreSQL helper for guarded pipelined writes
-- (omadm_abort). SQLite needs none: its writes of one DM message run in one
-- local transaction that the Go side rolls back. Kept so that the numbering
-- stays shared between the dialects.
SELECT 1;
