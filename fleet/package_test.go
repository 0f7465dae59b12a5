package fleet_test

import (
	"context"
	"errors"
	"testing"

	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
)

// A catalogue package ("package" parameter) fills the parameter the
// operation's descriptor marks as its package URL: FUMO's pkg_url
// (OMA-TS-DM-FUMO-V1_0: PkgURL may name a download descriptor) and SCOMO's
// url, written to Download/<x>/PkgURL (OMA-TS-DM-SCOMO-V1_0 §5: PkgURL
// names the package or its descriptor). An operation without such a
// parameter refuses "package".
func TestCreate_CataloguePackageFillsTheOperationsPackageURL(t *testing.T) {
	st := memstore.New()
	if err := st.CreateDevice(bg, &storage.Device{ID: "d1", AuthScheme: "md5", Username: "u", Password: "p"}); err != nil {
		t.Fatal(err)
	}
	m, err := fleet.New(fleet.Options{Store: st, Packages: func(_ context.Context, id, dev string) (string, error) {
		if id != "p1" {
			return "", errors.New("no such package")
		}
		return "http://srv/dl/" + id + "/dd?device=" + dev, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	const ddURL = "http://srv/dl/p1/dd?device=d1"
	for _, tc := range []struct {
		name  string
		r     fleet.Request
		param string // where the URL goes
		field string // or the refused field
	}{
		{"scomo install", fleet.Request{MO: "scomo", Operation: "install", Params: map[string]any{"id": "app1", "package": "p1"}}, "url", ""},
		{"scomo download", fleet.Request{MO: "scomo", Operation: "download", Params: map[string]any{"id": "app2", "package": "p1"}}, "url", ""},
		{"fumo default operation", fleet.Request{MO: "fumo", Params: map[string]any{"package": "p1"}}, "pkg_url", ""},
		{"scomo with url too", fleet.Request{MO: "scomo", Operation: "install", Params: map[string]any{"id": "a", "package": "p1", "url": "http://x"}}, "", "params.package"},
		{"scomo unknown package", fleet.Request{MO: "scomo", Operation: "install", Params: map[string]any{"id": "a", "package": "nope"}}, "", "params.package"},
		{"scomo empty package", fleet.Request{MO: "scomo", Operation: "install", Params: map[string]any{"id": "a", "package": ""}}, "", "params.package"},
		{"scomo remove takes no package", fleet.Request{MO: "scomo", Operation: "remove", Params: map[string]any{"id": "a", "package": "p1"}}, "", "params.package"},
		{"fumo update takes no package", fleet.Request{MO: "fumo", Operation: "update", Params: map[string]any{"package": "p1"}}, "", "params.package"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			r.DeviceID = "d1"
			op, _, err := m.Create(bg, &r)
			if tc.field != "" {
				var fe *fleet.FieldError
				if !errors.As(err, &fe) || fe.Field != tc.field {
					t.Fatalf("error %v, want a FieldError on %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if op.Params[tc.param] != ddURL || op.Params["package"] != "" {
				t.Errorf("params %v, want %s=%s and no package", op.Params, tc.param, ddURL)
			}
		})
	}
}
