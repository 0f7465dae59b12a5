package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/syncml"
)

// hostileServer is a DM server that authenticates properly and then abuses
// the session: shape builds each reply from the agent's message.
type hostileServer struct {
	posts atomic.Int32
	shape func(in *syncml.Message, out *syncml.Message)
	nonce []byte // the server nonce the agent issued last (requests are serial)
}

func (h *hostileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := h.posts.Add(1)
	b, _ := io.ReadAll(r.Body)
	m, enc, err := syncml.Decode(b, r.Header.Get("Content-Type"), nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, c := range m.Body {
		if st, ok := c.(*syncml.Status); ok && st.CmdRef == "0" && st.Chal != nil {
			if nn, err := auth.ChalNonce(st.Chal); err == nil {
				h.nonce = nn
			}
		}
	}
	out := &syncml.Message{
		Header: syncml.Header{VerDTD: "1.2", VerProto: "DM/1.2", SessionID: m.Header.SessionID, MsgID: strconv.Itoa(int(n)),
			Target: m.Header.Source, Source: m.Header.Target,
			Cred: auth.MakeCred(syncml.AuthMD5, "srv.test", "srvpw", h.nonce)},
		Body:  []syncml.Command{&syncml.Status{CmdID: "1", MsgRef: m.Header.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: 212}},
		Final: true,
	}
	h.shape(m, out)
	body, _ := syncml.Encode(out, enc)
	w.Header().Set("Content-Type", enc.ContentType())
	_, _ = w.Write(body)
}

// countingServer answers anything and counts what reached it.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "stolen", http.StatusTeapot)
	}))
	t.Cleanup(ts.Close)
	return ts, &hits
}

func agentArgs(t *testing.T, url string, extra ...string) []string {
	return append([]string{"--state", t.TempDir(), "--server", url + "/dm", "--server-id", "srv.test", "--device-id", "IMEI:42",
		"--username", "dev", "--password", "pw", "--server-password", "srvpw", "--auth", "md5", "--once",
		"--retries", "0", "--timeout", "20s"}, extra...)
}

// A server that never ends its package keeps asking for more: the session
// stops at --max-messages and the agent exits 1 naming why.
func TestAgent_EndlessServerPackageStopsAtMaxMessages(t *testing.T) {
	h := &hostileServer{shape: func(in, out *syncml.Message) {
		out.Final = false
		out.Body = append(out.Body, &syncml.Get{CmdID: "2", Items: []syncml.Item{{Target: &syncml.Location{LocURI: "./DevInfo/DevId"}}}})
	}}
	ts := httptest.NewServer(h)
	defer ts.Close()
	var errb syncBuf
	if code := run(context.Background(), agentArgs(t, ts.URL, "--max-messages", "4"), nil, io.Discard, &errb); code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, errb.String())
	}
	if n := h.posts.Load(); n != 4 {
		t.Fatalf("server got %d messages, want 4", n)
	}
	if !strings.Contains(errb.String(), "too many messages") {
		t.Fatalf("no reason given:\n%s", errb.String())
	}
}

// Over TLS, neither a RespURI (OMA-TS-DM_Security-V1_2 §5.3) nor an HTTP
// redirect may move the session, with its credentials, to plain http.
func TestAgent_TLSSessionIsNeverMovedToPlainHTTP(t *testing.T) {
	plain, hits := countingServer(t)
	tests := []struct {
		name string
		h    http.Handler
		want string
	}{
		{"RespURI to http", &hostileServer{shape: func(in, out *syncml.Message) {
			out.Header.RespURI = plain.URL + "/steal"
			out.Final = false
			out.Body = append(out.Body, &syncml.Get{CmdID: "2", Items: []syncml.Item{{Target: &syncml.Location{LocURI: "./DevInfo/DevId"}}}})
		}}, "RespURI"},
		{"HTTP 307 to http", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, plain.URL+"/steal", http.StatusTemporaryRedirect)
		}), "leaves TLS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewTLSServer(tc.h)
			defer ts.Close()
			sum := sha256.Sum256(ts.Certificate().Raw)
			var errb syncBuf
			args := agentArgs(t, ts.URL, "--tls-server-sha256", hex.EncodeToString(sum[:]))
			if code := run(context.Background(), args, nil, io.Discard, &errb); code != 1 {
				t.Fatalf("exit %d, want 1\n%s", code, errb.String())
			}
			if n := hits.Load(); n != 0 {
				t.Fatalf("the plain http server got %d requests", n)
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("reason does not name %q:\n%s", tc.want, errb.String())
			}
		})
	}
}

