package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/fleet/content"
	"github.com/omadm/omadm/mo/dlota"
	"github.com/omadm/omadm/storage"
)

type catEnv struct {
	st  *memStore
	cat *content.Catalogue
	url string
}

func newCatEnv(t *testing.T) *catEnv {
	t.Helper()
	st := newMemStore()
	cat, err := content.Open(t.TempDir(), content.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &catEnv{st: st, cat: cat}
	ops, err := fleet.New(fleet.Options{Store: st, Packages: cat.ResolvePackage(func() string { return e.url })})
	if err != nil {
		t.Fatal(err)
	}
	h, err := handler.New(handler.Options{Store: st, Token: "tok", Operations: ops, Content: cat, ServerID: "omadm"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", h)
	mux.Handle("/dl/", handler.Downloads(cat, st, h))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	e.url = ts.URL
	if err := st.CreateDevice(context.Background(), &storage.Device{ID: "dev1", AuthScheme: "md5", Username: "u", Password: "p"}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *catEnv) req(t *testing.T, method, path string, body io.Reader, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	r, _ := http.NewRequest(method, e.url+path, body)
	r.Header.Set("Authorization", "Bearer tok")
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (e *catEnv) upload(t *testing.T, data []byte) api.Package {
	t.Helper()
	resp, b := e.req(t, "POST", "/api/v1/packages?name=fw&version=2.0&type=application/x-fw", bytes.NewReader(data))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	var p api.Package
	json.Unmarshal(b, &p)
	return p
}

func TestPackages_UploadValidatesAndServesWithRange(t *testing.T) {
	e := newCatEnv(t)
	for _, q := range []string{"?version=1", "?name=x", "?name=x&version=1&type=bad"} {
		resp, b := e.req(t, "POST", "/api/v1/packages"+q, strings.NewReader("x"))
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("upload %s: %d %s, want 400", q, resp.StatusCode, b)
		}
	}
	data := bytes.Repeat([]byte("abcdefgh"), 1000)
	p := e.upload(t, data)
	if p.Size != int64(len(data)) || len(p.SHA256) != 64 || !strings.HasSuffix(p.DescriptorURL, "/dl/"+p.ID+".dd") {
		t.Fatalf("package %+v", p)
	}
	// RFC 9110 §14.2: the package is served with Range support.
	resp, b := e.req(t, "GET", "/dl/"+p.ID, nil, "Range", "bytes=100-")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, data[100:]) {
		t.Errorf("Range GET: %d, %d bytes", resp.StatusCode, len(b))
	}
	// The descriptor without a device names the object and no notify URI.
	resp, b = e.req(t, "GET", "/dl/"+p.ID+".dd", nil)
	d, err := dlota.ParseDescriptor(b, e.url)
	if resp.Header.Get("Content-Type") != dlota.DDContentType || err != nil || d.ObjectURI != e.url+"/dl/"+p.ID ||
		d.Size != p.Size || d.SHA256 != p.SHA256 || d.InstallNotifyURI != "" || d.Types[0] != "application/x-fw" {
		t.Errorf("descriptor %+v (%v)", d, err)
	}
	if resp, _ := e.req(t, "GET", "/dl/pkg-0000000000000000", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown package: %d", resp.StatusCode)
	}
}

// OMA-Download-OTA-V1_0 install-notify: the report is a POST of the status
// line to installNotifyURI; the server stores it as an event of the device,
// and refuses a report whose device tag is forged.
func TestPackages_InstallNotifyIsRecordedForTheTaggedDeviceOnly(t *testing.T) {
	e := newCatEnv(t)
	p := e.upload(t, []byte("package"))
	ddURL := e.cat.DescriptorURL(e.url, p.ID, "dev1")
	resp, b := e.req(t, "GET", strings.TrimPrefix(ddURL, e.url), nil)
	d, err := dlota.ParseDescriptor(b, ddURL)
	if resp.StatusCode != 200 || err != nil || d.InstallNotifyURI == "" {
		t.Fatalf("device descriptor: %d %v %+v", resp.StatusCode, err, d)
	}
	notify := strings.TrimPrefix(d.InstallNotifyURI, e.url)
	forged := "/dl/" + p.ID + "/notify?" + url.Values{"device": {"dev2"}, "tag": {"00"}}.Encode()
	for _, tc := range []struct {
		path, body string
		want       int
	}{
		{forged, "900 Success", http.StatusForbidden},
		{notify, "200 OK", http.StatusBadRequest},
		{notify, "900 Success\r\n", http.StatusOK},
	} {
		if resp, b := e.req(t, "POST", tc.path, strings.NewReader(tc.body)); resp.StatusCode != tc.want {
			t.Errorf("POST %s %q: %d %s, want %d", tc.path, tc.body, resp.StatusCode, b, tc.want)
		}
	}
	evs, _ := e.st.ListEvents(context.Background(), "dev1", 0, 10)
	if len(evs) != 1 || evs[0].Kind != api.InstallNotifyKind || evs[0].Data != "900 Success" || evs[0].Type != p.ID {
		t.Errorf("events %+v", evs)
	}
	if resp, _ := e.req(t, "GET", "/dl/"+p.ID+".dd?device=dev2&tag=00", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("descriptor with a forged tag: %d", resp.StatusCode)
	}
}

// FUMO with package=<id>: the server sets PkgURL to the package's
// descriptor bound to the device.
func TestPackages_FUMOPackageFillsTheDescriptorURL(t *testing.T) {
	e := newCatEnv(t)
	p := e.upload(t, []byte("package"))
	resp, b := e.req(t, "POST", "/api/v1/devices/dev1/fumo", strings.NewReader(`{"package":"`+p.ID+`"}`))
	if resp.StatusCode != http.StatusCreated || !bytes.Contains(b, []byte(`/dl/`+p.ID+`.dd?device=dev1\u0026tag=`)) {
		t.Fatalf("FUMO with package: %d %s", resp.StatusCode, b)
	}
	for body, want := range map[string]string{
		`{"package":"pkg-0000000000000000"}`:              "params.package",
		`{"package":"` + p.ID + `","pkg_url":"http://x"}`: "not both",
	} {
		resp, b := e.req(t, "POST", "/api/v1/devices/dev1/fumo", strings.NewReader(body))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %s, want 400 naming %q", body, resp.StatusCode, b, want)
		}
	}
}

func TestReleasePolicy_ValidatesAndGuardsDeletes(t *testing.T) {
	e := newCatEnv(t)
	p := e.upload(t, []byte("package"))
	for body, want := range map[string]int{
		`{"rules":[{"model":"X","package":"pkg-0000000000000000"}]}`:                                http.StatusBadRequest,
		`{"rules":[{"package":"` + p.ID + `"}]}`:                                                    http.StatusBadRequest,
		`{"rules":[{"model":"X","package":"` + p.ID + `"},{"model":"X","package":"` + p.ID + `"}]}`: http.StatusBadRequest,
		`{"rules":[{"model":"X","package":"` + p.ID + `"}]}`:                                        http.StatusOK,
	} {
		if resp, b := e.req(t, "PUT", "/api/v1/release-policy", strings.NewReader(body)); resp.StatusCode != want {
			t.Errorf("PUT %s: %d %s, want %d", body, resp.StatusCode, b, want)
		}
	}
	if resp, _ := e.req(t, "DELETE", "/api/v1/packages/"+p.ID, nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("delete a package the policy names: %d, want 409", resp.StatusCode)
	}
	e.req(t, "PUT", "/api/v1/release-policy", strings.NewReader(`{"rules":[]}`))
	if resp, _ := e.req(t, "DELETE", "/api/v1/packages/"+p.ID, nil); resp.StatusCode != http.StatusNoContent {
		t.Errorf("delete: %d, want 204", resp.StatusCode)
	}
}

func TestBootstrap_APIValidates(t *testing.T) {
	e := newCatEnv(t)
	for body, want := range map[string]int{
		`{"device_ids":[]}`:                                         http.StatusBadRequest,
		`{"device_ids":["nope"]}`:                                   http.StatusNotFound,
		`{"device_ids":["dev1"],"security":"NONE"}`:                 http.StatusBadRequest,
		`{"device_ids":["dev1"],"format":"pdf"}`:                    http.StatusBadRequest,
		`{"device_ids":["dev1"],"push":true}`:                       http.StatusBadRequest,
		`{"device_ids":["dev1"],"security":"NETWPIN"}`:              http.StatusBadRequest, // no IMSI
		`{"device_ids":["dev1"],"security":"USERPIN","pin":"1234"}`: http.StatusOK,
	} {
		if resp, b := e.req(t, "POST", "/api/v1/bootstrap", strings.NewReader(body)); resp.StatusCode != want {
			t.Errorf("POST %s: %d %s, want %d", body, resp.StatusCode, b, want)
		}
	}
}
