package e2e_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// A firmware update the way an operator runs one: the server sets the
// package URL and executes DownloadAndUpdate with a correlator; the device
// accepts (202), fetches the package over HTTP after the session, installs
// it and reports in its next session with a 1226 alert that the server
// stores as an event carrying the same correlator.
func TestE2E_FirmwareUpdateIsAcceptedThenReportedWithItsCorrelator(t *testing.T) {
	image := bytes.Repeat([]byte("firmware image v2\n"), 4096)
	fw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/fw/v2.bin" {
			http.NotFound(w, r)
			return
		}
		w.Write(image)
	}))
	defer fw.Close()

	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc)
		var mu sync.Mutex
		var installed []byte
		obj, err := fumo.Install(a.Tree(), "./FwUpdate/Default", fumo.Config{
			Dir:     t.TempDir(),
			Servers: []string{serverID},
			Report:  a.Client().QueueAlert,
			Install: func(_ context.Context, p string) fumo.Result {
				b, err := os.ReadFile(p)
				if err != nil {
					return fumo.ResultCorruptedPackage
				}
				mu.Lock()
				installed = b
				mu.Unlock()
				return fumo.ResultSuccessful
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(obj.Close)

		setURL := queue(t, st, a.ID(), storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{
			URI: "./FwUpdate/Default/DownloadAndUpdate/PkgURL", Format: "chr", Data: fw.URL + "/fw/v2.bin"}}})
		exec := queue(t, st, a.ID(), storage.JobSpec{Command: "Exec", Correlator: "campaign-7/dev",
			Items: item("./FwUpdate/Default/DownloadAndUpdate")})
		a.session(t)
		if j := job(t, st, setURL); j.Status != 200 {
			t.Fatalf("Replace PkgURL: status %d (%s)", j.Status, j.Error)
		}
		if j := job(t, st, exec); j.Status != int(syncml.StatusAccepted) || j.State != storage.JobDone {
			t.Fatalf("Exec: status %d state %s, want 202 done", j.Status, j.State)
		}

		obj.Wait() // the download and the install run after the session
		mu.Lock()
		got := installed
		mu.Unlock()
		if !bytes.Equal(got, image) {
			t.Fatalf("installed %d bytes, want the %d-byte image", len(got), len(image))
		}
		if obj.State() != fumo.StateUpdateSucceededNoData {
			t.Errorf("device state %d (%s)", obj.State(), obj.State())
		}
		a.session(t) // carries the report

		evs, err := st.ListEvents(t.Context(), a.ID(), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, e := range evs {
			if e.Correlator != "campaign-7/dev" {
				continue
			}
			found = true
			o, ok, err := fumo.ParseAlert(e.Type, e.Data)
			if !ok || err != nil || o.Op != fumo.OpDownloadAndUpdate || o.Result != fumo.ResultSuccessful {
				t.Errorf("event %+v reads as %+v, %v, %v", e, o, ok, err)
			}
			if e.Source != "./FwUpdate/Default" || e.Kind != "generic-alert" {
				t.Errorf("event source %q kind %q", e.Source, e.Kind)
			}
		}
		if !found {
			t.Fatalf("no event with the correlator among %d events", len(evs))
		}
		// The server can read the state the device is in.
		get := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item("./FwUpdate/Default/State")})
		a.session(t)
		if j := job(t, st, get); len(j.Results) != 1 || j.Results[0].Data != "100" {
			t.Errorf("Get State results %+v", j.Results)
		}
	})
}
