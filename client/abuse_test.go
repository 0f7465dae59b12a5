package client_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/syncml"
)

// The agent against a hostile or compromised DM server: each test names the
// attack and what the agent must do instead of obeying it.

// A RespURI moves the rest of the session (OMA-TS-SyncML_RepPro-V1_2, RespURI). A hostile
// server must not move it off http(s), nor from TLS to clear text, where
// the credentials of the next messages would travel unprotected
// (OMA-TS-DM_Security-V1_2 §5.3: TLS authenticates the session as a whole).
func TestAgent_RespURIThatLeavesTLSOrHTTPEndsTheSession(t *testing.T) {
	tests := []struct {
		name     string
		appAddr  string
		respURI  string
		wantNext string // URL of the second request; "" = the session ends with ErrProtocol
	}{
		{"https to http is a downgrade", testTLSURL, "http://127.0.0.1/dm?s=1", ""},
		{"https to HTTP in capitals too", testTLSURL, "HTTP://127.0.0.1/dm?s=1", ""},
		{"file scheme", testServerURL, "file:///etc/passwd", ""},
		{"other scheme", testServerURL, "ftp://127.0.0.1/dm", ""},
		{"relative URI", testServerURL, "/dm?s=1", ""},
		{"not a URL", testServerURL, "http://[::1", ""},
		{"https to https elsewhere is followed", testTLSURL, "https://127.0.0.2/dm?s=1", "https://127.0.0.2/dm?s=1"},
		{"http to https is followed", testServerURL, "https://127.0.0.1/dm?s=1", "https://127.0.0.1/dm?s=1"},
		{"http to http is followed", testServerURL, "http://127.0.0.1/dm?s=1", "http://127.0.0.1/dm?s=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t)
			srv := &scripted{t: t}
			srv.steps = []step{
				func(t *testing.T, got *syncml.Message) *syncml.Message {
					m := srv.reply(got, true, 0, &syncml.Get{Items: []syncml.Item{target("./Vendor/Name")}})
					m.Header.RespURI = tc.respURI
					return m
				},
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
			}
			c := newAgent(t, tr, srv, func(c *client.Config) { c.Account.ServerURL = tc.appAddr })
			_, err := c.Run(context.Background(), client.Trigger{})
			if tc.wantNext == "" {
				if !errors.Is(err, client.ErrProtocol) {
					t.Fatalf("err = %v, want ErrProtocol", err)
				}
				if len(srv.reqs) != 1 {
					t.Fatalf("agent sent %d messages; the second went to %q", len(srv.reqs), srv.reqs[len(srv.reqs)-1].URL)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := srv.reqs[1].URL; got != tc.wantNext {
				t.Fatalf("second message went to %q, want %q", got, tc.wantNext)
			}
		})
	}
}

// A message whose server credentials fail could come from anyone on the
// path; it gets 401 and a challenge (OMA-TS-DM_Security-V1_2 §5.3) and must
// not redirect the session to an address of its choosing.
func TestAgent_UnauthenticatedMessageCannotMoveTheSession(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			m := srv.reply(got, true, 0, &syncml.Get{Items: []syncml.Item{target("./Vendor/Name")}})
			m.Header.Cred = auth.MakeCred(syncml.AuthMD5, testServerID, "not-the-secret", []byte("srvnonce"))
			m.Header.RespURI = "http://127.0.0.9/steal"
			return m
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
	}
	c := newAgent(t, tr, srv, func(c *client.Config) {
		c.Account.AuthScheme = syncml.AuthMD5
		c.Account.ClientName, c.Account.ClientSecret = "dev", "devpw"
		c.Account.ServerSecret = "srvpw"
		c.Account.ServerNonce = []byte("srvnonce")
	})
	_, _ = c.Run(context.Background(), client.Trigger{})
	if len(srv.reqs) < 2 {
		t.Fatalf("agent sent %d messages, want its 401 answer", len(srv.reqs))
	}
	if got := summary(srv.got[1]); got != "Status 0 SyncHdr 401 | Status 2 Get 215 | Final" {
		t.Fatalf("answer = %q", got)
	}
	if got := srv.reqs[1].URL; got != testServerURL {
		t.Fatalf("answer to an unauthenticated message went to its RespURI %q, want %q", got, testServerURL)
	}
}

