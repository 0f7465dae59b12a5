package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	apiclient "github.com/omadm/omadm/api/client"
	"github.com/omadm/omadm/storage/postgres"
)

// waitCampaign follows a campaign over the event stream until done says
// so (the current state is read once the stream is open, so no change is
// missed) and returns it.
func waitCampaign(ctx context.Context, t *testing.T, c *apiclient.Client, id int64, done func(*api.Campaign) bool) *api.Campaign {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	found := make(chan *api.Campaign, 1)
	stop := errors.New("found")
	check := func(x *api.Campaign) error {
		if x.ID == id && done(x) {
			select {
			case found <- x:
			default:
			}
			return stop
		}
		return nil
	}
	opened := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- c.Stream(ctx, apiclient.StreamOptions{Kinds: []string{api.UpdateCampaign}, OnOpen: func() { close(opened) }},
			func(u api.Update) error {
				if u.Campaign == nil {
					return nil
				}
				return check(u.Campaign)
			})
	}()
	select {
	case <-opened:
	case err := <-errc:
		t.Fatalf("event stream: %v", err)
	}
	x, err := c.GetCampaign(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if check(x) == stop {
		return <-found
	}
	select {
	case x := <-found:
		return x
	case err := <-errc:
		if errors.Is(err, stop) {
			return <-found
		}
		t.Fatalf("event stream ended: %v", err)
	}
	return nil
}

// TestE2E_ServeKilledMidCampaignGivesEveryDeviceOneOperation runs a
// campaign in the real `omadm serve` process and SIGKILLs the process
// driving it mid-wave. On SQLite the process is restarted on the same data
// directory; on PostgreSQL a second process shares the database from the
// start. The surviving or restarted process takes the campaign over once
// the dead one's lease ran out and finishes it: every target device got
// exactly one operation (none twice, none forgotten), and no device was
// sent its package 0 twice.
func TestE2E_ServeKilledMidCampaignGivesEveryDeviceOneOperation(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the test that builds and kills the omadm serve process")
	}
	bin := buildOmadm(t)
	t.Run("sqlite", func(t *testing.T) { killMidCampaign(t, bin, nil, false) })
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("OMADM_TEST_POSTGRES")
		if dsn == "" {
			t.Skip("OMADM_TEST_POSTGRES is not set: PostgreSQL end-to-end tests skipped (start one with scripts/pg-throwaway.sh)")
		}
		key := filepath.Join(t.TempDir(), "secret.key")
		killMidCampaign(t, bin, []string{"--db", pgSchema(t, dsn), "--secret-key-file", key}, true)
	})
}

// pgSchema creates a schema of the test's own and returns a DSN using it.
func pgSchema(t *testing.T, dsn string) string {
	t.Helper()
	scoped, drop, err := postgres.TempSchema(context.Background(), dsn, "e2e_campaign")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = drop() })
	return scoped
}

func killMidCampaign(t *testing.T, bin string, db []string, twoNodes bool) {
	const devices = 300
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	flags := append([]string{"--campaign-interval", "20ms", "--op-sweep", "100ms", "--campaign-lease", "2s", "--log-level", "warn"}, db...)
	data := t.TempDir()
	procs := []*serveProcess{startServe(t, bin, data, flags...)}
	if twoNodes {
		procs = append(procs, startServe(t, bin, t.TempDir(), flags...))
	}

	// Package 0 goes to a socket that only counts datagrams.
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	var notified atomic.Int64
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := udp.ReadFrom(buf); err != nil {
				return
			}
			notified.Add(1)
		}
	}()
	c := procs[0].api()
	for i := range devices {
		if _, err := c.CreateDevice(ctx, api.DeviceCreate{ID: fmt.Sprintf("kill-%03d", i), Username: "u", Password: "p",
			NotifyAddr: "udp://" + udp.LocalAddr().String()}); err != nil {
			t.Fatal(err)
		}
	}
	// No device ever connects: each operation times out after a second,
	// so the campaign moves on by the server's own clock.
	camp, err := c.CreateCampaign(ctx, api.CampaignRequest{Name: "kill -9",
		Template: api.CampaignTemplate{MO: "exec", Node: "./Vendor/Sim/Ops/Reboot", Timeout: "1s"},
		Target:   api.CampaignTarget{All: true},
		Policy:   api.CampaignPolicy{Waves: []string{"50%"}, MaxInFlight: -1, NotifyRate: 100, NotifyBurst: 5, MaxNotifies: 1}})
	if err != nil {
		t.Fatal(err)
	}
	mid := waitCampaign(ctx, t, c, camp.ID, func(x *api.Campaign) bool { return x.Counts["notified"]+x.Done >= 40 })
	// Kill the process holding the lease (its node name carries its pid).
	victim := 0
	for i, p := range procs {
		if strings.Contains(mid.LeaseOwner, fmt.Sprintf("-%d-", p.cmd.Process.Pid)) {
			victim = i
		}
	}
	procs[victim].kill(t)
	if mid.Done+mid.Counts["notified"] >= devices/2 {
		t.Fatalf("the first wave was over before the kill: %+v", mid.Counts)
	}
	var next *serveProcess
	if twoNodes {
		next = procs[1-victim]
	} else {
		next = startServe(t, bin, data, flags...)
	}
	c = next.api()
	end := waitCampaign(ctx, t, c, camp.ID, func(x *api.Campaign) bool { return x.Terminal() })
	if end.State != "completed" || end.Counts["timed_out"] != devices || end.Done != devices {
		t.Fatalf("campaign after the kill: %s %v", end.State, end.Counts)
	}
	ops := map[string]int{}
	for cursor := ""; ; {
		page, err := c.CampaignDevices(ctx, camp.ID, nil, cursor, 500)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.Devices {
			if d.Operation == 0 {
				t.Fatalf("device %s ended %s without an operation", d.Device, d.State)
			}
			l, err := c.ListOperations(ctx, d.Device, apiclient.OperationQuery{})
			if err != nil {
				t.Fatal(err)
			}
			ops[d.Device] = len(l.Operations)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if len(ops) != devices {
		t.Fatalf("%d campaign devices, want %d", len(ops), devices)
	}
	for id, n := range ops {
		if n != 1 {
			t.Fatalf("device %s got %d operations, want exactly 1", id, n)
		}
	}
	if n := notified.Load(); n > devices {
		t.Fatalf("%d package 0 sent for %d devices notified at most once each", n, devices)
	}
	t.Logf("killed the lease holder %s; notified %d of %d devices (one recorded just before the kill may not have left)",
		mid.LeaseOwner, notified.Load(), devices)
}
