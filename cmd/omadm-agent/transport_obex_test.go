package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/omadm/omadm/server/envelope"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/obex"
)

// httpEngine puts an HTTP DM handler behind the OBEX server.
type httpEngine struct{ h *dmServer }

func (e httpEngine) Handle(_ context.Context, in *envelope.Inbound) (*envelope.Outbound, error) {
	r := httptest.NewRequest("POST", "/dm", bytes.NewReader(in.Body))
	r.Header.Set("Content-Type", in.ContentType)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != 200 {
		return nil, syncml.Errorf(syncml.StatusBadRequest, "%s", w.Body.String())
	}
	return &envelope.Outbound{Body: w.Body.Bytes(), ContentType: w.Header().Get("Content-Type")}, nil
}

// --transport obex://HOST:PORT carries the agent's session over the OBEX
// binding (CONNECT to SYNCML-DM, PUT, GET); so does an account whose
// server address is an OBEX URL.
func TestAgent_OnceOverOBEX(t *testing.T) {
	for _, viaFlag := range []bool{true, false} {
		t.Run(map[bool]string{true: "--transport", false: "account address"}[viaFlag], func(t *testing.T) { onceOverOBEX(t, viaFlag) })
	}
}

func onceOverOBEX(t *testing.T, viaFlag bool) {
	srv := &dmServer{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := obex.NewServer(httpEngine{srv}, &obex.ServerOptions{Logger: slog.New(slog.DiscardHandler)})
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	defer func() {
		s.Close()
		if err := <-done; !errors.Is(err, obex.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}()
	url := "obex://" + ln.Addr().String()
	var out, errb syncBuf
	args := []string{"--state", t.TempDir(), "--server", url, "--server-id", "srv.test", "--device-id", "IMEI:43",
		"--username", "dev", "--password", "pw", "--server-password", "srvpw", "--auth", "md5", "--encoding", "wbxml", "--once"}
	if viaFlag {
		args = append(args, "--transport", url)
	}
	if code := run(context.Background(), args, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	if !strings.Contains(out.String(), "completed") || len(srv.alerts) != 1 || srv.alerts[0] != syncml.AlertClientInitiatedMgmt {
		t.Fatalf("stdout %q, server saw alerts %v", out.String(), srv.alerts)
	}
}

func TestAgent_OBEXTransportFlagIsChecked(t *testing.T) {
	for _, bad := range []string{"obex://", "obex://h:1/path", "obex+serial://host/dev/tty", "obex+serial://"} {
		var e syncBuf
		args := []string{"--state", t.TempDir(), "--once", "--transport", bad}
		if code := run(context.Background(), args, nil, &syncBuf{}, &e); code != 2 || !strings.Contains(e.String(), "obex") {
			t.Errorf("--transport %q: exit %d, %q", bad, code, e.String())
		}
	}
	var e syncBuf
	args := []string{"--state", t.TempDir(), "--once", "--server", "obex://127.0.0.1:1", "--server-id", "srv.test",
		"--device-id", "IMEI:1", "--tls-server-sha256", strings.Repeat("ab", 32)}
	if code := run(context.Background(), args, nil, &syncBuf{}, &e); code != 1 || !strings.Contains(e.String(), "TLS flags do not apply") {
		t.Fatalf("TLS flags with OBEX: exit %d: %s", code, e.String())
	}
}
