package e2e_test

import (
	"strings"
	"testing"

	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// A command of several Items is answered per Item when the outcomes differ
// (OMA-TS-DM_Protocol-V1_2 §6.1.1; the Status names its Items in TargetRef):
// the server keeps every found value, records each failed Item with its own
// status and fails the job with a reason that names them — it never takes
// the last Status as the whole command's.
func TestE2E_CommandOfSeveralItemsIsAccountedPerItem(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc)
		present := []string{"./DevInfo/Man", "./DevInfo/Mod", "./DevInfo/DevId", "./DevInfo/Lang", "./DevInfo/DmV"}
		absent := []string{"./DevInfo/Absent1", "./Vendor/Absent2"}
		uris := []string{present[0], absent[0], present[1], present[2], absent[1], present[3], present[4]}
		var items []storage.JobItem
		for _, u := range uris {
			items = append(items, storage.JobItem{URI: u})
		}
		get := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: items})
		all := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: present[0]}, {URI: present[1]}}})
		del := queue(t, st, a.ID(), storage.JobSpec{Command: "Delete", Items: []storage.JobItem{{URI: sim.APNURI}, {URI: "./Vendor/Absent3"}}})
		a.session(t)

		j := job(t, st, get)
		if j.State != storage.JobFailed || j.Status != int(syncml.StatusNotFound) {
			t.Fatalf("Get of 7 with 2 absent: %s %d (%s), want failed 404", j.State, j.Status, j.Error)
		}
		found := map[string]storage.ResultItem{}
		for _, r := range j.Results {
			found[r.URI] = r
		}
		for _, u := range present {
			if r, ok := found[u]; !ok || r.Status != 0 || r.Data == "" {
				t.Errorf("present %s: result %+v (found %v)", u, r, ok)
			}
		}
		for _, u := range absent {
			if r := found[u]; r.Status != int(syncml.StatusNotFound) {
				t.Errorf("absent %s: result %+v, want status 404", u, r)
			}
			if !strings.Contains(j.Error, u) {
				t.Errorf("reason %q does not name %s", j.Error, u)
			}
		}
		if len(j.Results) != 7 {
			t.Errorf("%d result entries, want 5 values and 2 failures: %+v", len(j.Results), j.Results)
		}

		if j := job(t, st, all); j.State != storage.JobDone || j.Status != 200 || len(j.Results) != 2 {
			t.Errorf("Get of 2 present URIs: %s %d %+v", j.State, j.Status, j.Results)
		}
		j = job(t, st, del)
		if j.State != storage.JobFailed || j.Status != int(syncml.StatusNotFound) || !strings.Contains(j.Error, "./Vendor/Absent3") || strings.Contains(j.Error, sim.APNURI) {
			t.Errorf("Delete of one present and one absent node: %s %d %q", j.State, j.Status, j.Error)
		}
	})
}
