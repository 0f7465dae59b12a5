// Package sim owns the simulated devices that load and demonstrate a DM
// server: a Device is a real client engine over its own dmtree (DevInfo,
// DevDetail, DMAcc, LAWMO, DiagMon and ConnMO; FUMO with a state directory,
// SCOMO with a component directory), with a generated identity; a Fleet runs many of them (Run: client-initiated
// sessions at a bounded concurrency; Listen: package 0 over UDP; Enroll:
// registration with the server through an Enroller) and keeps their Stats
// (counts and latency percentiles). A ScriptedDevice replays message
// templates with a byte scanner instead of the engine, so a benchmark's load
// costs little more than the bare replay it is compared with.
package sim
