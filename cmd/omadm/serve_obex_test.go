package main

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
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/obex"
)

// startOBEXServe starts the full server with --obex 127.0.0.1:0.
func startOBEXServe(t *testing.T) *runningServer {
	t.Helper()
	rs, err := startServer(context.Background(), serveConfig{Listen: "127.0.0.1:0", DataDir: t.TempDir(),
		Logger: slog.New(slog.DiscardHandler), OBEX: serveOBEXConfig{Listen: "127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Shutdown(context.Background()) })
	if rs.OBEX == nil || rs.OBEX.Addr == nil {
		t.Fatal("no OBEX listener")
	}
	return rs
}

// obexDevice builds a simulated device talking through tp and enrols it.
func obexDevice(t *testing.T, rs *runningServer, tp client.Transport, enc syncml.Encoding) *sim.Device {
	t.Helper()
	id := sim.NewIdentity(31)
	url := "obex+serial:///dev/line" // the transport decides the carrier; the account only names it
	if rs.OBEX.Addr != nil {
		url = "obex://" + rs.OBEX.Addr.String()
	}
	dev, err := sim.NewDevice(sim.DeviceOptions{Identity: id, Credentials: sim.DeriveCredentials("obex", id.DevID),
		ServerURL: url, ServerID: server.DefaultServerID, Transport: tp, Encoding: enc,
		Retry: client.RetryPolicy{Attempts: 1, Timeout: 20 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	c := dev.Credentials()
	if err := rs.Store.CreateDevice(context.Background(), &storage.Device{ID: dev.ID(), AuthScheme: dev.Auth(), Username: c.Username,
		Password: c.Password, ServerPassword: c.ServerPassword}); err != nil {
		t.Fatal(err)
	}
	return dev
}

// runOBEXSession queues a Replace for dev, runs one session and checks
// the job came back done.
func runOBEXSession(t *testing.T, rs *runningServer, dev *sim.Device) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	job := &storage.Job{DeviceID: dev.ID(), Spec: storage.JobSpec{Command: "Replace",
		Items: []storage.JobItem{{URI: sim.PollIntervalURI, Format: "int", Data: "77"}}}}
	if err := rs.Store.CreateJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	res, err := dev.Run(ctx)
	if err != nil || res.State != client.StateCompleted {
		t.Fatalf("session: %v %v", err, res)
	}
	j, err := rs.Store.GetJob(ctx, job.ID)
	if err != nil || j.State != storage.JobDone || j.Status != 200 || dev.Value(sim.PollIntervalURI) != "77" {
		t.Fatalf("job %+v %v, device value %q", j, err, dev.Value(sim.PollIntervalURI))
	}
}

// `omadm serve --obex` serves DM over OBEX/TCP with the same engine as
// HTTP: a device using the OBEX client transport completes a session.
func TestServeOBEX_DeviceCompletesSessionOverOBEX(t *testing.T) {
	rs := startOBEXServe(t)
	tp, err := obex.DialURL("obex://"+rs.OBEX.Addr.String(), obex.ClientOptions{MaxPacket: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	runOBEXSession(t, rs, obexDevice(t, rs, tp, syncml.EncodingWBXML))
}

func TestServeOBEX_RefusesBadFlags(t *testing.T) {
	for _, c := range []serveOBEXConfig{{Listen: "127.0.0.1:0", MaxPacket: 100}, {Listen: "127.0.0.1:0", MaxPacket: 70000}, {Listen: "256.0.0.1:x"}} {
		_, err := startServer(context.Background(), serveConfig{Listen: "127.0.0.1:0", DataDir: t.TempDir(),
			Logger: slog.New(slog.DiscardHandler), OBEX: c})
		if err == nil || !strings.Contains(err.Error(), "obex") {
			t.Errorf("%+v: err = %v", c, err)
		}
	}
}

// Interop with a real OBEX implementation: every DM message of a whole
// session travels through an OpenOBEX client (CONNECT to SYNCML-DM, PUT,
// GET, on one OBEX connection) to `omadm serve --obex`, XML and WBXML.
func TestServeOBEX_OpenOBEXClientRunsADMSession(t *testing.T) {
	bin := buildOpenOBEXClient(t)
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		t.Run(enc.String(), func(t *testing.T) {
			rs := startOBEXServe(t)
			host, port, _ := net.SplitHostPort(rs.OBEX.Addr.String())
			cmd := exec.Command(bin, host, port, enc.ContentType())
			peer := &openOBEXPeer{cmd: cmd, stderr: new(lockedBuf)}
			in, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			peer.in, peer.out = in, bufio.NewReader(out)
			cmd.Stderr = peer.stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				if cmd.ProcessState == nil {
					_ = cmd.Process.Kill()
					_ = cmd.Wait()
				}
			}()
			dev := obexDevice(t, rs, peer, enc)
			runOBEXSession(t, rs, dev)
			in.Close() // the peer DISCONNECTs
			if err := cmd.Wait(); err != nil {
				t.Fatalf("OpenOBEX peer: %v\n%s", err, peer.stderr)
			}
			if peer.n < 2 {
				t.Fatalf("%d messages went through the peer", peer.n)
			}
		})
	}
}

// buildOpenOBEXClient compiles the OpenOBEX DM client of transport/obex's
// test data; it skips (fails with OMADM_REQUIRE_GATEWAYS=1) without gcc
// or the OpenOBEX headers.
func buildOpenOBEXClient(t *testing.T) string {
	t.Helper()
	skip := func(why string) {
		if os.Getenv("OMADM_REQUIRE_GATEWAYS") == "1" {
			t.Fatalf("%s (OMADM_REQUIRE_GATEWAYS=1)", why)
		}
		t.Skip(why)
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		skip("gcc not found: OpenOBEX interop test skipped")
	}
	if _, err := os.Stat("/usr/include/openobex/obex.h"); err != nil {
		skip("OpenOBEX headers missing (apt-get install libopenobex2-dev): interop test skipped")
	}
	bin := filepath.Join(t.TempDir(), "dm_obex_client")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, gcc, "-Wall", "-o", bin, "../../transport/obex/testdata/dm_obex_client.c", "-lopenobex").CombinedOutput(); err != nil {
		t.Fatalf("compiling the OpenOBEX peer: %v\n%s", err, out)
	}
	return bin
}

// openOBEXPeer is a client.Transport handing each message to the OpenOBEX
// client process (length line, then the bytes) and reading its reply.
type openOBEXPeer struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *lockedBuf
	n      int
}

func (p *openOBEXPeer) RoundTrip(_ context.Context, req *client.Request) (*client.Response, error) {
	p.n++
	if _, err := fmt.Fprintf(p.in, "%d\n%s", len(req.Body), req.Body); err != nil {
		return nil, err
	}
	line, err := p.out.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("OpenOBEX peer: %v: %s", err, p.stderr)
	}
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return nil, fmt.Errorf("OpenOBEX peer said %q", line)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(p.out, b); err != nil {
		return nil, err
	}
	return &client.Response{ContentType: req.ContentType, Body: b}, nil
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }
