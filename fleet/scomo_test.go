package fleet_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/storage"
)

// A SCOMO install Adds Download/<id> with its PkgID and PkgURL in one Add
// and then Execs its DownloadInstall; a component operation Execs the
// component's Operations node (OMA-TS-DM-SCOMO-V1_0 §5: the server creates
// Download/<x>; Deployed/<x> is the device's).
func TestCreate_SCOMOOperationsNameTheirPackageNode(t *testing.T) {
	e := newEnv(t)
	op, j := e.create(t, fleet.Request{MO: "scomo", Operation: "install", Params: map[string]any{"id": "app1", "url": "http://p/app1.tgz", "name": "App"}})
	if j.Spec.Command != "Sequence" || j.Spec.Children[0].Command != "Add" {
		t.Fatalf("job %+v: want a Sequence of an Add and the Exec", j.Spec)
	}
	var got []string
	for _, it := range j.Spec.Children[0].Items {
		got = append(got, it.URI+"="+it.Format+":"+it.Data)
	}
	want := "./SCOMO/Download/app1=node: ./SCOMO/Download/app1/PkgID=chr:app1 ./SCOMO/Download/app1/PkgURL=chr:http://p/app1.tgz ./SCOMO/Download/app1/Name=chr:App"
	if strings.Join(got, " ") != want {
		t.Errorf("Add items\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	if ex := j.Spec.Children[1]; ex.Items[0].URI != "./SCOMO/Download/app1/Operations/DownloadInstall" || ex.Correlator != op.Correlator {
		t.Errorf("exec %+v", ex)
	}
	if op.Name != "DownloadInstall" || op.Params["id"] != "app1" {
		t.Errorf("operation %+v", op)
	}

	_, j = e.create(t, fleet.Request{MO: "scomo", Operation: "deactivate", Params: map[string]any{"id": "app1"}})
	if j.Spec.Command != "Exec" || j.Spec.Items[0].URI != "./SCOMO/Inventory/Deployed/app1/Operations/Deactivate" {
		t.Errorf("deactivate job %+v", j.Spec)
	}

	for _, tc := range []struct {
		name  string
		r     fleet.Request
		field string
	}{
		{"no id", fleet.Request{MO: "scomo", Operation: "remove"}, "params.id"},
		{"id with a slash", fleet.Request{MO: "scomo", Operation: "remove", Params: map[string]any{"id": "a/../b"}}, "params.id"},
		{"install without url", fleet.Request{MO: "scomo", Operation: "install", Params: map[string]any{"id": "a"}}, "params.url"},
		{"no operation", fleet.Request{MO: "scomo", Params: map[string]any{"id": "a"}}, "operation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			r.DeviceID = "d1"
			_, _, err := e.m.Create(bg, &r)
			var fe *fleet.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("error %v, want a FieldError on %s", err, tc.field)
			}
		})
	}
}

// Once a SCOMO operation ended with the device's report the server reads
// the inventory again (the descriptor's Refresh), once.
func TestAdvance_ReportedSCOMOOperationQueuesTheInventoryRead(t *testing.T) {
	e := newEnv(t)
	op, j := e.create(t, fleet.Request{MO: "scomo", Operation: "remove", Params: map[string]any{"id": "app1"}})
	finish(t, e.st, j, storage.JobDone, 202)
	report(t, e.st, op, "urn:oma:at:scomo:1.0:OperationComplete", "<ResultCode>1200</ResultCode><Identifier>app1</Identifier>")
	for range 2 { // a second pass finds it ended and queues nothing more
		if err := e.m.Advance(bg, op); err != nil {
			t.Fatal(err)
		}
	}
	if op.State != storage.OpSucceeded || op.Result != 1200 {
		t.Fatalf("operation %+v", op)
	}
	js, _ := e.st.ListJobs(bg, storage.JobFilter{DeviceID: "d1"})
	var gets []string
	for _, j := range js {
		if j.Spec.Command == "Get" {
			gets = append(gets, j.Spec.Items[0].URI)
		}
	}
	if len(gets) != 1 || gets[0] != "./SCOMO/Inventory?list=StructData" {
		t.Errorf("Gets queued %v", gets)
	}
}
