package e2e_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// rehost points url (built from one node's address) at another node.
func rehost(url string, from, to *node) string {
	return strings.Replace(url, from.hs.URL, to.hs.URL, 1)
}

func TestE2E_SessionContinuesOnASecondServerSharingTheStore(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		nodeA := startNode(t, b.open(t))
		nodeB := startNode(t, b.open(t)) // its own connection to the same database
		a := newAgent(t, nodeA.store, nodeA.url, enc)
		var toB int
		a.route.target = func(n int, url string) string {
			if n%2 == 0 { // message 1 to A, message 2 to B, …
				toB++
				return rehost(url, nodeA, nodeB)
			}
			return url
		}
		get := queue(t, nodeA.store, a.ID(), storage.JobSpec{Command: "Get", Items: item("./DevInfo/DmV")})
		rep := queue(t, nodeA.store, a.ID(), storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: sim.PollIntervalURI, Format: "int", Data: "42"}}})
		res := a.session(t)
		if toB == 0 || res.MessagesSent < 2 {
			t.Fatalf("no message went to node B (%d messages)", res.MessagesSent)
		}
		if j := job(t, nodeB.store, get); j.State != storage.JobDone || j.Results[0].Data != "1.2" {
			t.Errorf("Get %s %+v", j.State, j.Results)
		}
		if j := job(t, nodeB.store, rep); j.State != storage.JobDone || a.Value(sim.PollIntervalURI) != "42" {
			t.Errorf("Replace %s, device %q", j.State, a.Value(sim.PollIntervalURI))
		}
	})
}

var errServerGone = errors.New("server process killed")

func TestE2E_ServerKilledMidSessionLosesNoJobAndAppliesNoneTwice(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		t.Run("after the device's statuses were stored", func(t *testing.T) {
			nodeA := startNode(t, b.open(t))
			a := newAgent(t, nodeA.store, nodeA.url, enc, withRetry(client.RetryPolicy{Attempts: 1}))
			reboot := queue(t, nodeA.store, a.ID(), storage.JobSpec{Command: "Exec", Items: item(sim.RebootURI)})
			// Node A dies as it answers message 2: the device's statuses
			// reached it, its answer never reaches the device.
			a.route.after = func(n int, _ *client.Response) error {
				if n == 2 {
					nodeA.hs.CloseClientConnections()
					nodeA.hs.Close()
					return errServerGone
				}
				return nil
			}
			if _, err := a.Run(context.Background()); err == nil {
				t.Fatal("session survived the server's death")
			}
			later := queue(t, nodeA.store, a.ID(), storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: sim.APNURI, Data: "after.restart"}}})
			nodeB := startNode(t, b.open(t))
			a.route.after = nil
			a.route.target = func(_ int, url string) string { return rehost(url, nodeA, nodeB) }
			a.session(t)
			if a.Reboots() != 1 {
				t.Errorf("Exec applied %d times", a.Reboots())
			}
			if j := job(t, nodeB.store, reboot); j.State != storage.JobDone || j.Attempts != 1 {
				t.Errorf("Exec job %s after %d attempts", j.State, j.Attempts)
			}
			if j := job(t, nodeB.store, later); j.State != storage.JobDone || a.Value(sim.APNURI) != "after.restart" {
				t.Errorf("job queued during the outage: %s, device %q", j.State, a.Value(sim.APNURI))
			}
		})
		t.Run("before the device's statuses arrived", func(t *testing.T) {
			nodeA := startNode(t, b.open(t))
			a := newAgent(t, nodeA.store, nodeA.url, enc, withRetry(client.RetryPolicy{Attempts: 1}))
			get := queue(t, nodeA.store, a.ID(), storage.JobSpec{Command: "Get", Items: item("./DevDetail/HwV")})
			rep := queue(t, nodeA.store, a.ID(), storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: sim.TelemetryURI, Format: "bool", Data: "false"}}})
			// Node A dies once the device has its commands (message 1 answered).
			a.route.after = func(n int, _ *client.Response) error {
				if n == 1 {
					nodeA.hs.CloseClientConnections()
					nodeA.hs.Close()
				}
				return nil
			}
			if _, err := a.Run(context.Background()); err == nil {
				t.Fatal("session survived the server's death")
			}
			for _, id := range []int64{get, rep} {
				if j := job(t, nodeA.store, id); j.State != storage.JobSent {
					t.Fatalf("job %d is %s while its status was never received", id, j.State)
				}
			}
			nodeB := startNode(t, b.open(t))
			a.route.after = nil
			a.route.target = func(_ int, url string) string { return rehost(url, nodeA, nodeB) }
			a.session(t)
			for _, id := range []int64{get, rep} {
				j := job(t, nodeB.store, id)
				if j.State != storage.JobDone || j.Attempts != 2 {
					t.Errorf("job %d: %s after %d attempts, want done after 2", id, j.State, j.Attempts)
				}
			}
			if j := job(t, nodeB.store, get); len(j.Results) != 1 || j.Results[0].Data != a.Identity().HwV {
				t.Errorf("resent Get: %d %s results %+v", j.Status, j.Error, j.Results)
			}
			if a.Value(sim.TelemetryURI) != "false" {
				t.Errorf("Replace not applied")
			}
		})
	})
}