// A server can hold the device inside one session: a 1100 display whose
// MINDT is a week, or a slow answer to every one of MaxMessages messages.
// Config.MaxSessionTime bounds the whole session; the agent then tells the
// server it stops (Alert 1223, OMA-TS-DM_Protocol-V1_2 §8.4 session abort).
func TestAgent_SessionTimeBoundsAServerThatHoldsTheDevice(t *testing.T) {
	tests := []struct {
		name  string
		limit time.Duration // Config.MaxSessionTime (0 = default)
		want  time.Duration
	}{
		{"default bound", 0, 30 * time.Minute},
		{"configured bound", 2 * time.Minute, 2 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr := newTree(t)
				srv := &scripted{t: t}
				week := uiAlert(syncml.AlertDisplay, "MINDT=604800", "Please wait")
				srv.steps = []step{
					func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, 0, week) },
					func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
				}
				c := newAgent(t, tr, srv, func(c *client.Config) {
					c.UI = client.AutoAnswer{}
					c.Clock = nil // the system clock, faked by synctest
					c.MaxSessionTime = tc.limit
				})
				start := time.Now()
				res, err := c.Run(context.Background(), client.Trigger{})
				if !errors.Is(err, client.ErrSessionTimeout) || res.State != client.StateAborted {
					t.Fatalf("err = %v, state %s; want ErrSessionTimeout, aborted", err, res.State)
				}
				if took := time.Since(start); took != tc.want {
					t.Fatalf("session held the device %v, want %v", took, tc.want)
				}
				last := srv.got[len(srv.got)-1]
				if got := summary(last); got != "Status 0 SyncHdr 200 | Status 2 Alert 200 | Alert 1223 | Final" {
					t.Fatalf("last message = %q, want the display's status and Alert 1223", got)
				}
			})
		})
	}
}

// A server that may read one large value can ask for it many times in one
// package (or in one Get of many items): each copy would wait in memory for
// its turn under the server's MaxMsgSize. Past Config.MaxPendingResults the
// agent answers 417 Retry later (SyncML RepPro 1.2 §10) for the items it does
// not read, so memory holds a bounded number of copies.
func TestAgent_RepeatedGetsOfALargeValueAreBoundedBy417(t *testing.T) {
	const mib = 1 << 20
	big := strings.Repeat("x", mib)
	get := func(n int) []syncml.Command {
		var cmds []syncml.Command
		for i := 0; i < n; i++ {
			cmds = append(cmds, &syncml.Get{Items: []syncml.Item{target("./Vendor/Big")}})
		}
		return cmds
	}
	manyItems := &syncml.Get{}
	for i := 0; i < 6; i++ {
		manyItems.Items = append(manyItems.Items, target("./Vendor/Big"))
	}
	tests := []struct {
		name  string
		cmds  []syncml.Command
		want  []syncml.StatusCode // statuses of the Get items, in order
		nRead int                 // values read (Results items)
	}{
		{"six Gets", get(6), []syncml.StatusCode{200, 200, 200, 417, 417, 417}, 3},
		{"one Get of six items", []syncml.Command{manyItems}, []syncml.StatusCode{200, 200, 200, 417, 417, 417}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t)
			mustAdd(t, tr, "./Vendor/Big", big)
			srv := &scripted{t: t}
			srv.steps = []step{
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, 0, tc.cmds...) },
			}
			for i := 0; i < 8; i++ {
				srv.steps = append(srv.steps, func(t *testing.T, got *syncml.Message) *syncml.Message {
					return srv.reply(got, false, syncml.StatusOK, &syncml.Alert{Data: syncml.AlertNextMessage})
				})
			}
			srv.steps = append(srv.steps, func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) })
			c := newAgent(t, tr, srv, func(c *client.Config) {
				c.MaxPendingResults = 3 * mib
				c.MaxMsgSize = 8 * mib
			})
			_, _ = c.Run(context.Background(), client.Trigger{})
			var codes []syncml.StatusCode
			read := 0
			for _, m := range srv.got[1:] {
				for _, cmd := range m.Body {
					switch cmd := cmd.(type) {
					case *syncml.Status:
						if cmd.Cmd == "Get" {
							codes = append(codes, cmd.Data) // one Status per item
						}
					case *syncml.Results:
						read += len(cmd.Items)
					}
				}
			}
			if read != tc.nRead {
				t.Fatalf("agent read the value %d times, want %d (statuses %v)", read, tc.nRead, codes)
			}
			if len(codes) != len(tc.want) {
				t.Fatalf("Get statuses %v, want %v", codes, tc.want)
			}
			for i := range codes {
				if codes[i] != tc.want[i] {
					t.Fatalf("Get statuses %v, want %v", codes, tc.want)
				}
			}
		})
	}
}

