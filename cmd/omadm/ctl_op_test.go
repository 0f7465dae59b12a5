package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	apiclient "github.com/omadm/omadm/api/client"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/transport/dmhttp"
)

// `ctl fumo --wait` against a whole `omadm serve` and a real device: the
// server follows the operation (the Exec's 202, then the 1226 report with
// its correlator, OMA-TS-DM-FUMO-V1_0) and the command only waits on it,
// woken by the event stream.
func TestCtl_FUMOWaitFollowsTheServersOperationToTheDevicesReport(t *testing.T) {
	fw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("image")) }))
	defer fw.Close()
	ctx := context.Background()
	rs, err := startServer(ctx, serveConfig{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Token: ctlTestToken,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Shutdown(ctx)
	tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := sim.NewIdentity(11)
	dev, err := sim.NewDevice(sim.DeviceOptions{Identity: id, Credentials: sim.DeriveCredentials("ops", id.DevID),
		ServerURL: rs.URL + "/dm", ServerID: server.DefaultServerID, Transport: tp,
		Retry: client.RetryPolicy{Attempts: 1, Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	c := dev.Credentials()
	if err := rs.Store.CreateDevice(ctx, &storage.Device{ID: dev.ID(), AuthScheme: dev.Auth(), Username: c.Username,
		Password: c.Password, ServerPassword: c.ServerPassword}); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{}) // the install ends after the first session: its report goes in the second
	installed := sync.OnceFunc(func() { close(release) })
	obj, err := fumo.Install(dev.Tree(), "./FwUpdate/Default", fumo.Config{Dir: t.TempDir(), Servers: []string{server.DefaultServerID},
		Report: dev.Client().QueueAlert, Install: func(context.Context, string) fumo.Result { <-release; return fumo.ResultSuccessful }})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	defer installed() // runs before obj.Close

	updates, _, cancel := rs.API.Hub().Subscribe()
	defer cancel()
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, _, err := runCtl(t, rs.URL, "fumo", dev.ID(), fw.URL+"/v2.bin", "--wait", "60s", "-o", "json")
		done <- result{out, err}
	}()
	waitOp := func(state string) {
		t.Helper()
		timeout := time.After(30 * time.Second) // bounds a hang only
		for {
			select {
			case u := <-updates:
				if u.Kind == api.UpdateOperation && u.Operation.Device == dev.ID() && u.Operation.State == state {
					return
				}
			case <-timeout:
				t.Fatalf("no operation update to %s", state)
			}
		}
	}
	waitOp("queued")
	session := func() {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := dev.Run(sctx); err != nil {
			t.Fatal(err)
		}
	}
	session()
	waitOp("accepted")
	installed()
	obj.Wait()
	session() // carries the report
	var r result
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("ctl fumo --wait did not return")
	}
	var got asyncOutcome
	if r.err != nil || json.Unmarshal([]byte(r.out), &got) != nil || got.State != "succeeded" || got.Result != 200 ||
		!got.Successful || got.ExecStatus != 202 || got.EventID == 0 || got.Meaning != "successful" {
		t.Fatalf("outcome %+v (%v)\n%s", got, r.err, r.out)
	}
}

// `ctl op get|list|cancel` read and cancel operations; an ended one cannot
// be cancelled.
func TestCtl_OpGetListCancel(t *testing.T) {
	url, _ := ctlServer(t)
	if _, _, err := runCtl(t, url, "device", "add", "d1", "--username", "u", "--password", "p"); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCtl(t, url, "lawmo", "d1", "lock", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var j api.Job
	if err := json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(strings.TrimSuffix(strings.TrimSpace(out), "]"), "["))), &j); err != nil || j.Operation == nil {
		t.Fatalf("job %v\n%s", err, out)
	}
	sid := strconv.FormatInt(j.Operation.ID, 10)
	out, _, err = runCtl(t, url, "op", "get", sid)
	if err != nil || !strings.Contains(out, `"state": "queued"`) || !strings.Contains(out, `"operation": "FullyLock"`) {
		t.Fatalf("op get: %v\n%s", err, out)
	}
	out, _, err = runCtl(t, url, "op", "list", "d1")
	if err != nil || !strings.Contains(out, "FullyLock") || !strings.Contains(out, "queued") {
		t.Fatalf("op list: %v\n%s", err, out)
	}
	out, _, err = runCtl(t, url, "op", "cancel", sid)
	if err != nil || !strings.Contains(out, `"state": "cancelled"`) {
		t.Fatalf("op cancel: %v\n%s", err, out)
	}
	if _, _, err := runCtl(t, url, "op", "cancel", sid); err == nil || !strings.Contains(err.Error(), "already cancelled") {
		t.Fatalf("second cancel: %v", err)
	}
	if _, _, err := runCtl(t, url, "op", "get", "x1"); err == nil || !strings.Contains(err.Error(), "not an operation id") {
		t.Fatalf("bad id: %v", err)
	}
	var ee *exitError
	if _, _, err := runCtl(t, url, "op", "get", "999"); err == nil || errors.As(err, &ee) {
		t.Fatalf("unknown operation: %v", err)
	}
}

// `omadm serve` runs the operations scheduler: an operation whose device
// never connects is timed out at its deadline (an injected clock and tick
// stand for --op-sweep), and its queued job is cancelled with it.
func TestServe_SchedulerTimesOutAnOperation(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Now()
	tick := make(chan time.Time)
	rs, err := startServer(ctx, serveConfig{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Token: ctlTestToken,
		Logger: slog.New(slog.DiscardHandler), OpTick: tick,
		OpNow: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Shutdown(ctx)
	if _, _, err := runCtl(t, rs.URL, "device", "add", "d1", "--username", "u", "--password", "p"); err != nil {
		t.Fatal(err)
	}
	updates, _, cancel := rs.API.Hub().Subscribe()
	defer cancel()
	op, err := apiclient.New(rs.URL, ctlTestToken).CreateOperation(ctx, "d1", api.OperationRequest{MO: "lawmo", Operation: "lock", Timeout: "2m",
		Retry: &api.RetryRequest{MaxAttempts: 1}}) // no retry: the timeout ends it
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(3 * time.Minute)
	mu.Unlock()
	tick <- time.Now()
	timeout := time.After(30 * time.Second) // bounds a hang only
	for {
		select {
		case u := <-updates:
			if u.Kind != api.UpdateOperation || u.Operation.ID != op.ID || u.Operation.State != "timed_out" {
				continue
			}
			out, _, err := runCtl(t, rs.URL, "jobs", "d1", "-o", "json")
			if err != nil || !strings.Contains(out, `"state": "cancelled"`) {
				t.Fatalf("the timed-out operation's job: %v\n%s", err, out)
			}
			return
		case <-timeout:
			t.Fatal("the operation did not time out")
		}
	}
}
