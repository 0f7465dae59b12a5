package e2e_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/mo/lawmo"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// Lock and wipe the way an operator does: the server marks a wipe list item
// and executes Wipe, then FullyLock in a later session; each is accepted
// (202), done after the session and reported with its correlator.
func TestE2E_LockAndWipeAreAcceptedThenReported(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc)
		var mu sync.Mutex
		var wiped []string
		var locked lawmo.State
		obj, err := lawmo.Install(a.Tree(), "./LAWMO", lawmo.Config{
			Servers:  []string{serverID},
			WipeList: []string{"SD card", "Contacts"},
			Report:   a.Client().QueueAlert,
			Lock: func(_ context.Context, s lawmo.State, _ bool) error {
				mu.Lock()
				locked = s
				mu.Unlock()
				return nil
			},
			Wipe: func(_ context.Context, items []string, _ bool) error {
				mu.Lock()
				wiped = items
				mu.Unlock()
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(obj.Close)

		report := func(corr string) lawmo.Outcome {
			t.Helper()
			evs, err := st.ListEvents(t.Context(), a.ID(), 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				if e.Correlator == corr {
					o, ok, err := lawmo.ParseAlert(e.Type, e.Source, e.Data)
					if !ok || err != nil {
						t.Fatalf("event %+v: %v %v", e, ok, err)
					}
					return o
				}
			}
			t.Fatalf("no event with correlator %s", corr)
			return lawmo.Outcome{}
		}

		queue(t, st, a.ID(), storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./LAWMO/AvailableWipeList/1/ToBeWiped", Format: "bool", Data: "true"}}})
		wipe := queue(t, st, a.ID(), storage.JobSpec{Command: "Exec", Correlator: "wipe-9", Items: item("./LAWMO/Operations/Wipe")})
		a.session(t)
		if j := job(t, st, wipe); j.Status != int(syncml.StatusAccepted) {
			t.Fatalf("Exec Wipe: %d (%s)", j.Status, j.Error)
		}
		obj.Wait()
		lock := queue(t, st, a.ID(), storage.JobSpec{Command: "Exec", Correlator: "lock-9", Items: item("./LAWMO/Operations/FullyLock")})
		a.session(t) // reports the wipe, runs the lock
		if o := report("wipe-9"); o.Op != lawmo.OpWipe || o.Result != lawmo.ResultWipeListSuccessful {
			t.Errorf("wipe report %+v", o)
		}
		if j := job(t, st, lock); j.Status != int(syncml.StatusAccepted) {
			t.Fatalf("Exec FullyLock: %d (%s)", j.Status, j.Error)
		}
		obj.Wait()
		a.session(t)
		if o := report("lock-9"); o.Op != lawmo.OpFullyLock || o.Result != lawmo.ResultSuccessful {
			t.Errorf("lock report %+v", o)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(wiped) != 1 || wiped[0] != "SD card" || locked != lawmo.StateFullyLocked || obj.State() != lawmo.StateFullyLocked {
			t.Errorf("device wiped %q, locked %d, State %d", wiped, locked, obj.State())
		}
	})
}

// TestE2E_WipeWithAnItemTheDeviceLacksDoesNotWipe: the API queues a LAWMO
// wipe as one Sequence of the ToBeWiped Replaces and the Exec
// (OMA-TS-DM_RepPro-V1_2, Sequence: members run in order, the ones
// after a failed member are answered 215). An item the device does not
// have fails its Replace, so the Exec does not run: nothing is wiped, no
// report comes, and the job fails naming the refused Replace.
func TestE2E_WipeWithAnItemTheDeviceLacksDoesNotWipe(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc)
		var mu sync.Mutex
		wipes := 0
		obj, err := lawmo.Install(a.Tree(), "./LAWMO", lawmo.Config{
			Servers:  []string{serverID},
			WipeList: []string{"SD card", "Contacts"},
			Report:   a.Client().QueueAlert,
			Wipe: func(context.Context, []string, bool) error {
				mu.Lock()
				wipes++
				mu.Unlock()
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(obj.Close)
		plan, err := fleet.New(fleet.Options{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		_, spec, err := plan.Plan(&fleet.Request{DeviceID: a.ID(), MO: "lawmo", Operation: "wipe",
			Params: map[string]any{"wipe_items": []string{"1", "7"}}, Correlator: "wipe-bad"})
		if err != nil {
			t.Fatal(err)
		}
		id := queue(t, st, a.ID(), spec)
		a.session(t)
		obj.Wait()
		j := job(t, st, id)
		if j.State != storage.JobFailed || len(j.ChildStatus) != 2 || j.ChildStatus[1] != int(syncml.StatusNotExecuted) ||
			!strings.Contains(j.Error, "member 1 (Replace)") {
			t.Fatalf("job %s %v %q: want failed, Replace refused, Exec 215", j.State, j.ChildStatus, j.Error)
		}
		a.session(t) // a report, had there been one, would come now
		mu.Lock()
		defer mu.Unlock()
		if wipes != 0 {
			t.Fatalf("the device wiped %d times after the wipe list was refused", wipes)
		}
		evs, err := st.ListEvents(t.Context(), a.ID(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Correlator == "wipe-bad" {
				t.Fatalf("a report came for a wipe that must not run: %+v", e)
			}
		}
	})
}
