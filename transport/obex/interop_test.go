package obex_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/transport/obex"
)

// requireTool skips (or, with OMADM_REQUIRE_GATEWAYS=1, fails) when what
// a peer needs is missing.
func requireTool(t *testing.T, why string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("OMADM_REQUIRE_GATEWAYS") == "1" {
		t.Fatalf("%s (OMADM_REQUIRE_GATEWAYS=1)", why)
	}
	t.Skip(why)
}

// buildOpenOBEXPeer compiles testdata/<name>.c against OpenOBEX (Debian
// libopenobex2-dev, installed with libobexftp0-dev).
func buildOpenOBEXPeer(t *testing.T, name string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	requireTool(t, "gcc not found: OpenOBEX interop tests skipped", err == nil)
	_, err = os.Stat("/usr/include/openobex/obex.h")
	requireTool(t, "OpenOBEX headers missing (apt-get install libopenobex2-dev): interop tests skipped", err == nil)
	bin := filepath.Join(t.TempDir(), name)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, gcc, "-Wall", "-o", bin, filepath.Join("testdata", name+".c"), "-lopenobex").CombinedOutput()
	if err != nil {
		t.Fatalf("compiling %s: %v\n%s", name, err, out)
	}
	return bin
}

// cPeer is a running OpenOBEX client exchanging DM messages: each message
// written to its stdin is PUT, and the GET reply comes back on stdout.
type cPeer struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *lockedBuffer
}

// lockedBuffer collects a child's stderr; safe to read while it writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startCPeer(t *testing.T, bin, addr, contentType string) *cPeer {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, host, port, contentType)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &cPeer{cmd: cmd, in: in, out: bufio.NewReader(out), stderr: new(lockedBuffer)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return p
}

func (p *cPeer) exchange(msg []byte) ([]byte, error) {
	if _, err := fmt.Fprintf(p.in, "%d\n%s", len(msg), msg); err != nil {
		return nil, err
	}
	line, err := p.out.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("peer: %v: %s", err, p.stderr)
	}
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return nil, fmt.Errorf("peer said %q", line)
	}
	b := make([]byte, n)
	_, err = io.ReadFull(p.out, b)
	return b, err
}

// finish closes stdin (the peer DISCONNECTs) and waits for its exit.
func (p *cPeer) finish() error {
	p.in.Close()
	if err := p.cmd.Wait(); err != nil {
		return fmt.Errorf("%v: %s", err, p.stderr)
	}
	return nil
}

// Frame-level interop with OpenOBEX as the client: CONNECT to SYNCML-DM
// (Who and Connection ID checked by the peer), PUTs split by OpenOBEX over
// its 512-byte packets, GET replies gathered from our Continue responses,
// DISCONNECT (IrOBEX 1.2 §3.3; transports.md §3).
func TestInterop_OpenOBEXClientAgainstServer(t *testing.T) {
	bin := buildOpenOBEXPeer(t, "dm_obex_client")
	e := &echoEngine{}
	_, addr := startServer(t, e, nil)
	p := startCPeer(t, bin, addr, typeWBXML)
	msgs := [][]byte{[]byte("x"), bytes.Repeat([]byte{0, 1, 2, 0xff}, 1000), bytes.Repeat([]byte("<SyncML>"), 9000)}
	for i, m := range msgs {
		got, err := p.exchange(m)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !bytes.Equal(got, append([]byte("reply:"), m...)) {
			t.Fatalf("message %d: reply of %d bytes differs", i, len(got))
		}
	}
	if err := p.finish(); err != nil {
		t.Fatal(err)
	}
	in := e.handled()
	if len(in) != len(msgs) || in[2].ContentType != typeWBXML || !bytes.Equal(in[2].Body, msgs[2]) {
		t.Fatalf("engine got %d messages", len(in))
	}
}

// Frame-level interop with OpenOBEX as the server: our client transport
// CONNECTs to SYNCML-DM, PUTs with Type and Length over 512-byte packets,
// GETs the reply that OpenOBEX sends in as many packets, and DISCONNECTs
// (IrOBEX 1.2 §3.3).
func TestInterop_ClientTransportAgainstOpenOBEXServer(t *testing.T) {
	bin := buildOpenOBEXPeer(t, "dm_obex_server")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, port)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := new(lockedBuffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	lines := bufio.NewReader(out)
	if l, err := lines.ReadString('\n'); err != nil || l != "ready\n" {
		t.Fatalf("peer: %q %v %s", l, err, stderr)
	}
	tp, err := obex.DialURL("obex://"+addr, obex.ClientOptions{MaxPacket: 400})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, m := range [][]byte{[]byte("<SyncML/>"), bytes.Repeat([]byte{0x03, 0x00, 0xff}, 3000)} {
		resp, err := tp.RoundTrip(ctx, &client.Request{ContentType: typeXML, Body: m})
		if err != nil {
			t.Fatalf("message %d: %v (%s)", i, err, stderr)
		}
		if !bytes.Equal(resp.Body, append([]byte("reply:"), m...)) || resp.ContentType != typeXML {
			t.Fatalf("message %d: %q reply of %d bytes", i, resp.ContentType, len(resp.Body))
		}
		if l, err := lines.ReadString('\n'); err != nil || l != fmt.Sprintf("put %s %d\n", typeXML, len(m)) {
			t.Fatalf("peer saw %q %v", l, err)
		}
	}
	if err := tp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("peer: %v %s", err, stderr)
	}
}

// libobexftp, the library under the obexftp tool, CONNECTs to the
// SYNCML-DM target with obexftp_connect_uuid and gets Who and a Connection
// ID back; its obexftp_put_data sends no Type header, which the binding
// needs to tell a DM message, so that PUT is refused (Bad Request) and
// reaches no engine (transports.md §3). A DM client over libobexftp must
// use OpenOBEX calls for its PUT (see dm_obex_client.c).
func TestInterop_LibObexftpConnectsAndUntypedPutIsRefused(t *testing.T) {
	gcc, err := exec.LookPath("gcc")
	requireTool(t, "gcc not found: libobexftp interop test skipped", err == nil)
	_, err = os.Stat("/usr/include/obexftp/client.h")
	requireTool(t, "libobexftp headers missing (apt-get install libobexftp0-dev): interop test skipped", err == nil)
	bin := filepath.Join(t.TempDir(), "dm_obexftp_client")
	if out, err := exec.Command(gcc, "-Wall", "-o", bin, filepath.Join("testdata", "dm_obexftp_client.c"), "-lobexftp").CombinedOutput(); err != nil {
		t.Fatalf("compiling: %v\n%s", err, out)
	}
	e := &echoEngine{}
	logs := new(lockedBuffer)
	s, addr := startServer(t, e, &obex.ServerOptions{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command(bin, host, port).CombinedOutput()
	if err != nil {
		t.Fatalf("libobexftp client: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "connected\n") || !strings.Contains(string(out), "put -") {
		t.Fatalf("libobexftp client said:\n%s", out)
	}
	if n := len(e.handled()); n != 0 {
		t.Fatalf("engine handled %d messages", n)
	}
	s.Close() // the connection's lines are all written
	if !strings.Contains(logs.String(), "no Type header") {
		t.Fatalf("server log:\n%s", logs)
	}
}
