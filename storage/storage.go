// Package storage defines what the DM server keeps and the interfaces every
// backend implements: devices and their credentials, the per-device job queue,
// session state (so any server node can continue any session) with the chunks
// of inbound large objects, events (generic alerts), the device tree cache,
// wire traces, MO operations, campaigns, the device inventory and groups,
// connectivity profiles and housekeeping; and the rules the API and the engine
// share for what a job and an identifier may hold (jobspec.go) and how a
// device password is stored (credentials.go).
//
// Backends: storage/sqlite (embedded default), storage/postgres and the
// in-memory storage/memstore. All run the conformance suite in
// storage/storagetest.
package storage

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap or return these so callers can use errors.Is.
var (
	ErrNotFound = errors.New("storage: not found")
	ErrExists   = errors.New("storage: already exists")
	// ErrConflict reports a failed optimistic-concurrency check (another node
	// changed the record first).
	ErrConflict = errors.New("storage: concurrent update")
)

// Device is an enrolled device and the credentials for both directions.
type Device struct {
	ID string // DM device id as sent in SyncHdr/Source/LocURI, e.g. "IMEI:493005100592800"
	// AuthScheme is the scheme the device must use: "basic", "md5" or "hmac".
	AuthScheme string
	Username   string // client→server user name (Source/LocName, HMAC username)
	// Password is the client→server password, an input only: stores never
	// keep it. CreateDevice and UpdateDevice store PasswordHash computed from
	// it when it is set (and the PasswordHash given otherwise); reads return
	// Password empty.
	Password string
	// PasswordHash is what stores keep of the client→server password:
	// auth.UserHash(Username, Password) = B64(MD5(username ":" password)),
	// which verifies basic, md5 and hmac credentials alike (see
	// HashPassword), so the device may change scheme without a new password.
	// It depends on Username: a new user name needs the password again.
	PasswordHash string
	// ServerPassword authenticates the server to the device (server Cred,
	// pkg0 digest). It must be recoverable, so SQL stores seal it with a
	// secret key (storage/secret) and open it on read.
	ServerPassword string
	// ServerAuthScheme is the scheme of the server's own credentials toward
	// the device (SRVCRED: "basic", "md5" or "hmac"); "" means the same as
	// AuthScheme. OMA-TS-DM_Security-V1_2 §5.3: each direction has its own.
	ServerAuthScheme string
	// CertSHA256 is the lower-case hex SHA-256 of the DER TLS client
	// certificate bound to this device ("" = none), and TransportAuth the
	// account's policy for it: "" (DM-level credentials always required),
	// "cert" (a message over TLS with the bound certificate needs no DM-level
	// credentials) or "cert+dm" (both are required).
	CertSHA256    string
	TransportAuth string
	// ServerNonce is the nonce the server issued to the device (the device hashes
	// its next credentials with it). ClientNonce is the nonce the device issued
	// to the server (for the server's credentials and the pkg0 digest).
	ServerNonce []byte
	ClientNonce []byte
	NotifyAddr  string // where package 0 goes: "udp://host:port", "sms:+number", or "" (none)
	// DevInfo holds the last ./DevInfo values reported in package 1 and the
	// last ./DevDetail FwV, SwV, HwV, OEM and DevTyp values a Get returned
	// (URI → value): what the fleet search selects on.
	DevInfo   map[string]string
	Labels    map[string]string // operator labels
	CreatedAt time.Time
	LastSeen  time.Time // zero until the first session
}

// JobState is the life-cycle state of a queued command.
type JobState string

// Job states.
const (
	JobQueued    JobState = "queued"
	JobSent      JobState = "sent"
	JobDone      JobState = "done"
	JobFailed    JobState = "failed"
	JobCancelled JobState = "cancelled"
)

// Terminal reports whether no further change happens to a job in this state.
func (s JobState) Terminal() bool { return s == JobDone || s == JobFailed || s == JobCancelled }

// JobSpec describes the command to send. It is stored as JSON.
type JobSpec struct {
	// Command is Get, Replace, Add, Delete, Exec, Copy, Atomic, Sequence or Alert.
	Command string    `json:"command"`
	Items   []JobItem `json:"items,omitempty"`
	// Set makes an Add fall back to Replace when the device answers 418 (and a
	// Replace fall back to Add on 404): idempotent configuration.
	Set bool `json:"set,omitempty"`
	// Children are the members of an Atomic or Sequence.
	Children   []JobSpec `json:"children,omitempty"`
	Alert      *UIAlert  `json:"alert,omitempty"` // Command "Alert": a user-interaction alert
	Correlator string    `json:"correlator,omitempty"`
}

// JobItem is one target of a command.
type JobItem struct {
	URI    string `json:"uri"`              // Item Target (Copy: destination)
	Source string `json:"source,omitempty"` // Copy: origin
	Format string `json:"format,omitempty"` // Meta Format: chr, int, bool, b64, bin, node, xml, …
	Type   string `json:"type,omitempty"`   // Meta Type (MIME)
	// Data is the value. For Format b64 or bin it is base64 text.
	Data    string `json:"data,omitempty"`
	HasData bool   `json:"has_data,omitempty"` // send <Data/> even when Data is ""
}

// UIAlert is a user-interaction alert (1100–1104).
type UIAlert struct {
	Code      int      `json:"code"`              // 1100..1104
	Text      string   `json:"text"`              // message shown to the user
	MinDT     int      `json:"mindt,omitempty"`   // seconds
	MaxDT     int      `json:"maxdt,omitempty"`   // seconds
	Default   string   `json:"default,omitempty"` // DR
	MaxLen    int      `json:"maxlen,omitempty"`
	InputType string   `json:"input_type,omitempty"` // IT: A, N, D, T, P, I
	EchoType  string   `json:"echo_type,omitempty"`  // ET: T, P
	Choices   []string `json:"choices,omitempty"`
}