// State files damaged by a crash or tampered with: an alternate nonce that
// cannot be one and leftover temporary files are ignored; a torn journal
// tail is dropped; a tree snapshot that fails its checksum stops the agent
// with a message naming the file, never a panic or a silently empty tree.
func TestAgent_DamagedStateFilesGiveAClearOutcome(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		code   int
		want   string // in stderr
	}{
		{"alternate nonce oversized", func(t *testing.T, dir string) {
			writeState(t, dir, filepath.Base(altNoncePath(dir, "srv.test")), make([]byte, 4096))
		}, 0, "DM session completed"},
		{"leftover temporary files", func(t *testing.T, dir string) {
			writeState(t, dir, servedFile+".tmp", []byte("garbage"))
			writeState(t, dir, filepath.Base(altNoncePath(dir, "srv.test"))+".tmp", []byte("garbage"))
		}, 0, "DM session completed"},
		{"journal with a torn tail", func(t *testing.T, dir string) {
			js, _ := filepath.Glob(filepath.Join(dir, "journal.*"))
			if len(js) != 1 {
				t.Fatalf("journals %v", js)
			}
			f, err := os.OpenFile(js[0], os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = f.Write([]byte{0xff, 0xff, 0, 0, 1, 2, 3})
			f.Close()
		}, 0, "DM session completed"},
		{"tree snapshot corrupted", func(t *testing.T, dir string) {
			writeState(t, dir, "tree.snap", append([]byte("OMADMTS1"), make([]byte, 64)...))
		}, 1, "tree.snap"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := &dmServer{}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			dir := t.TempDir()
			var errb syncBuf
			args := []string{"--state", dir, "--server", ts.URL + "/dm", "--server-id", "srv.test", "--device-id", "IMEI:42",
				"--username", "dev", "--password", "pw", "--server-password", "srvpw", "--auth", "md5", "--once"}
			if code := run(context.Background(), args, nil, io.Discard, &errb); code != 0 {
				t.Fatalf("first start: exit %d\n%s", code, errb.String())
			}
			tc.damage(t, dir)
			errb = syncBuf{}
			code := run(context.Background(), []string{"--state", dir, "--once"}, nil, io.Discard, &errb)
			if code != tc.code || !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("exit %d, want %d with %q in:\n%s", code, tc.code, tc.want, errb.String())
			}
		})
	}
}

// The package 0 replay memory (daemon mode) when damaged: ignored with a
// warning naming the file, never a panic.
func TestAgent_DamagedReplayMemoryIsIgnoredWithAWarning(t *testing.T) {
	for _, tc := range []struct{ name, content string }{
		{"truncated", `[{"sid":1,"digest":"00`},
		{"bad digest", `[{"sid":1,"digest":"zz","at":"2026-01-01T00:00:00Z"}]`},
		{"oversized", "[" + strings.Repeat(" ", maxServedFile) + "]"},
		{"not a list", `{"sid":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeState(t, dir, servedFile, []byte(tc.content))
			var errb syncBuf
			log := slog.New(slog.NewTextHandler(&errb, nil))
			if got := loadServed(dir, log); len(got) != 0 {
				t.Fatalf("loaded %d packages from a damaged file", len(got))
			}
			if !strings.Contains(errb.String(), "package 0 replay memory ignored") || !strings.Contains(errb.String(), servedFile) {
				t.Fatalf("no warning naming the file:\n%s", errb.String())
			}
		})
	}
}

func writeState(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// What the agent prints on failure may carry server text (an HTTP reason
// phrase, for one): control characters in it must not reach the operator's
// terminal.
func TestAgent_FailureMessageCarriesNoTerminalControls(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				_, _ = http.ReadRequest(bufio.NewReader(c))
				_, _ = io.WriteString(c, "HTTP/1.1 503 Busy\x1b]0;pwned\x07\x1b[2J\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			}(c)
		}
	}()
	var errb syncBuf
	if code := run(context.Background(), agentArgs(t, "http://"+ln.Addr().String()), nil, io.Discard, &errb); code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, errb.String())
	}
	if out := errb.String(); strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, "503") {
		t.Fatalf("stderr carries terminal controls or lost the status:\n%q", out)
	}
}