// A server that keeps a session going with message after message full of
// commands (or of statuses) would grow what the engine records of the
// session without bound. Config.MaxCommands bounds them: past it the agent
// stops with Alert 1223 (OMA-TS-DM_Protocol-V1_2 §8.4 session abort) and
// runs nothing more.
func TestAgent_EndlessCommandsStopAtMaxCommands(t *testing.T) {
	get := func() syncml.Command { return &syncml.Get{Items: []syncml.Item{target("./Vendor/Name")}} }
	tests := []struct {
		name string
		per  int // commands and statuses per server message, its SyncHdr Status included
		cmds func() []syncml.Command
	}{
		{"Gets", 5, func() []syncml.Command { return []syncml.Command{get(), get(), get(), get()} }},
		{"an Atomic of Replaces", 6, func() []syncml.Command {
			a := &syncml.Atomic{}
			for i := 0; i < 4; i++ {
				a.Commands = append(a.Commands, &syncml.Replace{CmdID: strconv.Itoa(10 + i), Items: []syncml.Item{item("./Vendor/Color", "red")}})
			}
			return []syncml.Command{a}
		}},
		{"statuses", 5, func() []syncml.Command {
			var out []syncml.Command
			for i := 0; i < 4; i++ {
				out = append(out, &syncml.Status{MsgRef: "1", CmdRef: "1", Cmd: "Alert", Data: syncml.StatusOK})
			}
			return out
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t)
			srv := &scripted{t: t}
			for i := 0; i < 50; i++ {
				srv.steps = append(srv.steps, func(t *testing.T, got *syncml.Message) *syncml.Message {
					return srv.reply(got, false, syncml.StatusOK, tc.cmds()...)
				})
			}
			srv.steps[0] = func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, false, 0, tc.cmds()...) }
			c := newAgent(t, tr, srv, func(c *client.Config) { c.MaxCommands = 20 })
			res, err := c.Run(context.Background(), client.Trigger{})
			if !errors.Is(err, client.ErrTooManyCommands) || res.State != client.StateAborted {
				t.Fatalf("err = %v, state %s; want ErrTooManyCommands, aborted", err, res.State)
			}
			// Server message k crosses 20 and is not run: the agent sent
			// package 1, k-1 answers and its abort.
			k := 20/tc.per + 1
			if len(srv.got) != k+1 {
				t.Fatalf("agent sent %d messages, want %d (the last one its abort)", len(srv.got), k+1)
			}
			last := srv.got[len(srv.got)-1]
			if s := summary(last); !strings.Contains(s, "Alert 1223") || strings.Contains(s, "Results") || strings.Contains(s, "Replace") {
				t.Fatalf("abort message = %q: commands of the refused message ran", s)
			}
		})
	}
}

// UI alert texts and choices come from the server and go to the user's
// terminal (OMA-TS-DM_Protocol-V1_2 §10.3 user interaction): escape
// sequences in them must not reach it, or a server could clear the screen,
// rewrite the prompt or retitle the window; bidirectional overrides must not
// make a choice read as something else.
func TestTerminal_ServerTextCannotDriveTheTerminal(t *testing.T) {
	var out strings.Builder
	term := &client.Terminal{In: strings.NewReader("1\n"), Out: &out}
	_, err := term.Prompt(context.Background(), &client.UIAlert{
		Code:    syncml.AlertSingleChoice,
		Text:    "Update\x1b[2J\x1b]0;pwned\x07 now?\r\nline two\tend\x9b31m",
		Choices: []string{"yes\u202Eon", "no\x00\x08\x08\x08yes", "ok\xff"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, bad := range []string{"\x1b", "\x07", "\r", "\x00", "\x08", "\u009b", "\u202E", "\xff"} {
		if strings.Contains(got, bad) {
			t.Errorf("terminal output carries %q:\n%q", bad, got)
		}
	}
	for _, kept := range []string{"Update", "now?", "\nline two\tend", "yes", "on"} {
		if !strings.Contains(got, kept) {
			t.Errorf("terminal output lost %q:\n%q", kept, got)
		}
	}
}

// The engine knows no address syntax: a transport without address rules (a
// connection-bound binding such as OBEX, which ignores Request.URL) lets
// the session follow whatever RespURI the authenticated server sent
// (OMA-TS-SyncML_RepPro-V1_2, RespURI); the rules are the binding's
// (client.RespURIChecker).
func TestAgent_TransportWithoutAddressRulesFollowsAnyRespURI(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			m := srv.reply(got, true, 0, &syncml.Get{Items: []syncml.Item{target("./Vendor/Name")}})
			m.Header.RespURI = "obex-session-7"
			return m
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
	}
	bare := client.TransportFunc(srv.RoundTrip) // no CheckRespURI
	c := newAgent(t, tr, srv, func(c *client.Config) { c.Transport = bare })
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := srv.reqs[1].URL; got != "obex-session-7" {
		t.Fatalf("second message went to %q, want the RespURI", got)
	}
}
