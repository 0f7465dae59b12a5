package handler_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
	"github.com/omadm/omadm/storage/sqlite"
)

// importStores are the stores the import tests run against: the SQLite
// store has its own multi-row write path, memstore the reference one.
func importStores(t *testing.T) map[string]func(t *testing.T) storage.Store {
	return map[string]func(t *testing.T) storage.Store{
		"memstore": func(t *testing.T) storage.Store { return memstore.New() },
		"sqlite": func(t *testing.T) storage.Store {
			dir := t.TempDir()
			st, err := sqlite.OpenWith(filepath.Join(dir, "import.db"), &sqlite.Options{SecretKeyFile: filepath.Join(dir, "key")})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
	}
}

func postImport(t *testing.T, st storage.Store, body string) api.ImportResult {
	t.Helper()
	h, err := handler.New(handler.Options{Store: st, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h) // 127.0.0.1:0
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/devices/import", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("import: %d %s", resp.StatusCode, b)
	}
	return decodeInto[api.ImportResult](t, b)
}

func TestImport_BatchBoundariesKeepEachRecordsResult(t *testing.T) {
	// Records are stored in units of a few valid records: a repeated ID in
	// the same unit and across two units, a bad record in the middle of a
	// unit (it takes no place in the unit) and a last unit that is exactly
	// full each get the result they would get one by one.
	dev := func(id, env string) string {
		return fmt.Sprintf(`{"id":%q,"username":"u-%s","password":"p","server_password":"sp-%s","labels":{"env":%q,"ring":"1"}}`, id, id, id, env)
	}
	body := strings.Join([]string{
		dev("a", "prod"),            // 1  unit 1
		dev("b", "prod"),            // 2  unit 1
		`{"id":"x",`,                // 3  not JSON
		dev("a", "dev"),             // 4  unit 1: a given twice in one unit
		dev("c", "prod"),            // 5  unit 2
		dev("b", "dev"),             // 6  unit 2: b stored by unit 1
		`{"id":"y","password":"p"}`, // 7  no username
		dev("d", "dev"),             // 8  unit 2
		dev("e", "prod"),            // 9  unit 3
		dev("f", "prod"),            // 10 unit 3
		dev("g", "dev"),             // 11 unit 3, exactly full at the end
	}, "\n") + "\n"
	want := []api.ImportError{
		{Line: 3, Record: 3, Error: "not a device record"},
		{Line: 4, Record: 4, ID: "a", Error: "already exists"},
		{Line: 6, Record: 6, ID: "b", Error: "already exists"},
		{Line: 7, Record: 7, ID: "y", Error: "username"},
	}
	for name, open := range importStores(t) {
		for _, per := range []int{1, 3, 16384} {
			t.Run(fmt.Sprintf("%s/unit-%d", name, per), func(t *testing.T) {
				handler.SetImportBatch(t, per)
				st := open(t)
				r := postImport(t, st, body)
				if r.Imported != 7 || r.Failed != len(want) || len(r.Errors) != len(want) {
					t.Fatalf("result %+v, want 7 imported and %d errors", r, len(want))
				}
				for i, w := range want {
					got := r.Errors[i]
					if got.Line != w.Line || got.Record != w.Record || got.ID != w.ID || !strings.Contains(got.Error, w.Error) {
						t.Errorf("error %d: %+v, want %+v", i, got, w)
					}
				}
				ctx := context.Background()
				// The first record of a repeated ID is the one stored,
				// with its credentials sealed and its labels indexed.
				for id, env := range map[string]string{"a": "prod", "b": "prod", "d": "dev", "g": "dev"} {
					d, err := st.GetDevice(ctx, id)
					if err != nil {
						t.Fatalf("device %s: %v", id, err)
					}
					if d.Username != "u-"+id || d.ServerPassword != "sp-"+id || d.PasswordHash == "" || d.Labels["env"] != env {
						t.Errorf("device %s = %+v", id, d)
					}
				}
				for env, n := range map[string]int{"prod": 5, "dev": 2} {
					ds, _, err := st.QueryDevices(ctx, storage.DeviceQuery{Labels: map[string]string{"env": env, "ring": "1"}})
					if err != nil || len(ds) != n {
						t.Errorf("devices with env=%s: %d, %v; want %d", env, len(ds), err, n)
					}
				}
			})
		}
	}
}

// failingImports fails the import of its second unit, through
// ImportDevices or, when prepared, StoreImport.
type failingImports struct {
	*memstore.Store
	calls int
}

var errUnitFailed = errors.New("disk on fire")

func (f *failingImports) fail() bool { f.calls++; return f.calls == 2 }

func (f *failingImports) ImportDevices(ctx context.Context, ds []*storage.Device) ([]error, error) {
	if f.fail() {
		return nil, errUnitFailed
	}
	return f.Store.ImportDevices(ctx, ds)
}

func (f *failingImports) StoreImport(ctx context.Context, p storage.PreparedImport) ([]error, error) {
	if f.fail() {
		return nil, errUnitFailed
	}
	return f.Store.StoreImport(ctx, p)
}

// plainFailingImports is failingImports without the ImportPreparer
// ability: the handler stores its units with ImportDevices.
type plainFailingImports struct {
	storage.Store
	f *failingImports
}

func (p plainFailingImports) ImportDevices(ctx context.Context, ds []*storage.Device) ([]error, error) {
	return p.f.ImportDevices(ctx, ds)
}

func TestImport_StorageFailureStoresNoLaterUnit(t *testing.T) {
	// Units are read, prepared and stored in a pipeline; when one fails
	// the import stops there: the units after it (already read, perhaps
	// prepared) are not stored, and the message counts only the devices of
	// the units before it.
	for _, prepared := range []bool{true, false} {
		t.Run(fmt.Sprintf("prepared=%v", prepared), func(t *testing.T) {
			handler.SetImportBatch(t, 2)
			f := &failingImports{Store: memstore.New()}
			var st storage.Store = f
			if !prepared {
				st = plainFailingImports{Store: f, f: f}
			}
			if _, ok := st.(storage.ImportPreparer); ok != prepared {
				t.Fatalf("store is an ImportPreparer: %v", ok)
			}
			var body strings.Builder
			for i := range 10 {
				fmt.Fprintf(&body, `{"id":"d%d","username":"u","password":"p","server_password":"s"}`+"\n", i)
			}
			h, err := handler.New(handler.Options{Store: st, Token: testToken})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h) // 127.0.0.1:0
			defer srv.Close()
			req, _ := http.NewRequest("POST", srv.URL+"/api/v1/devices/import", strings.NewReader(body.String()))
			req.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(b), "after 2 devices were stored") {
				t.Fatalf("import: %d %s; want 500 saying 2 devices were stored", resp.StatusCode, b)
			}
			if n, err := f.Store.CountDevices(context.Background()); err != nil || n != 2 {
				t.Errorf("devices stored: %d, %v; want the first unit's 2", n, err)
			}
		})
	}
}
