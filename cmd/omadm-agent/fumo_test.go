package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
	"github.com/omadm/omadm/transport/dmhttp"
)

// realServer runs the DM server engine on memstore over HTTP on 127.0.0.1
// with one enrolled device.
func realServer(t *testing.T) (*memstore.Store, string) {
	t.Helper()
	st := memstore.New()
	e, err := server.New(server.Options{Store: st, ServerID: "srv.test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	ts := httptest.NewServer(dmhttp.NewHandler(e, nil))
	t.Cleanup(ts.Close)
	dev := &storage.Device{ID: "IMEI:42", AuthScheme: "md5", Username: "dev", Password: "pw", ServerPassword: "srvpw"}
	if err := st.CreateDevice(context.Background(), dev); err != nil {
		t.Fatal(err)
	}
	return st, ts.URL + "/dm"
}

// --once with --fumo: the session accepts the update, the agent downloads
// and installs it with the --fumo-install command, reports it in a
// follow-up session and exits 0; a failing command is reported as 410.
func TestAgent_OnceRunsAFirmwareUpdateAndReportsIt(t *testing.T) {
	image := bytes.Repeat([]byte{0xfe, 'f', 'w'}, 50000)
	fwsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(image) }))
	defer fwsrv.Close()

	for _, tc := range []struct {
		name    string
		install string
		want    fumo.Result
		state   string
	}{
		{"install succeeds", `cp "$1" "$OUT"`, fumo.ResultSuccessful, "100"},
		{"install fails", `echo "flash: bad block" >&2; exit 7`, fumo.ResultUpdateFailed, "70"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, url := realServer(t)
			out := filepath.Join(t.TempDir(), "flashed.bin")
			t.Setenv("OUT", out)
			ctx := context.Background()
			for _, j := range []storage.JobSpec{
				{Command: "Replace", Items: []storage.JobItem{{URI: "./FwUpdate/Main/DownloadAndUpdate/PkgURL", Data: fwsrv.URL + "/v2"}}},
				{Command: "Exec", Correlator: "fw-1", Items: []storage.JobItem{{URI: "./FwUpdate/Main/DownloadAndUpdate"}}},
			} {
				if err := st.CreateJob(ctx, &storage.Job{DeviceID: "IMEI:42", Spec: j}); err != nil {
					t.Fatal(err)
				}
			}
			state := t.TempDir()
			var stdout, stderr syncBuf
			args := []string{"--state", state, "--server", url, "--server-id", "srv.test", "--device-id", "IMEI:42",
				"--username", "dev", "--password", "pw", "--server-password", "srvpw", "--auth", "md5",
				"--fumo", "./FwUpdate/Main", "--fumo-install", tc.install, "--once"}
			if code := run(ctx, args, nil, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr.String())
			}
			if n := strings.Count(stdout.String(), "completed"); n != 2 {
				t.Errorf("%d completed sessions, want 2 (the update, then its report):\n%s", n, stdout.String())
			}
			evs, err := st.ListEvents(ctx, "IMEI:42", 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var got *storage.Event
			for _, e := range evs {
				if e.Correlator == "fw-1" {
					got = e
				}
			}
			if got == nil {
				t.Fatalf("no report among %d events", len(evs))
			}
			if o, ok, err := fumo.ParseAlert(got.Type, got.Data); !ok || err != nil || o.Result != tc.want {
				t.Errorf("report %s %s reads as %+v, want result %d", got.Type, got.Data, o, tc.want)
			}
			flashed, _ := os.ReadFile(out)
			if tc.want.Successful() != bytes.Equal(flashed, image) {
				t.Errorf("flashed %d bytes (want the image: %v)", len(flashed), tc.want.Successful())
			}
			if !tc.want.Successful() && !strings.Contains(stderr.String(), "flash: bad block") {
				t.Errorf("the failing command's output is not logged:\n%s", stderr.String())
			}
			// The state is kept: the next start reports nothing new.
			stdout = syncBuf{}
			if code := run(ctx, []string{"--state", state, "--fumo", "./FwUpdate/Main", "--once"}, nil, &stdout, &stderr); code != 0 {
				t.Fatalf("second start exit %d\n%s", code, stderr.String())
			}
			if n := strings.Count(stdout.String(), "completed"); n != 1 {
				t.Errorf("second start ran %d sessions, want 1", n)
			}
			data, _ := os.ReadFile(filepath.Join(state, "fumo", "state.json"))
			if !strings.Contains(string(data), `"state":`+tc.state) {
				t.Errorf("kept state %s, want %s", data, tc.state)
			}
		})
	}
}

func TestAgent_FUMOFlagsNeedTheNode(t *testing.T) {
	var stderr syncBuf
	code := run(context.Background(), []string{"--state", t.TempDir(), "--once", "--fumo-install", "true"}, nil, &syncBuf{}, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "--fumo") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

// OMA-TS-DM-FUMO-V1_0 §10.2 (result codes, 407 Alternate Download Request
// Time-Out): a package server on 127.0.0.1 that sends its headers and a few
// bytes, then nothing, is reported to the DM server as 407 from the stall
// bound (--download-stall-timeout), not after the 1 h download timeout.
func TestAgent_StalledPackageServerIsReportedAs407(t *testing.T) {
	fwsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.Write([]byte("first bytes"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer fwsrv.Close()
	st, url := realServer(t)
	ctx := context.Background()
	for _, j := range []storage.JobSpec{
		{Command: "Replace", Items: []storage.JobItem{{URI: "./FwUpdate/Main/DownloadAndUpdate/PkgURL", Data: fwsrv.URL + "/v2"}}},
		{Command: "Exec", Correlator: "fw-stall", Items: []storage.JobItem{{URI: "./FwUpdate/Main/DownloadAndUpdate"}}},
	} {
		if err := st.CreateJob(ctx, &storage.Job{DeviceID: "IMEI:42", Spec: j}); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr syncBuf
	args := []string{"--state", t.TempDir(), "--server", url, "--server-id", "srv.test", "--device-id", "IMEI:42",
		"--username", "dev", "--password", "pw", "--server-password", "srvpw", "--auth", "md5",
		"--fumo", "./FwUpdate/Main", "--fumo-install", "true", "--download-stall-timeout", "200ms", "--once"}
	if code := run(ctx, args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	evs, err := st.ListEvents(ctx, "IMEI:42", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Correlator != "fw-stall" {
			continue
		}
		if o, ok, err := fumo.ParseAlert(e.Type, e.Data); !ok || err != nil || o.Result != fumo.ResultDownloadTimeout {
			t.Fatalf("report %s %s reads as %+v, want result 407", e.Type, e.Data, o)
		}
		if !strings.Contains(stderr.String(), "download stalled") {
			t.Errorf("the log does not say the download stalled:\n%s", stderr.String())
		}
		return
	}
	t.Fatalf("no report among %d events\n%s", len(evs), stderr.String())
}
