package fleet_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/storage"
)

func TestMetrics_CountOperationsByMOAndState(t *testing.T) {
	e := newEnv(t)
	_, lock := e.create(t, fleet.Request{MO: "lawmo", Operation: "lock"})
	finish(t, e.st, lock, storage.JobFailed, 405) // refused: failed
	if err := e.m.JobChanged(bg, lock.ID); err != nil {
		t.Fatal(err)
	}
	_, reboot := e.create(t, fleet.Request{MO: "exec", Node: "./Vendor/Reboot"})
	finish(t, e.st, reboot, storage.JobDone, 200) // synchronous 200: succeeded
	if err := e.m.JobChanged(bg, reboot.ID); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.m.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "omadm_fleet_operations_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			got[l["mo"]+"/"+l["state"]] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"lawmo/queued": 1, "lawmo/failed": 1, "exec/queued": 1, "exec/succeeded": 1}
	if len(got) != len(want) {
		t.Errorf("series %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("operations_total{%s} = %v, want %v", k, got[k], v)
		}
	}
}
