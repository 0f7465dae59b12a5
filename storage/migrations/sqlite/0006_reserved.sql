-- Placeholder for migration 6, which another change of the schema takes.
-- It changes nothing; it exists only so that the numbering has no gap until
-- that change lands, and is removed then.
SELECT 1;
