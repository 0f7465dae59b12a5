package server

import (
	"encoding/binary"
	"encoding/json"
	"errors"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// sessionState is everything the engine remembers between two messages of a
// session. It is stored in storage.Session.State (see encodeState) so that
// any engine instance can take the next message.
type sessionState struct {
	Enc      syncml.Encoding `json:"enc"`
	VerDTD   string          `json:"verdtd,omitempty"`
	VerProto string          `json:"verproto,omitempty"`
	// ServerURI is the Target LocURI the device addressed (our Source back).
	ServerURI string `json:"server_uri,omitempty"`

	// Authed is set once the device authenticated in this session (a
	// failed attempt stores no session at all).
	Authed bool `json:"authed,omitempty"`
	// SrvScheme is the scheme the device asked for in its last challenge of
	// our credentials ("" = the account's SRVCRED scheme).
	SrvScheme string `json:"srv_scheme,omitempty"`
	// SendCred asks for our credentials in the next message (first reply, or
	// the device challenged us).
	SendCred bool `json:"send_cred,omitempty"`
	// DevChallenges counts the device's 401/407 answers to our credentials
	// in this session; after auth.MaxChallenges the server stops retrying.
	DevChallenges int `json:"dev_challenges,omitempty"`
	// NotExec are jobs the device answered 215 (Not executed) in this
	// session without challenging us: they are queued again for the next
	// session, not resent in this one (the device chose not to run them, e.g.
	// after a cancelled confirmation). A challenge clears the list: then the
	// 215s were caused by our credentials and the commands go out again.
	NotExec []int64 `json:"not_exec,omitempty"`

	InMsgID  int `json:"in_msgid"`  // last accepted inbound MsgID
	OutMsgID int `json:"out_msgid"` // last MsgID we sent

	// Exact-duplicate detection: a device that lost our answer resends the
	// same bytes; it gets the stored answer again.
	InHash    []byte `json:"in_hash,omitempty"`
	LastReply []byte `json:"last_reply,omitempty"`
	LastHMAC  string `json:"last_hmac,omitempty"`

	DevMaxMsg int64 `json:"dev_max_msg,omitempty"` // device's MaxMsgSize (0 = not given)
	DevMaxObj int64 `json:"dev_max_obj,omitempty"` // device's MaxObjSize (0 = not given)

	// Pending maps "MsgID/CmdID" of every command we sent and whose answer
	// is still expected to the job it belongs to.
	Pending map[string]*pending `json:"pending,omitempty"`
	// Fallbacks are "set" re-sends (Add→Replace, Replace→Add) for the next package.
	Fallbacks []fallback `json:"fallbacks,omitempty"`
	// MidPackage is true when our last message had no Final because more
	// commands (or chunks) of the package follow.
	MidPackage bool   `json:"mid_package,omitempty"`
	OutLO      *outLO `json:"out_lo,omitempty"` // large object being sent
	// Deferred are Statuses that did not fit the device's MaxMsgSize; they
	// open our next message(s), before any new command (OMA-TS-DM_Protocol-V1_2 §6).
	Deferred []*syncml.Status `json:"deferred,omitempty"`
	InLO     *inLO            `json:"in_lo,omitempty"` // large object being received
}

// pending is one command (or Atomic/Sequence member, or chunk) awaiting its Status.
type pending struct {
	Job      int64  `json:"job"`
	Cmd      string `json:"cmd"`             // command name sent
	Child    int    `json:"child"`           // member index + 1 (0 = the job's own command)
	Chunk    bool   `json:"chunk,omitempty"` // a non-last large-object chunk: 213 expected
	Fallback bool   `json:"fallback,omitempty"`
	// Status and Results are collected until the job can be finalised.
	Status      int                  `json:"status,omitempty"`
	ChildStatus []int                `json:"child_status,omitempty"`
	Results     []storage.ResultItem `json:"results,omitempty"`
	Members     int                  `json:"members,omitempty"` // Atomic/Sequence size
	// Gets marks a job whose Results may follow its Status in later messages
	// of the device's package: it is finalised when that package ends.
	Gets bool `json:"gets,omitempty"`
	// LastChunk marks the last chunk of a large object (its Status is the
	// object's).
	LastChunk bool `json:"last_chunk,omitempty"`
	// Reason, when set, fails the job with this text whatever the status
	// code (a refused large-object chunk answered 200).
	Reason string `json:"reason,omitempty"`
	// Items holds every Status the device sent for the job's own command.
	// A device answers a command of several Items with one Status per Item
	// (or per group of Items with the same outcome) when the outcomes
	// differ, each naming its Items in TargetRef/SourceRef.
	Items []itemStatus `json:"items,omitempty"`
	// Multi marks a command of several Items: its Statuses may be spread
	// over the messages of the device's package, so the job is finalised
	// when that package ends.
	Multi bool `json:"multi,omitempty"`
}

// itemStatus is one Status for (some of) the Items of a job's command.
type itemStatus struct {
	Refs []string `json:"refs,omitempty"`
	Code int      `json:"code"`
}

type fallback struct {
	Job int64  `json:"job"`
	Cmd string `json:"cmd"` // "Add" or "Replace"
}

// outLO tracks a large Add/Replace item being sent in chunks; the data is
// rebuilt from the stored job each message, so only the offset is kept.
type outLO struct {
	Job int64  `json:"job"`
	Cmd string `json:"cmd"`
	Off int    `json:"off"`
}

// inLO is a large object the device sends in chunks (Results or an Alert
// item). With a store that keeps chunks (storage.ChunkStore) the data is not
// here: each chunk is appended to the store with the message that carried
// it, in the same atomic write as this state, and read back once when the
// last chunk arrives; Chunks and Got say what the store must hold. Otherwise
// Data accumulates here (the whole object rewritten with every message).
type inLO struct {
	Cmd        string `json:"cmd"` // "Results" or "Alert"
	MsgRef     string `json:"msg_ref,omitempty"`
	CmdRef     string `json:"cmd_ref,omitempty"`
	Alert      int    `json:"alert,omitempty"`
	Correlator string `json:"correlator,omitempty"`
	Source     string `json:"source,omitempty"`
	Target     string `json:"target,omitempty"`
	Format     string `json:"format,omitempty"`
	Type       string `json:"type,omitempty"`
	Mark       string `json:"mark,omitempty"`
	Size       int64  `json:"size"`
	Opaque     bool   `json:"opaque,omitempty"`
	Got        int64  `json:"got,omitempty"`    // bytes received so far
	Stored     bool   `json:"stored,omitempty"` // chunks are in the store, not in Data
	Chunks     int    `json:"chunks,omitempty"` // chunks stored (the next one's Seq)
	Data       []byte `json:"data,omitempty"`
}

// stateFormat2 starts a session state in the compact format: the bulky
// byte fields (the last reply, kept for duplicate detection, and the hash
// of the last message) stored raw, length-prefixed, before a JSON document
// with everything else. JSON would carry the reply base64-encoded and parse
// it on every message. A state starting with '{' is the older all-JSON
// format, still read.
const stateFormat2 = 0x02

// maxStateBytes bounds a stored state field.
const maxStateBytes = 64 << 20

func decodeState(b []byte) (*sessionState, error) {
	st := &sessionState{}
	if len(b) > 0 && b[0] == stateFormat2 {
		rest := b[1:]
		field := func() ([]byte, error) {
			n, k := binary.Uvarint(rest)
			if k <= 0 || n > maxStateBytes || n > uint64(len(rest)-k) {
				return nil, errors.New("server: session state is truncated")
			}
			v := rest[k : k+int(n)]
			rest = rest[k+int(n):]
			if n == 0 {
				return nil, nil
			}
			return v, nil
		}
		var err error
		if st.InHash, err = field(); err != nil {
			return nil, err
		}
		if st.LastReply, err = field(); err != nil {
			return nil, err
		}
		hash, reply := st.InHash, st.LastReply
		if err := json.Unmarshal(rest, st); err != nil {
			return nil, err
		}
		st.InHash, st.LastReply = hash, reply
	} else if len(b) > 0 {
		if err := json.Unmarshal(b, st); err != nil {
			return nil, err
		}
	}
	if st.Pending == nil {
		st.Pending = map[string]*pending{}
	}
	return st, nil
}

func encodeState(st *sessionState) ([]byte, error) {
	hash, reply := st.InHash, st.LastReply
	st.InHash, st.LastReply = nil, nil
	j, err := json.Marshal(st)
	st.InHash, st.LastReply = hash, reply
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(hash)+len(reply)+len(j))
	b = append(b, stateFormat2)
	b = binary.AppendUvarint(b, uint64(len(hash)))
	b = append(b, hash...)
	b = binary.AppendUvarint(b, uint64(len(reply)))
	b = append(b, reply...)
	return append(b, j...), nil
}
