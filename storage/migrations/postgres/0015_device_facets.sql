-- Device search on compound filters: the SQLite schema copies the model,
-- manufacturer and firmware version into its search indexes, because
-- SQLite's planner walks one index per table and has no statistics on the
-- filters. PostgreSQL combines the indexes of the label, DevInfo and group
-- filters itself (bitmap AND) using the statistics ANALYZE keeps, so its
-- schema stays as it is.
SELECT 1;
