// Package dmtree owns the OMA DM 1.2 device management tree of the device side:
// URIs and their limits, interior and leaf nodes with their properties, ACLs and
// their inheritance, DDF validation (CaseSense included) and export, TNDS
// serialisation, Atomic transactions, plug-ins for code-backed values, children
// and Exec, the optional ./Inbox, and crash-safe persistence guarded by a lock
// on the state directory.
//
// Every operation takes a principal: the ServerID of the authenticated server,
// or "" for the device itself, which bypasses ACL and AccessType checks. Errors
// are *syncml.StatusError values carrying the status code the spec assigns, so
// the client engine can put them on the wire unchanged.
package dmtree