// ResultItem is one Item of a Results (or of a Status Item, e.g. a UI answer).
type ResultItem struct {
	URI    string `json:"uri"`
	Format string `json:"format,omitempty"`
	Type   string `json:"type,omitempty"`
	Data   string `json:"data"` // base64 text when Format is b64 or bin
	// Status is the Item's own SyncML status when the device answered the
	// Items of one command with different statuses and this one failed (a
	// Get's absent URI: 404); 0 otherwise.
	Status int `json:"status,omitempty"`
}

// Job is one queued command for one device.
type Job struct {
	ID       int64
	DeviceID string
	Spec     JobSpec
	State    JobState
	Status   int          // SyncML status of the command (0 until known)
	Results  []ResultItem // from Results (Get) or Status Items (UI alerts)
	// ChildStatus holds the per-member statuses of Atomic/Sequence, in order.
	ChildStatus []int
	Error       string // human-readable failure reason, if any
	SessionID   string // session the job was last sent in
	Attempts    int    // times sent
	CreatedAt   time.Time
	SentAt      time.Time
	DoneAt      time.Time
}

// JobFilter selects jobs in ListJobs.
type JobFilter struct {
	DeviceID string     // "" = all devices
	States   []JobState // empty = all states
	AfterID  int64      // paging: only IDs > AfterID
	Limit    int        // 0 = backend default (100)
}

// Session is the engine's state of one DM session, stored so any node can
// handle the next message. State is opaque to storage.
type Session struct {
	DeviceID  string
	SessionID string // SyncML SessionID
	Token     string // unique key embedded in RespURI
	State     []byte // engine-owned, opaque
	Version   int64  // optimistic concurrency: incremented by every successful save
	Closed    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Event is something a device reported: a generic alert (1226), a client
// event (1224), or a session milestone recorded by the server.
type Event struct {
	ID         int64
	DeviceID   string
	SessionID  string
	Kind       string // "generic-alert", "client-event", "session-start", "session-end", …
	Type       string // Meta Type of the item (e.g. org.openmobilealliance.dm.firmwareupdate.update)
	Source     string // Item Source LocURI
	Target     string // Item Target LocURI
	Format     string
	Mark       string
	Data       string
	Correlator string
	CreatedAt  time.Time
}

// TraceEntry is one DM message as it crossed the wire.
type TraceEntry struct {
	ID          int64
	DeviceID    string
	SessionID   string
	Direction   string // "in" (device → server) or "out"
	MsgID       string
	ContentType string
	Body        []byte // exact bytes on the wire
	// Decoded is an optional indented XML view (also for WBXML). The engine
	// leaves it empty to keep the hot path cheap; readers decode Body when
	// they show it (api.TraceFrom).
	Decoded   string
	CreatedAt time.Time
}

// TreeNode is the server's last known view of one device node (from Results).
type TreeNode struct {
	DeviceID  string
	URI       string
	Format    string
	Type      string
	Value     string // base64 for b64/bin formats; child list for interior nodes
	UpdatedAt time.Time
}

// Store is the whole storage contract. Every method is safe for concurrent use
// by many goroutines and many server processes sharing one database.
type Store interface {
	// Devices and their credentials.
	DeviceStore
	// The per-device job queue.
	JobStore
	// DM session state.
	SessionStore
	// Device reports and session milestones.
	EventStore
	// The device tree cache.
	TreeCache
	// Wire traces.
	TraceStore

	// Operations (MO actions with their job, correlator and report).
	OperationStore
	OperationAttemptStore
	// Retention in bounded, set-based steps (traces, closed sessions).
	Housekeeper
	// Retention of the traces by their total size.
	TraceByteKeeper

	// Campaigns (an operation template rolled out to a device snapshot).
	CampaignStore

	// Connectivity profiles.
	ProfileStore
	// Named API tokens.
	TokenStore

	// Fleet inventory: device search, labels, import; groups.
	Inventory
	GroupStore

	// Ping checks the database is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// Batcher is an optional ability of a Store (found by type assertion): run
// several operations as one atomic unit. The SQL backends implement it with one
// database transaction, which is both what makes "nothing stored half-way"
// hold for a whole DM message and what makes a message cost one commit instead
// of one per write.
//
// Batch calls fn with a Store bound to the unit: reads through it see the
// unit's own writes; when fn returns nil every write is committed together,
// when it returns an error (or panics) none is, and Batch returns fn's error
// unchanged (errors.Is works on it). A failed optimistic check inside the unit
// (SaveSession's version, UpdateJob's terminal guard) reports ErrConflict as
// usual and leaves the unit usable, so fn decides whether to go on.
//
// fn must do all its storage work through the Store it is given: on a backend
// with a single writer (SQLite), writing through the outer Store from inside
// fn waits for the unit to end, i.e. forever. Batch called on the inner Store
// runs fn inside the same unit. Close on the inner Store is an error.
type Batcher interface {
	Batch(ctx context.Context, fn func(s Store) error) error
}

// InBatch runs fn as one atomic unit when s is a Batcher, and directly on s
// (each write on its own) otherwise, so callers need one code path for both
// kinds of store.
func InBatch(ctx context.Context, s Store, fn func(s Store) error) error {
	if b, ok := s.(Batcher); ok {
		return b.Batch(ctx, fn)
	}
	return fn(s)
}

// ErrInBatch is returned by operations that make no sense on the Store a
// Batcher hands to its function (Close).
var ErrInBatch = errors.New("storage: not allowed inside a batch")
