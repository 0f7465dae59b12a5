package e2e_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// rawDevice builds exact messages for lock-step tests (basic auth, so the
// credentials do not depend on nonces).
type rawDevice struct {
	id, user, pw string
	enc          syncml.Encoding
}

func (d rawDevice) message(t *testing.T, target, session string, msgID int, password string, cmds ...syncml.Command) []byte {
	t.Helper()
	m := &syncml.Message{Final: true, Body: cmds, Header: syncml.Header{
		VerDTD: syncml.VerDTD12, VerProto: syncml.VerProto12, SessionID: session, MsgID: strconv.Itoa(msgID),
		Target: syncml.Location{LocURI: target}, Source: syncml.Location{LocURI: d.id, LocName: d.user},
		Cred: auth.MakeCred(syncml.AuthBasic, d.user, password, nil),
	}}
	b, err := syncml.Encode(m, d.enc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (d rawDevice) pkg1(t *testing.T, url string, msgID int, password string, alertCmdID string) []byte {
	return d.message(t, url, "5A", msgID, password,
		&syncml.Alert{CmdID: alertCmdID, Data: syncml.AlertClientInitiatedMgmt},
		&syncml.Replace{CmdID: "9", Items: []syncml.Item{{Source: &syncml.Location{LocURI: "./DevInfo/DevId"},
			Meta: &syncml.Meta{Format: "chr", Type: "text/plain"}, Data: syncml.TextData(d.id)}}})
}

func decodeReply(t *testing.T, b []byte) *syncml.Message {
	t.Helper()
	m, _, err := syncml.Decode(b, "", nil)
	if err != nil {
		t.Fatalf("reply does not decode: %v", err)
	}
	return m
}

func headerStatus(t *testing.T, m *syncml.Message) syncml.StatusCode {
	t.Helper()
	for _, c := range m.Body {
		if s, ok := c.(*syncml.Status); ok && s.CmdRef == "0" {
			return s.Data
		}
	}
	t.Fatal("reply has no SyncHdr status")
	return 0
}

func TestE2E_BadInputGetsTheRightStatusALogLineAndStoresNothing(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		logs := &logBuffer{}
		n := startNode(t, st, withLogs(logs), func(so *server.Options, ho *dmhttp.HandlerOptions) {
			so.AuthLimits.LogEvery, ho.LogEvery = -1, -1 // every refusal logged, to check each line
		})
		a := newAgent(t, st, n.url, enc, withAuth(sim.AuthBasic))
		c := a.Credentials()
		d := rawDevice{id: a.ID(), user: c.Username, pw: c.Password, enc: enc}
		ctx := context.Background()
		id := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item("./DevInfo/Man")})
		good := d.pkg1(t, n.url, 1, c.Password, "1")
		unchanged := func(t *testing.T, wantState storage.JobState) {
			t.Helper()
			j := job(t, st, id)
			if j.State != wantState || j.Status != 0 || len(j.Results) != 0 {
				t.Errorf("job is %s/%d with %d results, want %s untouched", j.State, j.Status, len(j.Results), wantState)
			}
			evs, err := st.ListEvents(ctx, a.ID(), 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				if e.Kind == "generic-alert" {
					t.Errorf("event stored: %+v", e)
				}
			}
		}

		// logged asserts that since mark the node logged a line at level with
		// every one of want in it: each rejection must leave a trace an
		// operator can find.
		logged := func(t *testing.T, mark int, level string, want ...string) {
			t.Helper()
			out := logs.since(mark)
			for _, line := range strings.Split(out, "\n") {
				ok := strings.Contains(line, "level="+level)
				for _, w := range want {
					ok = ok && strings.Contains(line, w)
				}
				if ok {
					return
				}
			}
			t.Errorf("no %s log line with %q; the node logged:\n%s", level, want, out)
		}
		t.Run("malformed message is HTTP 400", func(t *testing.T) {
			mark := logs.mark()
			code, _ := post(t, n.url, enc.ContentType(), good[:len(good)*2/3])
			if code != http.StatusBadRequest {
				t.Errorf("HTTP %d, want 400", code)
			}
			logged(t, mark, "WARN", `msg="dm message rejected: malformed"`, "err=", "offset ")
			unchanged(t, storage.JobQueued)
		})
		t.Run("garbage in the other encoding is HTTP 400", func(t *testing.T) {
			mark := logs.mark()
			code, _ := post(t, n.url, enc.ContentType(), []byte("\x03\x01\x6a\x00\xff\xff\xff\xff\xff<SyncML"))
			if code != http.StatusBadRequest {
				t.Errorf("HTTP %d, want 400", code)
			}
			logged(t, mark, "WARN", `msg="dm message rejected: malformed"`, "err=")
			unchanged(t, storage.JobQueued)
		})
		t.Run("oversized body is HTTP 413", func(t *testing.T) {
			mark := logs.mark()
			code, _ := post(t, n.url, enc.ContentType(), bytes.Repeat([]byte{'<'}, 5<<20))
			if code != http.StatusRequestEntityTooLarge {
				t.Errorf("HTTP %d, want 413", code)
			}
			logged(t, mark, "WARN", `msg="dm request rejected: body too large"`, "length=5242880")
			unchanged(t, storage.JobQueued)
		})
		t.Run("oversized body without a length is HTTP 413", func(t *testing.T) {
			mark := logs.mark()
			// An unknown length (chunked): the limit applies while reading.
			body := io.MultiReader(bytes.NewReader(bytes.Repeat([]byte{'<'}, 5<<20)))
			resp, err := http.Post(n.url, enc.ContentType(), body)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("HTTP %d, want 413", resp.StatusCode)
			}
			logged(t, mark, "WARN", `msg="dm request rejected: body too large"`, "max=")
			unchanged(t, storage.JobQueued)
		})
		t.Run("wrong content type is HTTP 415", func(t *testing.T) {
			mark := logs.mark()
			code, _ := post(t, n.url, "application/json", good)
			if code != http.StatusUnsupportedMediaType {
				t.Errorf("HTTP %d, want 415", code)
			}
			logged(t, mark, "WARN", `msg="dm request rejected: content type"`, "content_type=application/json")
			unchanged(t, storage.JobQueued)
		})
		t.Run("wrong credentials get 401 and no commands", func(t *testing.T) {
			mark := logs.mark()
			code, body := post(t, n.url, enc.ContentType(), d.pkg1(t, n.url, 1, "wrong-password", "1"))
			if code != http.StatusOK {
				t.Fatalf("HTTP %d", code)
			}
			r := decodeReply(t, body)
			if s := headerStatus(t, r); s != syncml.StatusInvalidCredentials {
				t.Errorf("SyncHdr status %s, want 401", s)
			}
			for _, c := range r.Body {
				if _, ok := c.(*syncml.Status); !ok {
					t.Errorf("unauthenticated device got %s", c.CommandName())
				}
			}
			logged(t, mark, "WARN", `msg="dm authentication failed"`, "device="+a.ID(), "status=401")
			unchanged(t, storage.JobQueued)
		})
		t.Run("unknown session token gets 404", func(t *testing.T) {
			mark := logs.mark()
			code, body := post(t, n.url+"?s=no-such-session", enc.ContentType(), d.pkg1(t, n.url, 2, c.Password, "1"))
			if code != http.StatusOK {
				t.Fatalf("HTTP %d", code)
			}
			if s := headerStatus(t, decodeReply(t, body)); s != syncml.StatusNotFound {
				t.Errorf("SyncHdr status %s, want 404", s)
			}
			logged(t, mark, "WARN", `msg="dm message rejected: unknown, expired or closed session token"`, "device="+a.ID())
			unchanged(t, storage.JobQueued)
		})
		t.Run("replayed MsgID gets 400, an exact duplicate the same reply", func(t *testing.T) {
			first := d.message(t, n.url, "6B", 1, c.Password,
				&syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt},
				&syncml.Replace{CmdID: "2", Items: []syncml.Item{{Source: &syncml.Location{LocURI: "./DevInfo/DevId"},
					Meta: &syncml.Meta{Format: "chr"}, Data: syncml.TextData(d.id)}}})
			code, reply1 := post(t, n.url, enc.ContentType(), first)
			if code != http.StatusOK {
				t.Fatalf("HTTP %d", code)
			}
			r1 := decodeReply(t, reply1)
			if s := headerStatus(t, r1); !s.Success() || r1.Header.RespURI == "" {
				t.Fatalf("package 1 answered %s, RespURI %q", s, r1.Header.RespURI)
			}
			if j := job(t, st, id); j.State != storage.JobSent {
				t.Fatalf("job %s after package 2", j.State)
			}
			mark := logs.mark()
			// Same MsgID, different content.
			replay := d.message(t, n.url, "6B", 1, c.Password, &syncml.Alert{CmdID: "7", Data: syncml.AlertClientInitiatedMgmt})
			code, body := post(t, r1.Header.RespURI, enc.ContentType(), replay)
			if code != http.StatusOK {
				t.Fatalf("HTTP %d", code)
			}
			if s := headerStatus(t, decodeReply(t, body)); s != syncml.StatusBadRequest {
				t.Errorf("replayed MsgID answered %s, want 400", s)
			}
			logged(t, mark, "WARN", `msg="dm message rejected: MsgID out of sequence"`, "device="+a.ID(), "session=6B", "msgid=1", "expected=2")
			mark = logs.mark()
			unchanged(t, storage.JobSent)
			// Exact duplicate: the device lost our answer; it gets it again.
			code, again := post(t, r1.Header.RespURI, enc.ContentType(), first)
			if code != http.StatusOK || !bytes.Equal(again, reply1) {
				t.Errorf("duplicate answered HTTP %d with a different reply", code)
			}
			logged(t, mark, "INFO", "exact duplicate", "device="+a.ID(), "msgid=1")
			unchanged(t, storage.JobSent)
		})
	})
}
