package moframe_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo"
	"github.com/omadm/omadm/mo/diagmon"
	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/mo/lawmo"
	"github.com/omadm/omadm/mo/moframe"
	"github.com/omadm/omadm/mo/scomo"
	"github.com/omadm/omadm/syncml"
)

// Every object's server descriptor executes nodes its DDF lets a server
// Exec and writes parameters to leaves its DDF lets a server Replace, in
// the DDF's format (OMA-TS-DM_TND-V1_2 §7: AccessType and DFFormat decide
// what a command may do to a node).
func TestModel_DescriptorsAgreeWithTheirDDF(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model *moframe.Model
		desc  *mo.Descriptor
		moid  string
	}{
		{"fumo", fumo.Model, fumo.Descriptor, fumo.MOID},
		{"lawmo", lawmo.Model, lawmo.Descriptor, lawmo.MOID},
		{"scomo", scomo.Model, scomo.Descriptor, scomo.MOID},
		{"diagmon", diagmon.Model, diagmon.Descriptor, diagmon.MOID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.model.MOID() != tc.moid {
				t.Errorf("DDF MO id %s, package MOID %s", tc.model.MOID(), tc.moid)
			}
			if err := tc.model.CheckDescriptor(tc.desc); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestModel_CheckDescriptorNamesEachDisagreement(t *testing.T) {
	d := &mo.Descriptor{Name: "fumo", MOID: fumo.MOID, Operations: []mo.Operation{
		{Name: "State"}, // not executable
		{Name: "Nowhere"},
		{Name: "Download", Params: []mo.Param{
			{Name: "url", Node: "Download/PkgURL", Format: "int"},
			{Name: "state", Node: "State", Format: "int"},
		}},
	}}
	err := fumo.Model.CheckDescriptor(d)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"executes State, whose AccessType is Get", "Nowhere, not in the DDF", "url is int, node Download/PkgURL is chr", "writes State, whose AccessType is Get"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestModel_InstallCreatesRequiredAndListedOptionalNodes(t *testing.T) {
	tree := dmtree.New(nil)
	uri, err := fumo.Model.Install(tree, "./FwUpdate/Pkg1", []string{"srv"}, "PkgName", "Download")
	if err != nil {
		t.Fatal(err)
	}
	if uri != "./FwUpdate/Pkg1" {
		t.Errorf("uri %s", uri)
	}
	get := func(u string) (string, error) {
		rs, err := tree.Get("srv", u)
		if err != nil {
			return "", err
		}
		return string(rs[0].Data), nil
	}
	for u, want := range map[string]string{
		uri + "/State":             "10", // required, with its DefaultValue
		uri + "/PkgName":           "",   // optional, listed
		uri + "/Download/PkgURL":   "",   // required below a listed node
		uri + "?prop=Type":         fumo.MOID,
		uri + "/State?prop=Format": "int",
	} {
		if got, err := get(u); err != nil || got != want {
			t.Errorf("Get %s = %q, %v; want %q", u, got, err, want)
		}
	}
	if _, err := get(uri + "/Update"); syncml.StatusOf(err) != syncml.StatusNotFound {
		t.Errorf("optional node not listed: %v, want 404", err)
	}
	if _, err := fumo.Model.Place(tree, "./FwUpdate/Pkg1", "NoSuchNode"); err == nil {
		t.Error("Place of a node the DDF lacks: no error")
	}
}

// collector gathers the alerts a Runner reports.
type collector struct {
	mu     sync.Mutex
	alerts []*syncml.Alert
}

func (c *collector) report(a *syncml.Alert) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.alerts = append(c.alerts, a)
}

func (c *collector) all() []*syncml.Alert {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*syncml.Alert(nil), c.alerts...)
}

// An operation accepted with 202 is reported once in a 1226 alert carrying
// the Exec's correlator (OMA-TS-DM_Protocol-V1_2 §8.7), even when the agent
// stops during it: the saved record resumes it at the next start.
func TestRunner_OperationCutShortIsResumedAndReportedOnceWithItsCorrelator(t *testing.T) {
	dir := t.TempDir()
	var c collector
	cfg := moframe.RunnerConfig{Name: "test", Dir: dir, Report: c.report, Initial: moframe.Record{State: 10}}
	r, err := moframe.NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	err = r.Begin(nil, moframe.Record{State: 30, Op: "Install", Correlator: "c-1", Target: "./S/x"}, func(ctx context.Context) *moframe.Outcome {
		close(started)
		<-ctx.Done()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	if err := r.Begin(nil, moframe.Record{}, func(context.Context) *moframe.Outcome { return nil }); syncml.StatusOf(err) != syncml.StatusCommandNotAllowed {
		t.Errorf("second Begin while running: %v, want 405", err)
	}
	r.Close()
	if n := len(c.all()); n != 0 {
		t.Fatalf("%d alerts from a stopped operation", n)
	}

	r2, err := moframe.NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := r2.Record(); got.State != 30 || got.Op != "Install" || got.Correlator != "c-1" || got.Target != "./S/x" {
		t.Fatalf("record after restart %+v", got)
	}
	r2.Resume(func(rec moframe.Record) (moframe.Record, moframe.Work) {
		return rec, func(context.Context) *moframe.Outcome {
			return &moframe.Outcome{Final: moframe.Record{State: 10}, Report: &moframe.Report{Type: "t", Source: rec.Target + "/Op", Target: rec.Target, Format: "xml", Data: "<x/>", Failed: true}}
		}
	})
	r2.Wait()
	as := c.all()
	if len(as) != 1 {
		t.Fatalf("%d alerts, want 1", len(as))
	}
	a, it := as[0], as[0].Items[0]
	if a.Data != syncml.AlertGeneric || a.Correlator != "c-1" || it.Source.LocURI != "./S/x/Op" || it.Target.LocURI != "./S/x" ||
		it.Meta.Type != "t" || it.Meta.Format != "xml" || it.Meta.Mark != "critical" || it.Data.String() != "<x/>" {
		t.Errorf("alert %+v item %+v meta %+v", a, it, it.Meta)
	}
	if got := r2.Record(); got.State != 10 || got.Op != "" || got.Correlator != "" {
		t.Errorf("record after the report %+v", got)
	}
	r3, err := moframe.NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := r3.Record(); got.State != 10 || got.Op != "" {
		t.Errorf("stored record after the report %+v", got)
	}
}

func TestRunner_DamagedOrInvalidStateFileIsAnErrorNamingIt(t *testing.T) {
	for _, tc := range []struct{ name, content string }{{"not json", "{"}, {"invalid", `{"state":33}`}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, moframe.StateFile), []byte(tc.content), 0o600)
			_, err := moframe.NewRunner(moframe.RunnerConfig{Name: "x", Dir: dir, Report: func(*syncml.Alert) {},
				Valid: func(r moframe.Record) bool { return r.State == 10 }})
			if err == nil || !strings.Contains(err.Error(), moframe.StateFile) {
				t.Errorf("err %v", err)
			}
		})
	}
}

