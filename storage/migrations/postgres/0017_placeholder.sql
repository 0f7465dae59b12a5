-- Placeholder for the migration numbered before sort_key_copies, written on
-- another branch; the branches are merged with that migration in its place.
SELECT 1;
