package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/mo/lawmo"
	"github.com/omadm/omadm/syncml"
)

// The standard objects every simulated device carries, so that the server's
// operations and campaigns run against it: FUMO at FUMOURI and LAWMO at
// LAWMOURI, with the device-side plug-ins of mo/fumo and mo/lawmo.
const (
	FUMOURI  = "./FwUpdate/Default"
	LAWMOURI = "./LAWMO"
	// FailMarker in a package URL makes the simulated download fail (the
	// report carries FUMO result 502, download failed on the network), so
	// tests and benchmarks can script failures.
	FailMarker = "sim-fail"
)

// WipeList is what a simulated device's LAWMO Wipe can erase besides the
// user data (its AvailableWipeList).
var WipeList = []string{"UserData", "SDCard"}

// mos is a device's installed objects and what they did.
type mos struct {
	mu      sync.Mutex
	lock    lawmo.State
	wipes   int
	resets  int
	updates int
}

// simFetch is the simulated download: no network, the package is the URL's
// text; a URL with FailMarker fails.
func simFetch(_ context.Context, url string, w io.Writer) error {
	if strings.Contains(url, FailMarker) {
		return errors.New("sim: scripted download failure")
	}
	_, err := io.WriteString(w, "SIM-FW "+url+"\n")
	return err
}

// reporter queues an object's report (a 1226 generic alert) on l's engine
// and hands the device to DeviceOptions.OnReport (nil: it goes out in the
// device's next session). Every object of the device reports through it.
func (d *Device) reporter(l *live) func(*syncml.Alert) {
	return func(a *syncml.Alert) {
		l.queue(a)
		if d.p.o.OnReport != nil {
			d.p.o.OnReport(d)
		}
	}
}

// queue queues a on the engine, or keeps it for the engine being built.
func (l *live) queue(a *syncml.Alert) {
	l.qmu.Lock()
	c := l.client
	if c == nil {
		l.early = append(l.early, a)
	}
	l.qmu.Unlock()
	if c != nil {
		c.QueueAlert(a)
	}
}

// installMOs installs FUMO and LAWMO on l's tree; their reports go to queue.
func (d *Device) installMOs(l *live, queue func(*syncml.Alert)) error {
	if err := d.installLAWMO(l, queue); err != nil {
		return err
	}
	if d.stateDir == "" {
		return nil // FUMO keeps its state in a directory
	}
	fetch := d.p.o.Fetch
	if fetch == nil {
		fetch = simFetch
	}
	f, err := fumo.Install(l.tree, FUMOURI, fumo.Config{
		Dir: filepath.Join(d.stateDir, "fumo"), Report: queue, Fetch: fetch, Servers: []string{d.p.o.ServerID},
		Install: func(context.Context, string) fumo.Result {
			d.mos.mu.Lock()
			defer d.mos.mu.Unlock()
			d.mos.updates++
			return fumo.ResultSuccessful
		},
		Resume: func(context.Context, string) fumo.Result { return fumo.ResultSuccessful },
	})
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	l.fumo = f
	return nil
}

func (d *Device) installLAWMO(l *live, queue func(*syncml.Alert)) error {
	obj, err := lawmo.Install(l.tree, LAWMOURI, lawmo.Config{
		Report: queue, Servers: []string{d.p.o.ServerID}, WipeList: WipeList,
		Lock: func(_ context.Context, s lawmo.State, _ bool) error {
			d.mos.mu.Lock()
			defer d.mos.mu.Unlock()
			d.mos.lock = s
			return nil
		},
		Wipe: func(context.Context, []string, bool) error {
			d.mos.mu.Lock()
			defer d.mos.mu.Unlock()
			d.mos.wipes++
			return nil
		},
		FactoryReset: func(context.Context, bool) error {
			d.mos.mu.Lock()
			defer d.mos.mu.Unlock()
			d.mos.resets++
			return nil
		},
	})
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	l.lawmo = obj
	return nil
}

// Updates counts the firmware packages FUMO installed.
func (d *Device) Updates() int {
	d.mos.mu.Lock()
	defer d.mos.mu.Unlock()
	return d.mos.updates
}

// LockState is the device's LAWMO lock state.
func (d *Device) LockState() lawmo.State {
	d.mos.mu.Lock()
	defer d.mos.mu.Unlock()
	if d.mos.lock == 0 {
		return lawmo.StateUnlocked
	}
	return d.mos.lock
}

// Wipes counts LAWMO wipes.
func (d *Device) Wipes() int {
	d.mos.mu.Lock()
	defer d.mos.mu.Unlock()
	return d.mos.wipes
}

// FUMO is the device's firmware update object (its State, Wait); the
// device stays built from now on.
func (d *Device) FUMO() *fumo.Object {
	if l := d.pin(); l != nil {
		return l.fumo
	}
	return nil
}

// LAWMO is the device's lock and wipe object; the device stays built from
// now on.
func (d *Device) LAWMO() *lawmo.Object {
	if l := d.pin(); l != nil {
		return l.lawmo
	}
	return nil
}

// Close stops the device's objects' background work (a download or an
// update in progress resumes when the device is built again on StateDir).
func (d *Device) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.l != nil {
		d.l.close()
	}
}

// stateDirName is a device's directory name under a fleet's state directory.
func stateDirName(id string) string {
	return path.Clean(strings.NewReplacer(":", "_", "/", "_", "\\", "_", "..", "_").Replace(id))
}
