package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/omadm/omadm/web"
)

func TestConsole_ServesItsFilesWithAStrictPolicy(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("", web.Handler("/ui/")))
	defer srv.Close()
	for path, ctype := range map[string]string{"/ui/": "text/html", "/ui/app.js": "javascript", "/ui/style.css": "text/css"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), ctype) || len(body) == 0 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Fatalf("%s: CSP %q", path, csp)
		}
	}
}

func TestConsole_TalksOnlyToTheAPIAndNeverInjectsHTML(t *testing.T) {
	srv := httptest.NewServer(web.Handler("/ui/"))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/ui/app.js")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(js), "innerHTML") || strings.Contains(string(js), "outerHTML") {
		t.Fatal("console builds HTML from strings")
	}
	for _, m := range regexp.MustCompile(`fetch\("([^"]*)"`).FindAllStringSubmatch(string(js), -1) {
		if !strings.HasPrefix(m[1], "/api/v1") {
			t.Errorf("console fetches %q outside /api/v1", m[1])
		}
	}
}