func TestRunner_ChangeRefusedWhileRunningAndUndoneOnError(t *testing.T) {
	var c collector
	r, _ := moframe.NewRunner(moframe.RunnerConfig{Name: "x", Report: c.report, Initial: moframe.Record{State: 10}})
	if err := r.Change(func(rec *moframe.Record) error { rec.State = 50; return errors.New("no") }); err == nil || r.Record().State != 10 {
		t.Errorf("failed change: %v, state %d", err, r.Record().State)
	}
	release := make(chan struct{})
	r.Begin(nil, moframe.Record{State: 30}, func(context.Context) *moframe.Outcome {
		<-release
		return &moframe.Outcome{Final: moframe.Record{State: 40}}
	})
	if err := r.Change(func(rec *moframe.Record) error { return nil }); syncml.StatusOf(err) != syncml.StatusCommandNotAllowed {
		t.Errorf("Change while running: %v, want 405", err)
	}
	close(release)
	r.Wait()
	if r.Record().State != 40 || len(c.all()) != 0 {
		t.Errorf("state %d, %d alerts (none wanted: no Report)", r.Record().State, len(c.all()))
	}
}

func TestCodeOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 1200},
		{"chosen", &moframe.ResultError{Code: 1401, Err: errors.New("cancelled")}, 1401},
		{"wrapped", errors.Join(errors.New("x"), &moframe.ResultError{Code: 1406}), 1406},
		{"other", errors.New("boom"), 1405},
	} {
		if got := moframe.CodeOf(tc.err, 1200, 1405); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// The ACL an object's servers get is the union of its DDF's AccessTypes.
func TestModel_CommandsAreTheUnionOfTheDDFAccessTypes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model *moframe.Model
		want  string
	}{
		{"fumo", fumo.Model, "Exec Get Replace"},
		{"lawmo", lawmo.Model, "Exec Get Replace"},
		{"scomo", scomo.Model, "Add Delete Exec Get Replace"},
	} {
		var got []string
		for _, c := range tc.model.Commands() {
			got = append(got, c.String())
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, got, tc.want)
		}
	}
}
