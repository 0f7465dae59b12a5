-- Placeholder that keeps the numbering without gaps on this branch; the
-- migration that owns number 12 replaces it.
SELECT 1;
