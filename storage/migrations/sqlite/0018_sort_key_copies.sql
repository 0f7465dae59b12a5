-- PostgreSQL's label rows and group members take copies of the sort keys and DevInfo facets; the SQLite schema's are in its own migration. Nothing changes here.
SELECT 1;
