package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/sim"
)

// demoComponentVersion is the version the demo's component package names.
const demoComponentVersion = "1.0.0-demo"

// demoComponent is a small tar.gz component: a VERSION file and a script.
func demoComponent() []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []struct{ name, body string }{
		{"VERSION", demoComponentVersion + "\n"},
		{"bin/hello", "#!/bin/sh\necho hello from omadm\n"},
	} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o755, Size: int64(len(f.body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(f.body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// componentInstall serves a component package on 127.0.0.1 and installs it
// on dev over SCOMO the way an operator does (omadm ctl scomo install): a
// server operation whose job Adds ./SCOMO/Download/hello with its PkgURL
// and Execs DownloadInstall; the device reports with a 1226
// OperationComplete alert; the server then reads the inventory back.
func (d *demo) componentInstall(ctx context.Context, dev *sim.Device) error {
	obj := dev.SCOMO()
	if obj == nil {
		return fmt.Errorf("device %s has no SCOMO object", dev.ID())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	d.componentURL = "http://" + ln.Addr().String() + "/hello.tgz"
	pkg := demoComponent()
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/hello.tgz" {
			http.NotFound(w, r)
			return
		}
		w.Write(pkg)
	}), ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	d.closers = append(d.closers, func() { hs.Close() })

	fmt.Fprintf(d.out, "\n[%d] Software component install (SCOMO): Add %s/Download/hello with PkgID and PkgURL, Exec DownloadInstall, as one Sequence\n", d.next(), sim.SCOMORoot)
	op, err := d.api.CreateOperation(ctx, dev.ID(), api.OperationRequest{MO: "scomo", Operation: "install", Correlator: "sw-1", Notify: true,
		Params: map[string]any{"id": "hello", "url": d.componentURL, "name": "Hello"}})
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, d.wait)
	defer cancel()
	j, err := d.api.WaitJob(wctx, op.Job)
	if err != nil {
		return fmt.Errorf("component install job %d: %w", op.Job, err)
	}
	printJob(d.out, j, "    ")
	obj.Wait() // the device downloads and installs after the session
	go d.fleet.Session(ctx, dev)
	done, err := d.api.WaitOperation(wctx, op.ID, dev.ID(), 200*time.Millisecond)
	if err != nil {
		return fmt.Errorf("component install operation %d: %w", op.ID, err)
	}
	fmt.Fprintf(d.out, "\n[%d] Software component install reported by the device\n", d.next())
	fmt.Fprintf(d.out, "    Alert 1226 type urn:oma:at:scomo:1.0:OperationComplete correlator %s: result %d (%s); operation %d %s\n",
		done.Correlator, done.Result, done.Meaning, done.ID, done.State)
	if done.State != "succeeded" {
		return fmt.Errorf("the component install %s: %d %s %s", done.State, done.Result, done.Meaning, done.Error)
	}

	fmt.Fprintf(d.out, "\n[%d] Read the component inventory back (Get %s/Inventory?list=StructData)\n", d.next(), sim.SCOMORoot)
	ij, err := d.api.ReadSCOMOInventory(ctx, dev.ID(), api.SCOMOInventoryRequest{Notify: true})
	if err != nil {
		return err
	}
	if ij, err = d.api.WaitJob(wctx, ij.ID); err != nil || ij.State != "done" {
		return fmt.Errorf("inventory read job %d: %v", ij.ID, err)
	}
	inv, err := d.api.SCOMOInventory(ctx, dev.ID(), "")
	if err != nil {
		return err
	}
	for _, c := range inv.Deployed {
		fmt.Fprintf(d.out, "    deployed: %s %q version %s, %s\n", c.ID, c.Name, c.Version, c.State)
	}
	if len(inv.Deployed) != 1 || inv.Deployed[0].Version != demoComponentVersion {
		return fmt.Errorf("the inventory shows %+v, want hello %s", inv.Deployed, demoComponentVersion)
	}
	return nil
}
