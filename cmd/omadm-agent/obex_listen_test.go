package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
	"github.com/omadm/omadm/transport/obex"
)

func TestAgent_OBEXListenFlagsAreCheckedAtStart(t *testing.T) {
	for _, tc := range []struct {
		extra []string
		want  string
	}{
		{[]string{"--obex-listen", "obex://127.0.0.1"}, "want obex://HOST:PORT"},
		{[]string{"--obex-listen", "udp://127.0.0.1:9"}, "want obex://HOST:PORT"},
		{[]string{"--obex-listen", "obex+serial://host/dev/x"}, "obex+serial:///dev/DEVICE"},
		{[]string{"--obex-listen", "obex://127.0.0.1:0", "--once"}, "excludes --once"},
		{[]string{"--obex-listen", "obex://127.0.0.1:0", "--poll", "1h"}, "excludes --once and --poll"},
		{[]string{"--obex-listen", "obex://127.0.0.1:0", "--notify-listen", "udp://127.0.0.1:0"}, "excludes --notify-listen"},
		{[]string{"--obex-listen", "obex://127.0.0.1:0", "--transport", "obex://127.0.0.1:650"}, "excludes --transport"},
	} {
		t.Run(strings.Join(tc.extra, " "), func(t *testing.T) {
			var errb bytes.Buffer
			if code := run(context.Background(), append([]string{"--state", t.TempDir()}, tc.extra...), nil, io.Discard, &errb); code != 2 {
				t.Fatalf("exit %d, want 2\n%s", code, errb.String())
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("stderr %q lacks %q", errb.String(), tc.want)
			}
		})
	}
}

// obexDaemon runs the agent with --obex-listen on state until stop.
type obexDaemon struct {
	t      *testing.T
	stderr *logWatch
	addr   string
	ended  <-chan string
	cancel context.CancelFunc
	done   chan int
}

func startOBEXDaemon(t *testing.T, state string) *obexDaemon {
	t.Helper()
	d := &obexDaemon{t: t, stderr: &logWatch{}, done: make(chan int, 1)}
	listening := d.stderr.watch(`listening for OBEX connections of the DM server" addr=obex://(127\.0\.0\.1:\d+)`)
	d.ended = d.stderr.watch(`msg="DM session (\w+)"`)
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go func() {
		d.done <- run(ctx, []string{"--state", state, "--server", "obex://127.0.0.1:1", "--server-id", "srv.test", "--device-id", "IMEI:42",
			"--username", "dev", "--password", "pw", "--server-password", "srvpw", "--obex-listen", "obex://127.0.0.1:0"}, nil, io.Discard, d.stderr)
	}()
	select {
	case d.addr = <-listening:
	case code := <-d.done:
		cancel()
		t.Fatalf("agent exited %d\n%s", code, d.stderr.String())
	case <-time.After(10 * time.Second): // bounds a hang only
		cancel()
		t.Fatalf("listener never started:\n%s", d.stderr.String())
	}
	return d
}

func (d *obexDaemon) dial() obex.ClientOptions {
	return obex.ClientOptions{Dial: func(ctx context.Context) (io.ReadWriteCloser, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "tcp", d.addr)
	}}
}

func (d *obexDaemon) stop() string {
	d.t.Helper()
	d.cancel()
	select {
	case code := <-d.done:
		if code != 0 {
			d.t.Fatalf("exit %d\n%s", code, d.stderr.String())
		}
	case <-time.After(10 * time.Second): // bounds a hang only
		d.t.Fatal("agent did not stop")
	}
	return d.stderr.String()
}

// wantRefused checks that the device answered the package 0 PUT Forbidden.
func wantRefused(t *testing.T, what string, err error) {
	t.Helper()
	var re *obex.ResponseError
	if !errors.As(err, &re) || re.Op != "PUT" || re.Code != obex.RespForbidden {
		t.Fatalf("%s: %v, want the package 0 PUT refused (Forbidden)", what, err)
	}
}

// --obex-listen (the OBEX reversed roles): a package 0 PUT by a connecting
// DM server is checked like a UDP one (OMA-TS-DM_Notification-V1_2 §6:
// digest over the server credentials and nonce; §6.2.2.10 and §6.1: a
// served package, here a reset-nonce one, is not served again, across a
// restart too). A forged one is refused on the spot; a genuine one runs
// the DM session over the same connection with the real engine; its replay
// to the restarted agent is refused and starts nothing.
func TestAgent_OBEXListenVerifiesPackage0AndRunsTheSessionOverTheConnection(t *testing.T) {
	st := memstore.New()
	e, err := server.New(server.Options{Store: st, ServerID: "srv.test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	if err := st.CreateDevice(context.Background(), &storage.Device{ID: "IMEI:42", AuthScheme: "md5", Username: "dev",
		Password: "pw", ServerPassword: "srvpw"}); err != nil {
		t.Fatal(err)
	}
	pkg := func(secret string) []byte {
		b, err := (&notification.Package0{Initiator: notification.InitiatorServer, SessionID: 0x2a, ServerID: "srv.test"}).Encode(secret, notification.ResetNonce)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // bounds a hang only
	defer cancel()
	state := t.TempDir()

	d := startOBEXDaemon(t, state)
	_, err = obex.ConnectDevice(ctx, d.dial(), pkg("not-srvpw"))
	wantRefused(t, "forged package 0", err)
	if err := obex.DialDevice(ctx, e, d.dial(), pkg("srvpw"), false, 0); err != nil {
		t.Fatalf("session over the server's connection: %v\n%s", err, d.stderr.String())
	}
	select {
	case st := <-d.ended:
		if st != "completed" {
			t.Fatalf("session %s\n%s", st, d.stderr.String())
		}
	case <-ctx.Done():
		t.Fatal("no session end logged")
	}
	logs := d.stop()
	if strings.Count(logs, "package 0 verified; session queued") != 1 || !strings.Contains(logs, `err="package 0 forged"`) {
		t.Fatalf("want one verified package 0 and the forged one refused:\n%s", logs)
	}

	d = startOBEXDaemon(t, state)
	_, err = obex.ConnectDevice(ctx, d.dial(), pkg("srvpw"))
	wantRefused(t, "replayed package 0", err)
	if logs := d.stop(); strings.Contains(logs, "DM session") || !strings.Contains(logs, `err="package 0 replayed"`) {
		t.Fatalf("the replay was not refused as such, or a session ran:\n%s", logs)
	}
}
