// Package wbxml owns the generic WBXML 1.3 binary XML format (WAP-192): a
// token-level reader that also accepts WBXML 1.1 and 1.2, a writer that produces
// WBXML 1.3, the mb_u_int32 integer encoding, string tables, code pages and hard
// decoding limits, plus conversion between WBXML documents and XML text for the
// code pages it knows.
//
// The code-page tables (SyncML 1.1/1.2, MetInf, DevInf and the OMA DM DDF/TNDS
// page) are generated from codepages.txt by `go generate` and committed.
//
// The package uses the standard library only: it is what the syncml package
// builds its WBXML binding on, and what constrained device agents link.
package wbxml

//go:generate go run ./internal/gen -in codepages.txt -out zcodepages.go
