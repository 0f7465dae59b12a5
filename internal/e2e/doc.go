// Package e2e holds the end-to-end suite: the real device engine (client,
// dmhttp client transport, dmtree with the standard objects, as built by sim)
// against the real server (engine, dmhttp handler) over real HTTP on
// 127.0.0.1, table-driven over {XML, WBXML} × {SQLite, PostgreSQL}.
// PostgreSQL runs when OMADM_TEST_POSTGRES names a database
// (scripts/pg-throwaway.sh starts one) and is skipped with a message otherwise.
package e2e
