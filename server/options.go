// Package server is the OMA DM 1.2 server engine: it authenticates devices and
// itself, runs DM sessions (packages 1–4, multi-message packages, large
// objects in both directions), turns each device's job queue into SyncML
// commands, matches Status and Results back to jobs, stores generic alerts as
// events, keeps wire traces and sends package 0 notifications.
//
// The engine is transport-free and stateless. A binding (transport/dmhttp
// for HTTP; OBEX and WSP ones alike) hands it each message as an
// envelope.Inbound and sends back the envelope.Outbound: the binding, not
// the engine, knows how a message addresses its session (Inbound.Addr: the
// token, and the RespURI text that carries it) and whether the transport
// authenticates the session (Inbound.SecureSession). Every bit of session
// state lives in a storage.Store, so any engine instance sharing the store
// can take the next message of any session.
//
// Session rules the engine applies:
//   - Sessions are keyed by device id + SessionID; each has an unguessable
//     token, named in every reply (Outbound.Token) and written into its
//     RespURI by the binding's addressing (HTTP: "?s=TOKEN"; a
//     connection-bound binding writes none and keeps the token). A message
//     addressed to a token that is unknown, expired, closed or belongs to
//     another session gets a header Status 404 and changes nothing. A
//     message of an authenticated basic/MD5 session that arrives without
//     the token must carry valid credentials again.
//   - A message that fails authentication (or comes from an unknown device
//     id) stores nothing: no session, no nonce rotation, no MsgID advance,
//     no device change. It is answered 407/401 with a Chal carrying the
//     device's current nonce (an unknown id gets the same shape), or 503
//     when its device's or address's failure bucket is empty (AuthLimits);
//     failures are logged at a bounded rate and summed up in auth-failure
//     events.
//   - Over a transport that does not authenticate the session (plain HTTP)
//     every message and every reply is authenticated (basic/md5: 200, md5
//     with the next nonce; hmac always); over one that does
//     (Inbound.SecureSession: TLS) basic/md5 authenticate once per session
//     (212).
//   - MsgID must be the previous one plus one (up to auth.MaxChallenges
//     more, since messages rejected for their credentials are not stored). An exact duplicate of the last
//     message (same MsgID, same bytes) gets the stored reply again (the device
//     lost our answer); any other MsgID gets a header Status 400 and changes
//     nothing.
//   - Everything one message changes (session state, jobs, device, tree
//     cache, events, traces) is stored as one atomic storage.Effects
//     (storage.WriteEffects): one group-committed transaction on SQLite, one
//     pipelined implicit transaction on PostgreSQL. What a message reads
//     first (device, session, job queue) is one storage.ReadMessage. The
//     session save carries an optimistic version check, so a node that
//     loses a race stores nothing and answers 503; the device retries. On a
//     store without batches the session is saved before anything else.
//   - The reply is encoded before anything is written; the stored session
//     state keeps it raw (not base64 in JSON) for duplicate detection.
//   - A job cancelled after its command was built but before it was stored
//     as sent is taken out of the reply: it never goes out. (The jobs of the
//     reply are guarded in the atomic write; a refused guard stores nothing
//     and the engine redoes the message's writes, withdrawing the command.)
//   - Statuses that alone exceed the device's MaxMsgSize are spread over
//     several messages (no Final, no new command until all are out), and
//     member Statuses of an Atomic/Sequence may follow the group's Status in
//     a later message of the device's package.
//   - A job is marked sent when its command goes out and done/failed only
//     when its Status (and, for Get, the end of the device's package with its
//     Results) arrived; anything unanswered stays sent and PendingJobs returns
//     it in the next session.
//   - A job whose command the device answered 215 (Not executed) is not
//     finished: it goes back to queued (Attempts kept) and fails after
//     maxAttempts sends. A 215 for an Atomic/Sequence member is part of the
//     group's result. When the device answered our SyncHdr with 401/407 and
//     a Chal (it rejected our credentials), the next message carries a Cred
//     built from the new nonce and resends the not-executed commands in the
//     same session; after auth.MaxChallenges such rejections, or one without
//     a Chal, the session ends and the jobs wait for the next session.
//   - Wire traces store the raw bytes only; api.TraceFrom decodes them when
//     they are read. Traces and the session-start/-end/-abort events are
//     written behind the messages (Options.TraceFlush, default 50 ms), many
//     sessions' worth per write; they describe the protocol's state but are
//     not part of it, and Engine.Close writes what is left.
package server

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/storage"
)

// Defaults applied by New to zero Options fields.
const (
	DefaultServerID   = "omadm"
	DefaultMaxMsgSize = 64 << 10
	DefaultMaxObjSize = 4 << 20
	DefaultSessionTTL = 10 * time.Minute
	DefaultTraceKeep  = 200
	DefaultEventKeep  = 30 * 24 * time.Hour

	DefaultDeviceEventRate  = 1.0
	DefaultDeviceEventBurst = 1000
)

