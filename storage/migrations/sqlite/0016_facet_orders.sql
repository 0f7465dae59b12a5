-- Device search sorted by last contact or creation, filtered on DevInfo
-- values or a static group: the PostgreSQL schema catches up with what
-- migration device_facets gave the SQLite one (facet values in the order
-- indexes, sort keys copied on group members). Nothing changes here.
SELECT 1;
