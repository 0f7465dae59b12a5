package e2e_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/mo/diagmon"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// diagAPI serves the REST API over the ops node's store and Manager.
func diagAPI(t *testing.T, st storage.Store, n *opsNode) string {
	t.Helper()
	h, err := handler.New(handler.Options{Store: st, Token: "t", Operations: n.m})
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL + "/api/v1"
}

// installDiagMon puts the agent's real DiagMon object (the machine's memory
// and load, the tail of a log file) at ./DiagMon.
func installDiagMon(t *testing.T, a *agent, dir string, fns ...diagmon.Function) *diagmon.Object {
	t.Helper()
	obj, err := diagmon.Install(a.Tree(), "./DiagMon", diagmon.Config{Servers: []string{serverID}, Dir: dir,
		Functions: fns, Report: a.Client().QueueAlert})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(obj.Close)
	return obj
}

// A diagnostic run end to end (OMA-TS-DiagMon-V1_0; OMNA alert type
// urn:oma:at:diagmon:1.0:OperationComplete): the operation's Exec is
// accepted (202), the function reads the machine after the session and the
// report (1226 with the Exec's correlator) comes in the next one; the
// operation succeeds with 1200 and the API lists the report's readings.
// A function that fails reports 1400 and its operation fails.
func TestE2E_DiagnosticRunIsReportedAndListed(t *testing.T) {
	log := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(log, []byte("boot ok\nlink up\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var m diagmon.Machine
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startOpsNode(t, st, newClock())
		a := newAgent(t, st, n.url, enc)
		missing := filepath.Join(t.TempDir(), "gone.log")
		obj := installDiagMon(t, a, "", m.Memory(), m.Load(), diagmon.LogTail(log, 0))
		base := diagAPI(t, st, n)

		op, _ := n.create(t, fleet.Request{DeviceID: a.ID(), MO: "diagmon", Operation: "memory"})
		if !strings.HasPrefix(op.Correlator, "diagmon-") || op.Node != "./DiagMon" || op.Name != "Memory" {
			t.Fatalf("created %+v", op)
		}
		// The function may end before the session does: its report then
		// goes in that session, else in the next.
		a.session(t)
		obj.Wait()
		a.session(t)
		done := n.waitState(t, op.ID, storage.OpSucceeded)
		if done.Result != int(diagmon.ResultSuccessful) || done.EventID == 0 || done.ExecStatus != int(syncml.StatusAccepted) {
			t.Fatalf("succeeded %+v", done)
		}
		var dg api.Diagnostic
		getJSON(t, base+"/devices/"+a.ID()+"/diagnostics/"+strconv.FormatInt(done.EventID, 10), &dg)
		if dg.Kind != "report" || dg.Function != "Memory" || !dg.Successful || dg.Correlator != op.Correlator || len(dg.Readings) != 4 {
			t.Fatalf("GET diagnostic %+v", dg)
		}
		var gotOp api.Operation
		getJSON(t, base+"/operations/"+strconv.FormatInt(op.ID, 10), &gotOp)
		if gotOp.Meaning != "successful" {
			t.Errorf("operation meaning %q", gotOp.Meaning)
		}

		// The log file disappears: LogTail fails and says why.
		if err := os.Rename(log, missing); err != nil {
			t.Fatal(err)
		}
		defer os.Rename(missing, log)
		bad, _ := n.create(t, fleet.Request{DeviceID: a.ID(), MO: "diagmon", Operation: "log"})
		a.session(t)
		obj.Wait()
		a.session(t)
		failed := n.waitState(t, bad.ID, storage.OpFailed)
		if failed.Result != int(diagmon.ResultClientError) || !strings.Contains(failed.Error, "1400") {
			t.Fatalf("failed %+v, want result 1400", failed)
		}
		var l api.DiagnosticList
		getJSON(t, base+"/devices/"+a.ID()+"/diagnostics", &l)
		if len(l.Diagnostics) != 2 || l.Diagnostics[1].Successful || l.Diagnostics[1].ResultCode != 1400 ||
			!strings.Contains(l.Diagnostics[1].Message, "app.log") {
			t.Fatalf("list %+v", l)
		}
		getJSON(t, base+"/devices/"+a.ID()+"/diagnostics?function=logtail", &l)
		if len(l.Diagnostics) != 1 || l.Diagnostics[0].Function != "LogTail" {
			t.Fatalf("filtered list %+v", l)
		}
	})
}

// A trap policy set by the server (Replaces of Trap/Threshold and
// Trap/Enabled) fires when the collection finds the metric past the
// threshold: the device sends a TrapNotification (OMNA alert type
// urn:oma:at:diagmon:1.0:TrapNotification), which the API lists as a trap.
func TestE2E_TrapPolicyFiresAndIsListed(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startOpsNode(t, st, newClock())
		a := newAgent(t, st, n.url, enc)
		base := diagAPI(t, st, n)
		// The simulated device's load is a fixed reading; a threshold of -1
		// is always exceeded.
		set := queue(t, st, a.ID(), storage.JobSpec{Command: "Atomic", Children: []storage.JobSpec{{Command: "Replace", Items: []storage.JobItem{
			{URI: "./DiagMon/Functions/Load/Trap/Threshold", Format: "chr", Data: "-1"},
			{URI: "./DiagMon/Functions/Load/Trap/Enabled", Format: "bool", Data: "true"}}}}})
		a.session(t)
		if j := job(t, st, set); j.State != storage.JobDone {
			t.Fatalf("policy job %s %d (%s)", j.State, j.Status, j.Error)
		}
		if sent := a.DiagMon().CheckTraps(); sent != 1 {
			t.Fatalf("CheckTraps sent %d alerts, want 1", sent)
		}
		a.session(t)
		var l api.DiagnosticList
		getJSON(t, base+"/devices/"+a.ID()+"/diagnostics?kind=trap", &l)
		if len(l.Diagnostics) != 1 || l.Diagnostics[0].Function != "Load" || l.Diagnostics[0].Metric != "load1" || l.Diagnostics[0].Threshold != "-1" {
			t.Fatalf("traps %+v", l)
		}
		if a.Value("./DiagMon/Functions/Load/Trap/Active") != "true" {
			t.Fatal("Active not set on the device")
		}
	})
}

// The agent stops while a function runs (after it accepted the Exec): at
// its next start the function runs again, and the operation gets exactly
// one report with its correlator.
func TestE2E_AgentRestartMidDiagnosticReportsOnce(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startOpsNode(t, st, newClock())
		a := newAgent(t, st, n.url, enc)
		dir := t.TempDir()
		started := make(chan struct{})
		hang := diagmon.Function{Name: "Load", Run: func(ctx context.Context) (diagmon.Readings, error) {
			close(started)
			<-ctx.Done()
			return nil, ctx.Err()
		}}
		obj := installDiagMon(t, a, dir, hang)
		op, _ := n.create(t, fleet.Request{DeviceID: a.ID(), MO: "diagmon", Operation: "load"})
		a.session(t)
		n.waitState(t, op.ID, storage.OpAccepted)
		<-started
		obj.Close() // the agent stops mid-run
		var m diagmon.Machine
		obj = installDiagMon(t, a, dir, m.Load()) // and starts again
		obj.Wait()
		a.session(t)
		done := n.waitState(t, op.ID, storage.OpSucceeded)
		if done.Result != int(diagmon.ResultSuccessful) {
			t.Fatalf("done %+v", done)
		}
		a.session(t)
		evs, err := st.EventsByCorrelator(context.Background(), a.ID(), op.Correlator)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 {
			t.Fatalf("%d reports with the correlator, want 1", len(evs))
		}
	})
}
