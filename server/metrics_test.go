package server_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// samples gathers the engine's collectors as "name{label=value,…}" → value
// (counters and gauges: the value; histograms: the sample count).
func samples(t *testing.T, e *server.Engine) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			if ls := m.GetLabel(); len(ls) > 0 {
				var parts []string
				for _, l := range ls {
					parts = append(parts, l.GetName()+"="+l.GetValue())
				}
				sort.Strings(parts)
				key += "{" + strings.Join(parts, ",") + "}"
			}
			got[key] = value(m)
		}
	}
	return got
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

func TestEngine_CollectorsCountSessionsMessagesAndAuthFailuresByLabel(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./X"}}})

	// No credentials, then a wrong password: two failures, by what the
	// message presented.
	d := newDevice(h.e, "")
	d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	d.scheme, d.password = "basic", "wrong"
	d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	// Then the session runs; the device aborts it (Alert 1223) instead of
	// answering the Get, so the job stays sent (and is resent next session).
	d.password = devPass
	d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	d.post(t, d.message(true, &syncml.Alert{CmdID: "1", Data: syncml.AlertSessionAbort}))

	got := samples(t, h.e)
	want := map[string]float64{
		"omadm_server_sessions_started_total":                         1,
		"omadm_server_sessions_ended_total{result=device_abort}":      1,
		"omadm_server_sessions_ended_total{result=completed}":         0,
		"omadm_server_sessions_ended_total{result=server_rejected}":   0,
		"omadm_server_sessions_ended_total{result=max_msg_too_small}": 0,
		"omadm_server_auth_failures_total{scheme=none}":               1,
		"omadm_server_auth_failures_total{scheme=basic}":              1,
		"omadm_server_messages_in_total":                              4,
		"omadm_server_messages_out_total":                             4,
		"omadm_server_handle_seconds":                                 4,
		"omadm_server_store_seconds{op=read_message}":                 4,
		"omadm_server_store_seconds{op=write_message}":                2, // failed authentications store nothing
		"omadm_server_jobs{state=queued}":                             0,
		"omadm_server_jobs{state=sent}":                               1,
		"omadm_server_jobs{state=done}":                               0,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}

func TestEngine_CollectorsCountACompletedSession(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	d := newDevice(h.e, "basic")
	d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	got := samples(t, h.e)
	for k, v := range map[string]float64{
		"omadm_server_sessions_started_total":                    1,
		"omadm_server_sessions_ended_total{result=completed}":    1,
		"omadm_server_sessions_ended_total{result=device_abort}": 0,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}
