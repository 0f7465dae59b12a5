// Package interop_test runs the real client engine (through a simulated
// device and the HTTP client transport) against the server engine. It lives
// apart from the server's own tests so that those build without the client,
// sim and dmtree packages.
package interop_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/sqlite"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// The real client engine (through a simulated device and the HTTP client
// transport) against this engine over HTTP on 127.0.0.1, on SQLite: auth,
// a queued Get/Replace/Add/Exec/Atomic, and a 100 KB object in both
// directions through a small MaxMsgSize.
func TestEngine_InteropWithClientEngineOverHTTP(t *testing.T) {
	for _, tc := range []struct {
		auth string
		enc  syncml.Encoding
	}{{"md5", syncml.EncodingXML}, {"md5", syncml.EncodingWBXML}, {"hmac", syncml.EncodingXML}, {"basic", syncml.EncodingWBXML}} {
		t.Run(tc.auth+"-"+tc.enc.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			store := openSQLite(t)
			e, err := server.New(server.Options{Store: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Close(context.Background()) }) // before the store closes (cleanups run last first)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: dmhttp.NewHandler(e, nil)}
			go func() { _ = srv.Serve(ln) }()
			t.Cleanup(func() { _ = srv.Close() })

			id := sim.NewIdentity(1)
			creds := sim.Credentials{Username: "dev-user", Password: "dev-secret", ServerPassword: "srv-secret"}
			if err := store.CreateDevice(ctx, &storage.Device{ID: id.DevID, AuthScheme: tc.auth, Username: creds.Username,
				Password: creds.Password, ServerPassword: creds.ServerPassword}); err != nil {
				t.Fatal(err)
			}
			tr, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{})
			if err != nil {
				t.Fatal(err)
			}
			dev, err := sim.NewDevice(sim.DeviceOptions{Identity: id, Credentials: creds, Auth: tc.auth, Encoding: tc.enc,
				ServerURL: "http://" + ln.Addr().String() + "/dm", Transport: tr, MaxMsgSize: 4096})
			if err != nil {
				t.Fatal(err)
			}
			blob := strings.Repeat("0123456789", 10_000)
			job := func(spec storage.JobSpec) int64 {
				j := &storage.Job{DeviceID: id.DevID, Spec: spec}
				if err := store.CreateJob(ctx, j); err != nil {
					t.Fatal(err)
				}
				return j.ID
			}
			jobs := []int64{
				job(storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevInfo/Man"}}}),
				job(storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: sim.PollIntervalURI, Format: "int", Data: "60"}}}),
				job(storage.JobSpec{Command: "Add", Items: []storage.JobItem{{URI: sim.SettingsRoot + "/Blob", Format: "chr", Data: blob}}}),
				job(storage.JobSpec{Command: "Atomic", Children: []storage.JobSpec{
					{Command: "Replace", Items: []storage.JobItem{{URI: sim.TelemetryURI, Format: "bool", Data: "false"}}},
				}}),
				job(storage.JobSpec{Command: "Alert", Alert: &storage.UIAlert{Code: 1101, Text: "Update now?", MaxDT: 10}}),
				job(storage.JobSpec{Command: "Sequence", Children: []storage.JobSpec{
					{Command: "Exec", Correlator: "diag-1", Items: []storage.JobItem{{URI: sim.DiagnosticsURI}}},
					{Command: "Get", Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}},
				}}),
			}
			// Enough small commands that both our package and the device's
			// answers span several messages of 4 KiB.
			for range 40 {
				jobs = append(jobs, job(storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevInfo/Man"}}}))
			}
			res, err := dev.Run(ctx)
			if err != nil {
				t.Fatalf("session 1: %v", err)
			}
			if res.MessagesReceived < 4 {
				t.Errorf("session 1 took %d server messages; expected a multi-message package", res.MessagesReceived)
			}
			if res.State != client.StateCompleted {
				t.Fatalf("session 1 state %s", res.State)
			}
			for _, id := range jobs {
				j, _ := store.GetJob(ctx, id)
				if j.State != storage.JobDone {
					t.Errorf("job %d (%s): %s %d %s", id, j.Spec.Command, j.State, j.Status, j.Error)
					dumpTraces(t, store, dev.ID())
				}
			}
			if got := dev.Value(sim.SettingsRoot + "/Blob"); got != blob {
				t.Fatalf("device holds %d bytes of the blob, want %d", len(got), len(blob))
			}
			get := job(storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: sim.SettingsRoot + "/Blob"}}})
			if res, err = dev.Run(ctx); err != nil || res.State != client.StateCompleted {
				t.Fatalf("session 2: %v %v", res, err)
			}
			j, _ := store.GetJob(ctx, get)
			if j.State != storage.JobDone || len(j.Results) != 1 || j.Results[0].Data != blob {
				dumpTraces(t, store, dev.ID())
				t.Fatalf("large Get: %s %d %q, %d results", j.State, j.Status, j.Error, len(j.Results))
			}
			seq, _ := store.GetJob(ctx, jobs[5])
			if len(seq.ChildStatus) != 2 || seq.ChildStatus[0] != 202 || len(seq.Results) != 1 || seq.Results[0].URI != "./DevDetail/FwV" {
				t.Errorf("sequence job: %v %+v", seq.ChildStatus, seq.Results)
			}
			// The asynchronous Exec reported back by generic alert in session 2.
			evs, _ := store.ListEvents(ctx, dev.ID(), 0, 100)
			found := false
			for _, ev := range evs {
				if ev.Kind == "generic-alert" && ev.Correlator == "diag-1" && ev.Source == sim.DiagnosticsURI {
					found = true
				}
			}
			if !found {
				t.Errorf("no generic alert with correlator diag-1 among %d events", len(evs))
			}
		})
	}
}

// dumpTraces logs the stored wire trace of a device in verbose runs.
func dumpTraces(t *testing.T, store storage.Store, devID string) {
	t.Helper()
	if !testing.Verbose() {
		return
	}
	trs, _ := store.ListTraces(context.Background(), devID, "", 200)
	for _, x := range trs {
		d := api.TraceFrom(x).Decoded
		if len(d) > 3000 {
			d = d[:1500] + "..." + d[len(d)-1500:]
		}
		t.Logf("%s %s %s\n%s", x.SessionID, x.Direction, x.MsgID, d)
	}
}

func openSQLite(tb testing.TB) storage.Store {
	tb.Helper()
	s, err := sqlite.Open(filepath.Join(tb.TempDir(), "omadm.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
