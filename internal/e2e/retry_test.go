package e2e_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// A firmware update whose first download meets a download server error (an
// HTTP 503: the device reports FUMO 500, OMA-TS-DM-FUMO-V1_0 §10.2) is
// made again by the server after FUMO's backoff: a second job with its own
// correlator, which the real agent downloads and installs, reporting 200.
// The operation ends succeeded at attempt 2 with attempt 1 in its history.
func TestE2E_FirmwareUpdateRetriedAfterTheDownloadServerWasUnavailable(t *testing.T) {
	image := bytes.Repeat([]byte("firmware image v4\n"), 1024)
	var hits atomic.Int32
	fw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		w.Write(image)
	}))
	defer fw.Close()
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		hits.Store(0)
		st := b.open(t)
		clk := newClock()
		n := startOpsNode(t, st, clk)
		a := newAgent(t, st, n.url, enc)
		var installs atomic.Int32
		obj, err := fumo.Install(a.Tree(), "./FwUpdate/Default", fumo.Config{
			Dir: t.TempDir(), Servers: []string{serverID}, Report: a.Client().QueueAlert,
			Install: func(context.Context, string) fumo.Result { installs.Add(1); return fumo.ResultSuccessful },
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(obj.Close)

		op, j1 := n.create(t, fleet.Request{DeviceID: a.ID(), MO: "fumo", Params: map[string]any{"pkg_url": fw.URL + "/v4.bin"}})
		a.session(t)
		n.waitState(t, op.ID, storage.OpAccepted)
		obj.Wait() // the download failed: the report is queued
		a.session(t)
		w := n.waitState(t, op.ID, storage.OpRetryWait)
		if w.Result != int(fumo.ResultServerError) || w.Attempt != 1 {
			t.Fatalf("retry_wait after %+v: want attempt 1 ended with 500", w)
		}

		clk.Add(6 * time.Minute) // past FUMO's 5m backoff and its jitter
		n.sweep(t)
		a2 := n.waitState(t, op.ID, storage.OpQueued)
		if a2.Attempt != 2 || a2.JobID == j1.ID || a2.Correlator != op.Correlator+"#2" {
			t.Fatalf("attempt 2: %+v", a2)
		}
		a.session(t)
		n.waitState(t, op.ID, storage.OpAccepted)
		obj.Wait()
		a.session(t) // carries attempt 2's report
		done := n.waitState(t, op.ID, storage.OpSucceeded)
		if done.Attempt != 2 || done.Result != 200 || installs.Load() != 1 || hits.Load() != 2 {
			t.Fatalf("succeeded %+v after %d installs and %d downloads: want attempt 2, one install, two downloads", done, installs.Load(), hits.Load())
		}

		h, err := handler.New(handler.Options{Store: st, Token: "t", Operations: n.m})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		defer srv.Close()
		var got api.Operation
		getJSON(t, srv.URL+"/api/v1/operations/"+strconv.FormatInt(op.ID, 10), &got)
		if got.Attempts != 2 || got.MaxAttempts != 3 || len(got.History) != 2 || got.History[0].Result != 500 ||
			got.History[0].State != "failed" || got.History[1].State != "succeeded" || got.History[0].Correlator != op.Correlator {
			t.Fatalf("GET operation: %+v", got)
		}
	})
}
