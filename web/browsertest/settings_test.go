package browsertest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// apiStatus is the status of GET /api/v1/devices with token.
func apiStatus(t *testing.T, token string) int {
	t.Helper()
	req, err := http.NewRequest("GET", demo.url+"/api/v1/devices?limit=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestConsole_SettingsCreatesATokenOnceAndRevokesItFromAKeyboardDialog(t *testing.T) {
	ctx := env(t)
	login(t, ctx)
	name := "browser-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	row := `omadm-settings table.tokens button[data-token=` + js(name) + `]`
	do(t, ctx, "create a token",
		chromedp.Navigate(demo.url+"/ui/#/settings"),
		visible(`omadm-settings input[name=token-name]`),
		chromedp.SendKeys(chromedp.CSS(`omadm-settings input[name=token-name]`), name),
		chromedp.Click(chromedp.CSS(`omadm-settings form[aria-label="Create an API token"] button[type=submit]`)),
		until(`document.querySelector("omadm-settings .token-created input")?.value.startsWith("omadm_")`),
		visible(row))
	tok, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`omadm-settings .token-created input`)))
	if err != nil {
		t.Fatal(err)
	}
	if st := apiStatus(t, tok); st != http.StatusOK {
		t.Fatalf("the new token: HTTP %d", st)
	}
	// The senders the server has are listed; a test package 0 goes out.
	do(t, ctx, "senders and a test notification",
		until(`[...document.querySelectorAll("omadm-settings table.senders td")].some(td => td.textContent === "udp:")`),
		chromedp.SendKeys(chromedp.CSS(`omadm-settings input[name=test-device]`), demo.device),
		chromedp.Click(chromedp.CSS(`omadm-settings form[aria-label="Send a test notification"] button[type=submit]`)),
		until(`document.querySelector("omadm-settings .test-result").textContent.startsWith("Package 0 sent to `+demo.device+`")`))
	shot(t, ctx, "settings.png")
	// Escape closes the dialog and gives the focus back; Tab and Enter revoke.
	do(t, ctx, "escape cancels",
		chromedp.Click(chromedp.CSS(row)),
		until(`document.querySelector("omadm-settings dialog").open && document.activeElement?.textContent === "Cancel"`),
		chromedp.KeyEvent(kb.Escape),
		until(`!document.querySelector("omadm-settings dialog").open && document.activeElement?.dataset.token === `+js(name)))
	if st := apiStatus(t, tok); st != http.StatusOK {
		t.Fatalf("after a cancelled revoke: HTTP %d", st)
	}
	do(t, ctx, "enter revokes",
		chromedp.KeyEvent(kb.Enter), // the focused Revoke button opens the dialog again
		until(`document.querySelector("omadm-settings dialog").open && document.activeElement?.textContent === "Cancel"`),
		chromedp.KeyEvent(kb.Tab),
		until(`document.activeElement?.textContent === "Revoke"`),
		chromedp.KeyEvent(kb.Enter),
		until(`!document.querySelector("omadm-settings dialog").open`),
		until(`document.querySelector(`+js(row)+`) === null`))
	if st := apiStatus(t, tok); st != http.StatusUnauthorized {
		t.Fatalf("the revoked token: HTTP %d, want 401", st)
	}
}

// axNode is a node of the browser's accessibility tree, as a screen reader
// sees it.
type axNode struct{ role, name string }

func axTree(t *testing.T, ctx context.Context) []axNode {
	t.Helper()
	res, err := chromedp.Call(ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		t.Fatalf("accessibility tree: %v", err)
	}
	str := func(v *accessibility.Value) string {
		if v == nil || len(v.Value) == 0 {
			return ""
		}
		var s string
		if json.Unmarshal(v.Value, &s) != nil {
			return ""
		}
		return s
	}
	var out []axNode
	for _, n := range res.Nodes {
		if !n.Ignored {
			out = append(out, axNode{role: str(n.Role), name: strings.TrimSpace(str(n.Name))})
		}
	}
	return out
}

func TestConsole_AccessibilityTreeHasLandmarksAndNamesEveryControl(t *testing.T) {
	ctx := env(t)
	login(t, ctx)
	views := []struct {
		name, hash, ready string
		want              []axNode // roles (and names, when set) that must be present
	}{
		{"fleet", "#/fleet", `omadm-fleet tr[data-device]`,
			[]axNode{{"navigation", "Main"}, {"main", ""}, {"heading", "Fleet"}, {"table", ""}, {"link", "Skip to content"}}},
		{"device", "#/devices/" + demo.device + "/overview", `#tab-overview`,
			[]axNode{{"tablist", ""}, {"tab", "Overview"}, {"tabpanel", ""}, {"heading", demo.device}}},
		{"settings", "#/settings", `omadm-settings table.senders`,
			[]axNode{{"heading", "API tokens"}, {"heading", "Notification senders"}, {"textbox", "Name"}, {"button", "Create token"}, {"checkbox", "Show revoked tokens"}}},
		{"campaigns", "#/campaigns", `omadm-campaigns form`,
			[]axNode{{"heading", "Campaigns"}}},
	}
	for _, v := range views {
		t.Run(v.name, func(t *testing.T) {
			do(t, ctx, v.name, chromedp.Navigate(demo.url+"/ui/"+v.hash), visible(v.ready))
			nodes := axTree(t, ctx)
			for _, w := range v.want {
				found := false
				for _, n := range nodes {
					if n.role == w.role && (w.name == "" || n.name == w.name) {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("no %s named %q in the accessibility tree", w.role, w.name)
				}
			}
			// A control without an accessible name is a blank to a screen reader.
			for _, n := range nodes {
				switch n.role {
				case "button", "textbox", "combobox", "checkbox", "link", "tab", "searchbox", "spinbutton":
					if n.name == "" {
						t.Errorf("a %s without an accessible name", n.role)
					}
				}
			}
		})
	}
}
