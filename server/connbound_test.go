package server_test

import (
	"testing"

	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/server/envelope"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// connBinding is the addressing of a connection-bound binding (an OBEX
// connection over TCP or a serial line): there is no URL, the connection is
// the session's address. It remembers the token of the last reply it sent
// and hands it to the engine with the connection's next message; it writes
// no RespURI.
type connBinding struct {
	secure  bool   // the link authenticates the session (OMA-TS-DM_Security-V1_2 §5.3)
	token   string // Outbound.Token of the last reply sent on the connection
	asked   []string
	replies int
}

var _ envelope.Addressing = (*connBinding)(nil)

func (c *connBinding) Token() string { return c.token }

func (c *connBinding) RespURI(token string) string {
	c.asked = append(c.asked, token)
	return ""
}

// sent is called once the reply went out on the connection.
func (c *connBinding) sent(out *server.Outbound) {
	c.replies++
	c.token = out.Token
}

// A binding whose connection is the session (OBEX) needs no RespURI: the
// engine asks it for one, gets "", writes none, and tells it the token for
// the connection's next message in Outbound.Token; the session runs to its
// end and the connection forgets the token with the last reply
// (OMA-TS-DM_Protocol-V1_2 §8: the server ends the session with a Final
// message carrying no commands). Over a link that authenticates the session
// the credentials are checked once (212) and the token proves the later
// messages (OMA-TS-DM_Security-V1_2 §5.3); over one that does not, every
// message carries them (200 with the next nonce).
func TestEngine_SessionOverConnectionBoundTransportNeedsNoRespURI(t *testing.T) {
	tests := []struct {
		name       string
		secure     bool
		firstCode  syncml.StatusCode
		laterCreds bool // the device's second message carries credentials
		laterCode  syncml.StatusCode
	}{
		{"link authenticates the session", true, syncml.StatusAuthAccepted, false, syncml.StatusOK},
		{"link does not", false, syncml.StatusOK, true, syncml.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.addDevice(t, "md5")
			get := h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}})
			d := newDevice(h.e, "md5")
			d.url = ""
			d.conn = &connBinding{secure: tc.secure}

			r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
			if st := hdrStatus(t, r); st.Data != tc.firstCode {
				t.Fatalf("package 2 header status %d, want %d", st.Data, tc.firstCode)
			}
			if r.Header.RespURI != "" {
				t.Fatalf("package 2 carries RespURI %q; the connection is the address", r.Header.RespURI)
			}
			if got := names(commands(r)); len(got) != 1 || got[0] != "Get" {
				t.Fatalf("package 2 commands %v, want the queued Get", got)
			}
			if d.conn.token == "" {
				t.Fatal("Outbound.Token is empty: the connection has no token for the session's next message")
			}
			if len(d.conn.asked) == 0 || d.conn.asked[0] != d.conn.token {
				t.Fatalf("engine asked RespURI for %q, want the token it returned (%q)", d.conn.asked, d.conn.token)
			}

			if !tc.laterCreds {
				d.scheme = "" // the session token the connection carries proves the session
			}
			r = d.post(t, d.message(true, d.answer(r, nil, fwResults)...))
			if st := hdrStatus(t, r); st.Data != tc.laterCode {
				t.Fatalf("package 4 header status %d, want %d", st.Data, tc.laterCode)
			}
			if !r.Final || len(commands(r)) != 0 || r.Header.RespURI != "" {
				t.Fatalf("package 4: final %v, commands %v, RespURI %q; want the session's end", r.Final, names(commands(r)), r.Header.RespURI)
			}
			if d.conn.token != "" {
				t.Fatalf("the reply ending the session left token %q for the connection", d.conn.token)
			}
			if j := h.job(t, get); j.State != storage.JobDone {
				t.Fatalf("job %s, want done", j.State)
			}
		})
	}
}

// A connection that carries a token the engine does not know (the session
// was swept, or the peer made it up) is refused like an unknown RespURI:
// a header Status 404 and nothing else, and no token to carry on with.
func TestEngine_ConnectionBoundUnknownTokenIsRefused(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "md5")
	d := newDevice(h.e, "md5")
	d.conn = &connBinding{secure: true, token: "made-up"}
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	if st := hdrStatus(t, r); st.Data != syncml.StatusNotFound {
		t.Fatalf("header status %d, want 404", st.Data)
	}
	if d.conn.token != "" || r.Header.RespURI != "" {
		t.Fatalf("token %q RespURI %q after a refusal, want none", d.conn.token, r.Header.RespURI)
	}
}

// A refused message of a live session leaves the session addressed: a MsgID
// out of sequence gets a header Status 400 (OMA-TS-SyncML_RepPro-V1_2,
// MsgID: each message of a session takes the next ID) and changes nothing, and the connection keeps the
// token, so the device's next message, with the right MsgID, continues the
// session without credentials over a link that authenticates it.
func TestEngine_ConnectionBoundKeepsTokenAfterARefusedMessage(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "md5")
	h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}})
	d := newDevice(h.e, "md5")
	d.conn = &connBinding{secure: true}
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	tok := d.conn.token
	d.scheme = ""
	ahead := *d
	ahead.msgID += 10
	bad := ahead.post(t, ahead.message(true, ahead.answer(r, nil, fwResults)...))
	if st := hdrStatus(t, bad); st.Data != syncml.StatusBadRequest {
		t.Fatalf("out-of-sequence message answered %d, want 400", st.Data)
	}
	if d.conn.token != tok {
		t.Fatalf("token after a refused message %q, want the session's %q", d.conn.token, tok)
	}
	r = d.post(t, d.message(true, d.answer(r, nil, fwResults)...))
	if st := hdrStatus(t, r); st.Data != syncml.StatusOK || !r.Final {
		t.Fatalf("next message answered %d (final %v), want 200 and the session's end", st.Data, r.Final)
	}
}
