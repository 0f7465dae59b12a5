// Package mo groups the standard OMA DM management objects. Each sub-package
// owns one object: its DDF (embedded beside the code and the source of
// validation), an Install function that creates the subtree with defaults on a
// dmtree.Tree (idempotent, called at every start, registering the object's
// place for ./Inbox where it has run-time instances), and the typed helpers
// device and server code need. Objects with operations (FUMO, LAWMO, SCOMO,
// DiagMon) are declared through mo/moframe: a .ddf.xml file, a Runner for the
// asynchronous Exec → 202 → 1226 report, a Downloader for those that fetch
// packages, and a Descriptor (operation.go, owned by this package) for the
// server, checked against the DDF and listed in mo/registry.
package mo
