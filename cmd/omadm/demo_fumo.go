package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/syncml"
)

// demoFirmware is the package the demo's firmware server hands out; the
// simulated device "flashes" it by taking the version it names as its
// ./DevDetail/FwV.
const demoFirmwareVersion = "2.0.0-demo"

// firmwareUpdate gives dev a FUMO node, serves a firmware package on
// 127.0.0.1 and runs an update the way an operator does (omadm ctl fumo):
// PkgURL, Exec DownloadAndUpdate with a correlator, then the device's 1226.
// The package server and the device's FUMO node stay up until the demo
// stops (d.closers), so the operator can try `omadm ctl fumo` too.
func (d *demo) firmwareUpdate(ctx context.Context, dev *sim.Device) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	d.firmwareURL = "http://" + ln.Addr().String() + "/firmware.bin"
	image := []byte("ACME-FW " + demoFirmwareVersion + "\n" + strings.Repeat("\x00firmware", 4096))
	fs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/firmware.bin" {
			http.NotFound(w, r)
			return
		}
		w.Write(image)
	}), ReadHeaderTimeout: 5 * time.Second}
	go fs.Serve(ln)
	d.closers = append(d.closers, func() { fs.Close() })

	tree := dev.Tree()
	obj, err := fumo.Install(tree, "./FwUpdate/Default", fumo.Config{
		Dir:     filepath.Join(d.dataDir, "fumo-"+strings.NewReplacer(":", "_", "/", "_").Replace(dev.ID())),
		Servers: []string{"omadm"},
		// Like omadm-agent: report in a session of the device's own at once.
		Report: func(a *syncml.Alert) {
			dev.Client().QueueAlert(a)
			go d.fleet.Session(ctx, dev)
		},
		Install: func(_ context.Context, p string) fumo.Result {
			b, err := os.ReadFile(p)
			if err != nil || !bytes.HasPrefix(b, []byte("ACME-FW ")) {
				return fumo.ResultCorruptedPackage
			}
			ver, _, _ := bytes.Cut(b[len("ACME-FW "):], []byte("\n"))
			if err := tree.Replace("", "./DevDetail/FwV", dmtree.Value{Format: "chr", Data: ver}); err != nil {
				return fumo.ResultUpdateFailed
			}
			return fumo.ResultSuccessful
		},
	})
	if err != nil {
		return err
	}
	d.closers = append(d.closers, obj.Close)
	before := dev.Value("./DevDetail/FwV")
	fmt.Fprintf(d.out, "\n[%d] Firmware update (FUMO): PkgURL and Exec DownloadAndUpdate as one Sequence (accepted now, reported later)\n", d.next())
	j, err := d.api.FUMO(ctx, dev.ID(), api.FUMORequest{Node: "./FwUpdate/Default", PkgURL: d.firmwareURL, Correlator: "fw-1", Notify: true})
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, d.wait)
	defer cancel()
	if j, err = d.api.WaitJob(wctx, j.ID); err != nil {
		return fmt.Errorf("firmware update job %d: %w", j.ID, err)
	}
	printJob(d.out, j, "    ")
	if n := len(j.ChildStatuses); n == 0 || j.ChildStatuses[n-1] != int(syncml.StatusAccepted) {
		return fmt.Errorf("the FUMO Exec was not accepted: job %s %d %v (%s)", j.State, j.Status, j.ChildStatuses, j.Error)
	}
	obj.Wait() // the device downloads and installs after the session
	ev, err := d.genericAlert(ctx, dev, "fw-1")
	if err != nil {
		return err
	}
	o, _, err := fumo.ParseAlert(ev.Type, ev.Data)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "\n[%d] Firmware update reported by the device\n", d.next())
	fmt.Fprintf(d.out, "    Alert 1226 type %s correlator %s: result %d (%s)\n", ev.Type, ev.Correlator, o.Result, o.Result)
	fmt.Fprintf(d.out, "    device tree: ./DevDetail/FwV was %s, now %s; ./FwUpdate/Default/State = %d (%s)\n",
		before, dev.Value("./DevDetail/FwV"), obj.State(), obj.State())
	if !o.Result.Successful() {
		return fmt.Errorf("the firmware update failed: %d %s", o.Result, o.Result)
	}
	return nil
}
