-- Labels listed by last contact: SQLite keeps them in label_seen (this
-- migration); the PostgreSQL schema gets its own copies in a later one.
-- Nothing changes here.
SELECT 1;