// Options configure an Engine. Only Store is required; nil or zero fields take
// the defaults above, so a small deployment needs no tuning.
type Options struct {
	// Store holds devices, jobs, sessions, events, tree cache and traces.
	Store storage.Store
	// ServerID is our DM server identifier: the Source of our messages, the
	// user name of our credentials and the ServerID of package 0.
	ServerID string
	// Logger receives one line per rejected or failed message (nil: slog.Default()).
	Logger *slog.Logger
	// Senders deliver package 0, chosen by the scheme of Device.NotifyAddr
	// ("udp", "sms").
	Senders map[string]notification.Sender
	// MaxMsgSize is the largest message we accept (advertised in our SyncHdr
	// Meta). The device's own MaxMsgSize limits what we send.
	MaxMsgSize int
	// MaxObjSize is the largest object (reassembled from chunks) we accept.
	MaxObjSize int
	// SessionTTL is how long an idle session stays resumable.
	SessionTTL time.Duration
	// TraceKeep is how many wire traces are kept per device.
	TraceKeep int
	// TraceMaxAge, when positive, is how long a wire trace is kept: the
	// hourly sweep deletes older ones, oldest first (zero: traces are
	// limited by TraceKeep only).
	TraceMaxAge time.Duration
	// TraceMaxBytes, when positive, bounds the bytes all wire traces take
	// in storage: every housekeeping round (each minute) deletes the
	// oldest traces until the total is under it, a bounded number of
	// steps per round (zero: no size bound).
	TraceMaxBytes int64
	// EventKeep is how long events (generic alerts, session start and end)
	// are kept; an hourly sweep deletes older ones (zero: DefaultEventKeep;
	// negative: kept until their device is deleted).
	EventKeep time.Duration
	// DeviceEventRate and DeviceEventBurst are a device's event budget: the
	// events (generic alerts, session start and end) per second one device
	// may add, sustained, and how many at once (a token bucket per device,
	// per engine). Events are kept for EventKeep, so without a budget an
	// authenticated device could add millions a minute. A generic Alert
	// whose Items exceed what is left is stored not at all and answered
	// 503 (the device may send it again later); session start/end events
	// over the budget are not stored. Both are counted in
	// omadm_server_device_events_refused_total. Zero: the defaults;
	// a negative rate: no budget.
	DeviceEventRate  float64
	DeviceEventBurst int
	// JobKeep is how long finished jobs (done, failed, cancelled; counted
	// from their creation) are kept before the hourly sweep deletes them;
	// zero or negative keeps them (the default: they are the operator's
	// record of what was done to each device). Queued and sent jobs always
	// stay.
	JobKeep time.Duration
	// TraceFlush is how long wire traces and session start/end events may
	// wait to be written, many sessions' worth at a time, behind the
	// messages they describe (zero: DefaultTraceFlush). Negative writes
	// them inside each message's atomic write instead: nothing is lost
	// when the process is killed, at about half the sessions per second
	// on SQLite. Engine.Close (and Flush) writes the backlog.
	TraceFlush time.Duration
	// AuthLimits bound the answers, log lines and events of failed
	// authentications (zero: the defaults of AuthLimits).
	AuthLimits AuthLimits
	// OnEvent, when set, is called for live updates (job changes, device
	// events, session milestones, traces). It must not block.
	// FirmwareRequest, when set, is asked about a client-initiated firmware
	// update request (a FUMO devicerequest or userrequest generic alert)
	// while no firmware operation is queued for the device: it may queue one
	// (for example from a release policy). The alert is then answered 200
	// and the update goes out in the same session; otherwise 202. source is
	// the alert's FUMO node ("" = all firmware), data its Data. An error is
	// logged and answered 202.
	FirmwareRequest func(ctx context.Context, dev *storage.Device, source, data string) error
	OnEvent         func(Update)
}

// Update is a live notification about something the engine stored; it is
// the one live-update type from the engine to the API's server-sent event
// stream (api/handler.Relay takes it as is). An update of Kind "event" or
// "session" always names its stored event by EventID (the stream's resume
// cursor); "job" and "trace" updates name their record by JobID / TraceID.
type Update struct {
	Kind      string // "job", "event", "session" or "trace"
	DeviceID  string
	SessionID string
	JobID     int64            // Kind "job"
	State     storage.JobState // Kind "job": the job's new state
	EventID   int64            // Kind "event"
	EventKind string           // Kind "event": storage.Event.Kind; Kind "session": "session-start"/"session-end"
	TraceID   int64            // Kind "trace"
	Time      time.Time
}

func (o *Options) withDefaults() (Options, error) {
	r := *o
	if r.Store == nil {
		return r, errors.New("server: Options.Store is required")
	}
	if r.ServerID == "" {
		r.ServerID = DefaultServerID
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	if r.MaxMsgSize <= 0 {
		r.MaxMsgSize = DefaultMaxMsgSize
	}
	if r.MaxObjSize <= 0 {
		r.MaxObjSize = DefaultMaxObjSize
	}
	if r.SessionTTL <= 0 {
		r.SessionTTL = DefaultSessionTTL
	}
	if r.TraceKeep <= 0 {
		r.TraceKeep = DefaultTraceKeep
	}
	if r.EventKeep == 0 {
		r.EventKeep = DefaultEventKeep
	}
	if r.DeviceEventRate == 0 {
		r.DeviceEventRate = DefaultDeviceEventRate
	}
	if r.DeviceEventBurst <= 0 {
		r.DeviceEventBurst = DefaultDeviceEventBurst
	}
	if r.TraceFlush == 0 {
		r.TraceFlush = DefaultTraceFlush
	}
	return r, nil
}
