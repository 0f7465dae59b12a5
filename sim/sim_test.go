package sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/mo/lawmo"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

func TestHistogram_QuantilesStayWithinBucketPrecision(t *testing.T) {
	tests := []struct {
		name    string
		samples []time.Duration
		q       float64
		want    time.Duration
	}{
		{"single sub-millisecond value", []time.Duration{40 * time.Microsecond}, 0.99, 40 * time.Microsecond},
		{"median of a uniform spread", spread(1000, time.Millisecond), 0.5, 500 * time.Millisecond},
		{"p99 of a uniform spread", spread(1000, time.Millisecond), 0.99, 990 * time.Millisecond},
		{"p100 is the maximum", spread(100, 3*time.Millisecond), 1, 300 * time.Millisecond},
		{"long sessions", []time.Duration{2 * time.Minute, 2 * time.Minute}, 0.5, 2 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h sim.Histogram
			for _, s := range tc.samples {
				h.Record(s)
			}
			got := h.Quantile(tc.q)
			if diff := float64(got-tc.want) / float64(tc.want); diff > 0.04 || diff < -0.04 {
				t.Errorf("Quantile(%v) = %v, want %v ±4%%", tc.q, got, tc.want)
			}
			if got > h.Max() {
				t.Errorf("quantile %v above max %v", got, h.Max())
			}
		})
	}
}

func spread(n int, step time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * step
	}
	return out
}

func TestHistogram_EmptyReportsZero(t *testing.T) {
	var h sim.Histogram
	if h.Quantile(0.99) != 0 || h.Mean() != 0 || h.Count() != 0 {
		t.Fatal("empty histogram reports non-zero values")
	}
}

func TestNewIdentity_IMEIsAreUniqueAndPassLuhn(t *testing.T) {
	seen := map[string]bool{}
	for n := range 5000 {
		id := sim.NewIdentity(n)
		if !strings.HasPrefix(id.DevID, "IMEI:") || len(id.DevID) != 20 {
			t.Fatalf("DevID %q is not IMEI:+15 digits", id.DevID)
		}
		if !luhnValid(id.DevID[5:]) {
			t.Fatalf("DevID %q fails the Luhn check", id.DevID)
		}
		if seen[id.DevID] {
			t.Fatalf("DevID %q repeats", id.DevID)
		}
		seen[id.DevID] = true
		if id.Man == "" || id.Mod == "" || id.FwV == "" || id.SwV == "" || id.HwV == "" || id.DmV != "1.2" {
			t.Fatalf("incomplete identity %+v", id)
		}
	}
	if a, b := sim.NewIdentity(42), sim.NewIdentity(42); a != b {
		t.Fatal("identities are not deterministic")
	}
}

