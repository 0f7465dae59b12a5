// Package client owns the OMA DM 1.2 device-side engine: the session state
// machine for packages 1–4, authentication in both directions, execution of
// server commands against the device tree, multi-message packages, large
// objects, user-interaction alerts and generic alerts.
//
// The engine is transport-free: it encodes and decodes messages and hands the
// bytes to a Transport (transport/dmhttp provides the HTTP one). It never
// imports net/http, storage or the server engine.
//
// A session is started with (*Client).Run for a client-initiated session
// (Alert 1201) or a server-initiated one after a verified package 0 (Alert
// 1200); (*Client).HandleNotification decodes and verifies package 0 and runs
// the session it asks for. Every session returns a *SessionResult describing
// what happened, for callers, logs and tests.
package client
