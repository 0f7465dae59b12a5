package fumo_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/syncml"
)

// logLines keeps the messages and errors the object logs.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	line := r.Message
	r.Attrs(func(a slog.Attr) bool { line += " " + a.Key + "=" + a.Value.String(); return true })
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
	return nil
}
func (l *logLines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logLines) WithGroup(string) slog.Handler      { return l }
func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// blackhole is a 127.0.0.1 TCP port whose accept queue is full: a listen
// backlog of 0 holds one connection, which is made and never accepted, so
// the kernel drops further SYNs and a connect hangs.
func blackhole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Skipf("raw socket: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return addr
}

// OMA-TS-DM-FUMO-V1_0 §10.2 (result codes): a package server that does not
// deliver is reported with 407 "Alternate Download Request Time-Out" from
// the connect and stall bounds, long before the download timeout (left at
// its 1 h default here). Each case runs a real server on 127.0.0.1 and
// waits for the 1226 report.
func TestDownload_StalledOrTricklingServerReports407(t *testing.T) {
	const stall = 150 * time.Millisecond
	for _, tc := range []struct {
		name   string
		url    func(t *testing.T) string
		reason string
	}{
		{"connect never completes", func(t *testing.T) string { return "http://" + blackhole(t) + "/fw.bin" }, "connecting to"},
		{"no response header", func(t *testing.T) string {
			return serve(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		}, "timeout awaiting response headers"},
		{"body stalls", func(t *testing.T) string {
			return serve(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "100000")
				w.Write([]byte("partial"))
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			})
		}, "download stalled"},
		{"body trickles one byte a tick", func(t *testing.T) string {
			return serve(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "100000")
				tick := time.NewTicker(stall / 30) // the server's pace, about 30 bytes a period
				defer tick.Stop()
				for {
					select {
					case <-tick.C:
						w.Write([]byte{'x'})
						w.(http.Flusher).Flush()
					case <-r.Context().Done():
						return
					}
				}
			})
		}, "download stalled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &logLines{}
			d := newDevice(t, t.TempDir(), func(c *fumo.Config) {
				c.ConnectTimeout, c.StallTimeout, c.StallBytes = stall, stall, 1000
				c.Log = slog.New(logs)
			})
			d.replace(node+"/Download/PkgURL", tc.url(t))
			if code := d.exec(fumo.OpDownload, "c1"); code != syncml.StatusAccepted {
				t.Fatalf("Exec: %d", code)
			}
			checkAlert(t, d.lastAlert(), fumo.AlertDownload, "c1", fumo.ResultDownloadTimeout)
			if got := d.obj.State(); got != fumo.StateDownloadFailed {
				t.Fatalf("state %d, want %d", got, fumo.StateDownloadFailed)
			}
			if !strings.Contains(logs.String(), tc.reason) {
				t.Fatalf("the failure does not name %q:\n%s", tc.reason, logs)
			}
		})
	}
}

// A slow server that keeps delivering at least StallBytes a period is not
// a stall: the package arrives and is reported as downloaded.
func TestDownload_SlowButSteadyServerSucceeds(t *testing.T) {
	const chunks = 20
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(chunks*512))
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for range chunks {
			select {
			case <-tick.C:
			case <-r.Context().Done():
				return
			}
			w.Write(make([]byte, 512))
			w.(http.Flusher).Flush()
		}
	})
	d := newDevice(t, t.TempDir(), func(c *fumo.Config) {
		// A period holds many chunks even on a slow machine; one byte in a
		// period is progress enough.
		c.StallTimeout, c.StallBytes = 2*time.Second, 1
	})
	d.replace(node+"/Download/PkgURL", url)
	if code := d.exec(fumo.OpDownload, ""); code != syncml.StatusAccepted {
		t.Fatalf("Exec: %d", code)
	}
	checkAlert(t, d.lastAlert(), fumo.AlertDownload, "", fumo.ResultSuccessful)
}

func serve(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL + "/fw.bin"
}
