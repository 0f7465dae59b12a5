// Package archtest checks that packages import only along the design's arrow:
// cmd → api/web/transport → fleet → server/client/sim → mo → dmtree/auth/notification/storage → syncml → wbxml.
package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/omadm/omadm"

// layer returns the rank of a module package on the arrow (higher may import
// lower) and false for packages outside the rules (tests, internal helpers).
func layer(pkg string) (int, bool) {
	p := strings.TrimPrefix(pkg, module+"/")
	first := strings.SplitN(p, "/", 2)[0]
	switch {
	case first == "wbxml":
		return 0, true
	case first == "syncml":
		return 1, true
	case first == "dmtree", first == "auth", first == "notification":
		return 2, true
	case p == "storage":
		return 2, true
	case strings.HasPrefix(p, "storage/"):
		return 3, true // backends: only cmd (and tests) may pick one
	case first == "mo":
		return 3, true
	case first == "server", first == "client", first == "sim":
		return 4, true
	case first == "fleet":
		return 5, true // operations (and later groups, campaigns) over the server's queue
	case first == "api", first == "web", first == "transport":
		return 6, true
	case first == "cmd":
		return 7, true
	}
	return 0, false
}

// forbidden lists imports the design rules out even when the layers would allow them.
//
// The engines are transport-neutral: server (with its subpackages, such as
// the envelope the bindings share) and client know no URL, HTTP or TLS and
// no binding. Session addressing, transport security and the client's
// address rules come from the binding through server/envelope and the
// client's Transport (transport/dmhttp, transport/obex, transport/wsp).
var forbidden = map[string][]string{
	"server":    {"client", "storage/", "api", "web", "sim", "transport", "net/http", "net/url", "crypto/tls"},
	"client":    {"server", "storage", "api", "web", "transport", "net/http", "net/url", "crypto/tls"},
	"sim":       {"server", "storage"},
	"api":       {"storage/sqlite", "storage/postgres", "storage/storagetest"},
	"web":       {"server", "storage"},
	"mo":        {"server", "client", "storage"},
	"transport": {"storage"},
	"fleet":     {"api", "web", "transport", "client", "sim", "storage/"},
	"cmd/omadm-agent": {"github.com/spf13/cobra", "modernc.org/sqlite", "github.com/jackc/pgx", "database/sql",
		module + "/storage", module + "/server", module + "/api", module + "/web"},
}

// stdRules are the forbidden standard-library packages (with their
// subpackages); every other rule without a dot names a module package.
var stdRules = map[string]bool{"net/http": true, "net/url": true, "crypto/tls": true, "database/sql": true}

func matches(imp, rule string) bool {
	if stdRules[rule] {
		return imp == rule || strings.HasPrefix(imp, rule+"/")
	}
	if strings.Contains(rule, ".") {
		return imp == rule || strings.HasPrefix(imp, rule+"/") || strings.HasPrefix(imp, rule)
	}
	if !strings.HasPrefix(imp, module+"/") {
		return false
	}
	p := strings.TrimPrefix(imp, module+"/")
	if strings.HasSuffix(rule, "/") {
		return strings.HasPrefix(p, rule)
	}
	return p == rule || strings.HasPrefix(p, rule+"/")
}

func TestImportsFollowTheArrow(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		pkg, imps := f[0], f[1:]
		rel := strings.TrimPrefix(pkg, module+"/")
		pl, ok := layer(pkg)
		for _, imp := range imps {
			if ok && strings.HasPrefix(imp, module+"/") && !strings.Contains(imp, "/internal/") {
				il, iok := layer(imp)
				samePkgFamily := strings.HasPrefix(imp, pkg+"/") || strings.HasPrefix(pkg, imp+"/")
				if iok && il > pl && !samePkgFamily {
					t.Errorf("%s (layer %d) imports %s (layer %d): against the arrow", rel, pl, strings.TrimPrefix(imp, module+"/"), il)
				}
			}
			for prefix, rules := range forbidden {
				if rel != prefix && !strings.HasPrefix(rel, prefix+"/") {
					continue
				}
				for _, r := range rules {
					if matches(imp, r) && !strings.HasPrefix(imp, pkg) {
						t.Errorf("%s must not import %s", rel, imp)
					}
				}
			}
		}
	}
}

// TestClientLinksNoHTTP checks the whole dependency set of the client engine:
// it talks through a Transport interface and must stay usable without net/http.
func TestClientLinksNoHTTP(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", module+"/client").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "net/http" || strings.HasPrefix(dep, module+"/storage") || strings.HasPrefix(dep, module+"/server") {
			t.Errorf("client depends on %s", dep)
		}
	}
}

// TestAgentStaysSmall checks the agent binary's full dependency set, not just direct imports.
func TestAgentStaysSmall(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", module+"/cmd/omadm-agent").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == module+"/server/envelope" {
			continue // the transport-neutral exchange types, no engine code
		}
		for _, bad := range forbidden["cmd/omadm-agent"] {
			if matches(dep, bad) {
				t.Errorf("omadm-agent depends on %s", dep)
			}
		}
	}
}