func luhnValid(s string) bool {
	sum := 0
	for i := range len(s) {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func TestDeriveCredentials_RepeatableAndDistinctPerDevice(t *testing.T) {
	a := sim.DeriveCredentials("s", "IMEI:1")
	if a != sim.DeriveCredentials("s", "IMEI:1") {
		t.Fatal("not deterministic")
	}
	if b := sim.DeriveCredentials("s", "IMEI:2"); b.Password == a.Password || b.ServerPassword == a.ServerPassword {
		t.Fatal("two devices share a secret")
	}
	if c := sim.DeriveCredentials("other", "IMEI:1"); c.Password == a.Password {
		t.Fatal("the fleet secret does not change the credentials")
	}
	if a.Password == a.ServerPassword {
		t.Fatal("client and server passwords are equal")
	}
}

func TestNewDevice_TreeCarriesStandardObjectsAndSettings(t *testing.T) {
	id := sim.NewIdentity(7)
	d, err := sim.NewDevice(sim.DeviceOptions{Identity: id, Credentials: sim.DeriveCredentials("x", id.DevID),
		ServerURL: "http://127.0.0.1:1/dm", Transport: newTransport(t)})
	if err != nil {
		t.Fatal(err)
	}
	for uri, want := range map[string]string{
		"./DevInfo/DevId": id.DevID, "./DevInfo/Man": id.Man, "./DevDetail/FwV": id.FwV,
		"./DevDetail/URI/MaxDepth": "16", "./DMAcc/DMServer/ServerID": "omadm", sim.PollIntervalURI: "3600",
	} {
		if got := d.Value(uri); got != want {
			t.Errorf("%s = %q, want %q", uri, got, want)
		}
	}
	// The server may change settings but not the device identity.
	if err := d.Tree().Replace("omadm", sim.PollIntervalURI, dmtreeValue("60")); err != nil {
		t.Errorf("server Replace of a setting: %v", err)
	}
	if err := d.Tree().Replace("omadm", "./DevInfo/Man", dmtreeValue("x")); syncml.StatusOf(err).Success() {
		t.Error("server could replace ./DevInfo/Man")
	}
}

func TestNewDevice_RejectsIncompleteOptions(t *testing.T) {
	tests := []struct {
		name string
		o    sim.DeviceOptions
	}{
		{"no identity", sim.DeviceOptions{ServerURL: "http://x/dm", Transport: newTransport(t)}},
		{"no transport", sim.DeviceOptions{Identity: sim.NewIdentity(1), ServerURL: "http://x/dm"}},
		{"no server", sim.DeviceOptions{Identity: sim.NewIdentity(1), Transport: newTransport(t)}},
		{"unknown auth", sim.DeviceOptions{Identity: sim.NewIdentity(1), ServerURL: "http://x/dm", Transport: newTransport(t), Auth: "kerberos"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := sim.NewDevice(tc.o); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestFleet_RunsEverySessionAgainstTheRealServer(t *testing.T) {
	for _, tc := range []struct {
		name string
		auth string
		enc  syncml.Encoding
	}{
		{"md5 xml", sim.AuthMD5, syncml.EncodingXML},
		{"hmac wbxml", sim.AuthHMAC, syncml.EncodingWBXML},
		{"basic xml", sim.AuthBasic, syncml.EncodingXML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t)
			f, err := sim.New(sim.Options{ServerURL: srv.url, Devices: 12, Sessions: 2, Concurrency: 4,
				Auth: tc.auth, Encoding: tc.enc, Transport: newTransport(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ctx := context.Background()
			if err := f.Enroll(ctx, srv.enroller(false), 3, nil); err != nil {
				t.Fatal(err)
			}
			dev := f.Devices()[3]
			job := &storage.Job{DeviceID: dev.ID(), Spec: storage.JobSpec{Command: "Replace",
				Items: []storage.JobItem{{URI: sim.PollIntervalURI, Format: "int", Data: "120"}}}}
			if err := srv.store.CreateJob(ctx, job); err != nil {
				t.Fatal(err)
			}
			sn, err := f.Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if sn.Sessions != 24 || sn.OK != 24 || sn.Failed != 0 || sn.InFlight != 0 {
				t.Fatalf("snapshot %+v", sn)
			}
			if sn.P50 <= 0 || sn.P99 < sn.P50 || sn.Commands != 1 {
				t.Errorf("latency p50 %v p99 %v, commands %d", sn.P50, sn.P99, sn.Commands)
			}
			if got := dev.Value(sim.PollIntervalURI); got != "120" {
				t.Errorf("queued Replace not applied: %q", got)
			}
			if j, _ := srv.store.GetJob(ctx, job.ID); j.State != storage.JobDone {
				t.Errorf("job %s", j.State)
			}
		})
	}
}

func TestFleet_CountsFailedSessionsByReason(t *testing.T) {
	srv := newTestServer(t)
	f, err := sim.New(sim.Options{ServerURL: srv.url, Devices: 3, Concurrency: 2, Transport: newTransport(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Enroll(context.Background(), srv.enroller(true), 0, nil); err != nil {
		t.Fatal(err)
	}
	sn, err := f.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The server withholds its own credentials from a device it rejects, so
	// the engine may report either side's authentication as the failure.
	if sn.Failed != 3 || sn.OK != 0 || sn.Errors["auth"]+sn.Errors["server-auth"] != 3 {
		t.Fatalf("want 3 authentication failures, got %+v", sn)
	}
}

func TestFleet_PollScheduleStopsAtDuration(t *testing.T) {
	srv := newTestServer(t)
	f, err := sim.New(sim.Options{ServerURL: srv.url, Devices: 4, Concurrency: 4, Transport: newTransport(t),
		Duration: 600 * time.Millisecond, Interval: 200 * time.Millisecond, Jitter: 0.2, Burst: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Enroll(context.Background(), srv.enroller(false), 0, nil); err != nil {
		t.Fatal(err)
	}
	sn, err := f.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Burst: the 4 devices start at once, then each polls about every
	// 200 ms (±20 %) until 600 ms. A slow machine runs fewer rounds, never
	// more: the schedule bounds the count from above (at most 1 + 600/160
	// rounds), the burst from below; how many fit is not asserted.
	if sn.Sessions < 4 || sn.Sessions > 4*5 || sn.Failed != 0 {
		t.Fatalf("poll schedule ran %d sessions (%d failed)", sn.Sessions, sn.Failed)
	}
}

func TestFleet_NotificationWakesOnlyTheAddressedDevice(t *testing.T) {
	srv := newTestServer(t)
	f, err := sim.New(sim.Options{ServerURL: srv.url, Devices: 5, Transport: newTransport(t), NotifyListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	addr, err := f.Listen(ctx)
	if err != nil || !strings.HasPrefix(addr, "udp://127.0.0.1:") {
		t.Fatalf("Listen = %q, %v", addr, err)
	}
	if err := f.Enroll(ctx, srv.enroller(false), 0, nil); err != nil {
		t.Fatal(err)
	}
	target := f.Devices()[2]
	job := &storage.Job{DeviceID: target.ID(), Spec: storage.JobSpec{Command: "Exec", Items: []storage.JobItem{{URI: sim.RebootURI}}}}
	if err := srv.store.CreateJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	if err := srv.engine.Notify(ctx, target.ID()); err != nil {
		t.Fatal(err)
	}
	// The job is done once the device's Status for its Exec is stored: the
	// device rebooted before it answered.
	srv.waitJob(t, job.ID, storage.JobDone)
	if n := target.Reboots(); n != 1 {
		t.Fatalf("the notified device rebooted %d times, want 1", n)
	}
	for _, d := range f.Devices() {
		if d != target && d.Sessions() != 0 {
			t.Errorf("%s ran a session although not addressed", d.ID())
		}
	}
	if n := f.Stats().Snapshot().Notified; n != 1 {
		t.Errorf("notified = %d", n)
	}
}

func TestSnapshot_JSONCarriesRatesAndPercentiles(t *testing.T) {
	st := sim.NewStats()
	st.Latency.Record(5 * time.Millisecond)
	var b bytes.Buffer
	if err := st.Snapshot().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"sessions", "ok", "failed", "in_flight", "sessions_per_s", "p50_ms", "p95_ms", "p99_ms", "errors"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b.String())
		}
	}
}

func TestFleet_SessionHonoursCustomUI(t *testing.T) {
	srv := newTestServer(t)
	f, err := sim.New(sim.Options{ServerURL: srv.url, Devices: 1, Transport: newTransport(t), UI: client.AutoAnswer{Reject: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	if err := f.Enroll(ctx, srv.enroller(false), 0, nil); err != nil {
		t.Fatal(err)
	}
	d := f.Devices()[0]
	job := &storage.Job{DeviceID: d.ID(), Spec: storage.JobSpec{Command: "Alert", Alert: &storage.UIAlert{Code: 1101, Text: "Reboot now?"}}}
	if err := srv.store.CreateJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Session(ctx, d); err != nil {
		t.Fatal(err)
	}
	j, err := srv.store.GetJob(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != int(syncml.StatusNotModified) {
		t.Fatalf("rejected confirmation answered %d, want 304", j.Status)
	}
}

// An idle fleet device keeps only what changed in its tree: it is dropped
// after its session, still recognises a package 0 digest made with the
// nonce its last session agreed (OMA-TS-DM_Notification-V1_2 §6.1), and is
// built again with the server's changes in place.
func TestFleet_IdleDeviceIsDroppedAndRebuiltWithTheServersChanges(t *testing.T) {
	srv := newTestServer(t)
	f, err := sim.New(sim.Options{ServerURL: srv.url, Devices: 3, Transport: newTransport(t), NotifyListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	if _, err := f.Listen(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Enroll(ctx, srv.enroller(false), 0, nil); err != nil {
		t.Fatal(err)
	}
	target := f.Devices()[1]
	replace := &storage.Job{DeviceID: target.ID(), Spec: storage.JobSpec{Command: "Replace",
		Items: []storage.JobItem{{URI: sim.PollIntervalURI, Format: "int", Data: "120"}}}}
	if err := srv.store.CreateJob(ctx, replace); err != nil {
		t.Fatal(err)
	}
	if sn, err := f.Run(ctx); err != nil || sn.OK != 3 {
		t.Fatalf("run: %+v, %v", sn, err)
	}
	for _, d := range f.Devices() {
		if d.Built() {
			t.Errorf("%s still built after its session", d.ID())
		}
	}
	reboot := &storage.Job{DeviceID: target.ID(), Spec: storage.JobSpec{Command: "Exec", Items: []storage.JobItem{{URI: sim.RebootURI}}}}
	if err := srv.store.CreateJob(ctx, reboot); err != nil {
		t.Fatal(err)
	}
	if err := srv.engine.Notify(ctx, target.ID()); err != nil {
		t.Fatal(err)
	}
	srv.waitJob(t, reboot.ID, storage.JobDone)
	if n := target.Reboots(); n != 1 {
		t.Errorf("reboots = %d, want 1", n)
	}
	if got := target.Value(sim.PollIntervalURI); got != "120" {
		t.Errorf("%s = %q after rebuild, want the server's 120", sim.PollIntervalURI, got)
	}
	for _, d := range f.Devices() {
		if d != target && d.Sessions() != 1 {
			t.Errorf("%s ran %d sessions, want 1", d.ID(), d.Sessions())
		}
	}
	// A third session authenticates with the nonces the rebuilt device kept.
	if _, err := f.Session(ctx, target); err != nil {
		t.Fatal(err)
	}
}

// With several notification sockets each device registers its own
// socket's address, and a package 0 reaches the addressed device through it.
func TestFleet_NotificationSocketsEachServeTheirDevices(t *testing.T) {
	srv := newTestServer(t)
	f, err := sim.New(sim.Options{ServerURL: srv.url, Devices: 6, Transport: newTransport(t), NotifyListen: "127.0.0.1:0", NotifySockets: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	if _, err := f.Listen(ctx); err != nil {
		t.Fatal(err)
	}
	ds := f.Devices()
	addr := func(i int) string { return f.Enrolment(ds[i]).NotifyAddr }
	if addr(0) == addr(1) || addr(1) == addr(2) || addr(0) != addr(3) || addr(2) != addr(5) || addr(0) != f.NotifyAddr() {
		t.Fatalf("socket addresses %q %q %q %q %q %q", addr(0), addr(1), addr(2), addr(3), addr(4), addr(5))
	}
	if err := f.Enroll(ctx, srv.enroller(false), 0, nil); err != nil {
		t.Fatal(err)
	}
	target := ds[4]
	job := &storage.Job{DeviceID: target.ID(), Spec: storage.JobSpec{Command: "Exec", Items: []storage.JobItem{{URI: sim.RebootURI}}}}
	if err := srv.store.CreateJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	if err := srv.engine.Notify(ctx, target.ID()); err != nil {
		t.Fatal(err)
	}
	srv.waitJob(t, job.ID, storage.JobDone)
	if n := target.Reboots(); n != 1 {
		t.Fatalf("reboots = %d", n)
	}
	for _, d := range ds {
		if d != target && d.Sessions() != 0 {
			t.Errorf("%s ran a session although not addressed", d.ID())
		}
	}
}

// A report (here LAWMO's 1226 after a FullyLock Exec answered 202,
// OMA-TS-LAWMO-V1_0 §8) whose session fails is sent again in a later
// session, as an agent does, instead of waiting for the server to call.
func TestFleet_ReportSessionIsRetriedUntilDelivered(t *testing.T) {
	srv := newTestServer(t)
	inner := newTransport(t)
	var failed atomic.Bool
	delivered := make(chan struct{})
	var once sync.Once
	tp := client.TransportFunc(func(ctx context.Context, req *client.Request) (*client.Response, error) {
		report := bytes.Contains(req.Body, []byte("<Data>1226</Data>"))
		if report && failed.CompareAndSwap(false, true) {
			return nil, fmt.Errorf("%w: server restarting", client.ErrTransport)
		}
		resp, err := inner.RoundTrip(ctx, req)
		if report && err == nil {
			once.Do(func() { close(delivered) })
		}
		return resp, err
	})
	f, err := sim.New(sim.Options{ServerURL: srv.url, Devices: 1, Transport: tp, Retry: client.RetryPolicy{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	if err := f.Enroll(ctx, srv.enroller(false), 0, nil); err != nil {
		t.Fatal(err)
	}
	d := f.Devices()[0]
	job := &storage.Job{DeviceID: d.ID(), Spec: storage.JobSpec{Command: "Exec", Items: []storage.JobItem{{URI: sim.LAWMOURI + "/Operations/FullyLock"}}}}
	if err := srv.store.CreateJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	// When the lock finishes before the device answers the Exec, the report
	// rides along in that answer (client: alerts queued during a session go
	// in its next package) and the injected failure ends this session
	// instead of a report session of its own; the alert is queued again
	// either way.
	if _, err := f.Session(ctx, d); err != nil && !(errors.Is(err, client.ErrTransport) && failed.Load()) {
		t.Fatal(err)
	}
	select {
	case <-delivered:
	case <-time.After(30 * time.Second): // bounds a hang only
		t.Fatal("the report was never delivered")
	}
	if !failed.Load() {
		t.Fatal("the first report session did not fail")
	}
	if got := d.LockState(); got != lawmo.StateFullyLocked {
		t.Errorf("lock state %d, want fully locked", got)
	}
}
