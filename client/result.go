package client

import (
	"errors"
	"strings"
	"time"

	"github.com/omadm/omadm/syncml"
)

// Initiator says who started a session.
type Initiator int

// Session initiators.
const (
	// ClientInitiated sessions open with Alert 1201.
	ClientInitiated Initiator = iota
	// ServerInitiated sessions follow a verified package 0 and open with Alert 1200.
	ServerInitiated
)

func (i Initiator) String() string {
	if i == ServerInitiated {
		return "server"
	}
	return "client"
}

// Trigger says why a session starts.
type Trigger struct {
	Initiator Initiator
	// SessionID is the package 0 session id (server-initiated sessions only).
	SessionID uint16
	// Alerts are extra alerts (1224 client events, 1226 generic alerts) to send
	// in package 1, after the ones queued with QueueAlert.
	Alerts []*syncml.Alert
}

// State is how a session ended.
type State string

// Final states of a session.
const (
	StateCompleted State = "completed" // the server closed the session normally
	StateAborted   State = "aborted"   // Alert 1223 from either side
	StateFailed    State = "failed"    // transport, authentication or protocol failure
)

// CommandRecord is one server command the engine answered.
type CommandRecord struct {
	MsgID, CmdID string
	Name         string   // "Add", "Get", …
	Targets      []string // item Target (or Source) LocURIs
	Status       syncml.StatusCode
}

// SessionResult describes a finished session.
type SessionResult struct {
	SessionID string
	ServerID  string
	Initiator Initiator
	Started   time.Time
	Ended     time.Time
	// MessagesSent and MessagesReceived count DM messages exchanged.
	MessagesSent, MessagesReceived int
	// Commands are the server commands executed, with the status we returned,
	// in the order they were answered (members of Atomic/Sequence included).
	Commands []CommandRecord
	// AlertsSent are the alerts we sent, in order (1201/1200, 1222, 1224, 1226…).
	AlertsSent []syncml.AlertCode
	// ServerStatuses are the statuses the server returned for our commands.
	ServerStatuses []*syncml.Status
	State          State
	// Err is why the session failed or was aborted (nil when completed).
	Err error
}

// Reason is a one-line explanation of the outcome.
func (r *SessionResult) Reason() string {
	if r.Err != nil {
		return r.Err.Error()
	}
	return string(r.State)
}

// StatusOf returns the status we returned for the first command named name
// whose target is uri (any target when uri is ""), and whether one was found.
func (r *SessionResult) StatusOf(name, uri string) (syncml.StatusCode, bool) {
	for _, c := range r.Commands {
		if c.Name != name {
			continue
		}
		if uri == "" {
			return c.Status, true
		}
		for _, t := range c.Targets {
			if t == uri {
				return c.Status, true
			}
		}
	}
	return 0, false
}

func (r *SessionResult) String() string {
	var b strings.Builder
	b.WriteString("session ")
	b.WriteString(r.SessionID)
	b.WriteString(" ")
	b.WriteString(string(r.State))
	if r.Err != nil {
		b.WriteString(": ")
		b.WriteString(r.Err.Error())
	}
	return b.String()
}

// Errors a session can end with; test with errors.Is.
var (
	// ErrAuthFailed: the server rejected our credentials again after a retry.
	ErrAuthFailed = errors.New("client: authentication failed")
	// ErrServerAuth: the server's credentials were wrong or missing.
	ErrServerAuth = errors.New("client: server authentication failed")
	// ErrAborted: the server aborted the session with Alert 1223.
	ErrAborted = errors.New("client: session aborted by server")
	// ErrProtocol: the server sent a message that breaks the protocol.
	ErrProtocol = errors.New("client: protocol error")
	// ErrTransport: the server did not answer after every retry.
	ErrTransport = errors.New("client: transport failed")
	// ErrTooManyMessages: the session exceeded Config.MaxMessages.
	ErrTooManyMessages = errors.New("client: too many messages in one session")
	// ErrTooManyCommands: the server sent more than Config.MaxCommands
	// commands and statuses in one session (Alert 1223 sent).
	ErrTooManyCommands = errors.New("client: too many commands in one session")
	// ErrSessionTimeout: the session outlasted Config.MaxSessionTime (Alert
	// 1223 sent).
	ErrSessionTimeout = errors.New("client: session took too long")
	// ErrCancelled: the caller's context ended the session (Alert 1223 sent).
	ErrCancelled = errors.New("client: session cancelled")
	// ErrDeclined: the user refused an interactive (UI mode 11) notification.
	ErrDeclined = errors.New("client: session declined by the user")
	// ErrNotification: a package 0 was malformed, tampered or not for us.
	ErrNotification = errors.New("client: notification rejected")
)
