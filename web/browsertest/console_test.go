package browsertest_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// bound is how long one DOM wait may take: it only stops a hang (a job goes
// to a simulated device and back on loopback in well under a second).
const bound = 90 * time.Second

func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// until waits for a JavaScript predicate on the page (checked each frame).
func until(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(bound))
}

func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// login signs in on a fresh tab and waits for the fleet list.
func login(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, "sign in",
		chromedp.Navigate(demo.url+"/ui/"),
		visible("#token"),
		chromedp.SendKeys(chromedp.CSS("#token"), demo.token),
		chromedp.Click(chromedp.CSS("omadm-login button[type=submit]")),
		visible(`omadm-fleet tr[data-device]`))
}

func deviceURL(tab string) string {
	return demo.url + "/ui/#/devices/" + url.PathEscape(demo.device) + "/" + tab
}

func TestConsole_SignInRefusesAWrongTokenAndKeepsTheRightOneForTheTab(t *testing.T) {
	ctx := env(t)
	do(t, ctx, "wrong token",
		chromedp.Navigate(demo.url+"/ui/#/fleet"),
		visible("#token"), // the fleet needs a token: the router sends us to the login
		chromedp.SendKeys(chromedp.CSS("#token"), "not-the-token"),
		chromedp.Click(chromedp.CSS("omadm-login button[type=submit]")),
		until(`document.querySelector("#login-error").textContent.includes("refused")`))
	shot(t, ctx, "login.png")
	do(t, ctx, "right token",
		chromedp.SetValue(chromedp.CSS("#token"), demo.token),
		chromedp.Click(chromedp.CSS("omadm-login button[type=submit]")),
		visible(`omadm-fleet tr[data-device]`),
		until(`sessionStorage.getItem("omadm-token") === `+js(demo.token)),
		until(`document.querySelector(".stream-status").classList.contains("live")`))
	// A token the server stops accepting sends the operator back to the login.
	do(t, ctx, "401 goes back to the login",
		chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem("omadm-token", "revoked")`),
		chromedp.Navigate(demo.url+"/ui/#/settings"),
		chromedp.Evaluate[chromedp.Void](`location.reload()`),
		visible("#token"),
		until(`sessionStorage.getItem("omadm-token") === null`))
}

func TestConsole_FleetFindsADeviceAndOpensIt(t *testing.T) {
	ctx := env(t)
	login(t, ctx)
	shot(t, ctx, "fleet.png")
	row := `omadm-fleet tr[data-device=` + js(demo.device) + `]`
	do(t, ctx, "search",
		chromedp.SendKeys(chromedp.CSS(`omadm-fleet input[name=q]`), demo.device),
		visible(row),
		until(`document.querySelectorAll("omadm-fleet tr[data-device]").length === 1`),
		chromedp.Click(chromedp.CSS(row+" a")),
		visible("omadm-device .device-title"),
		until(`document.querySelector("omadm-device .device-title").textContent === `+js(demo.device)),
		visible("omadm-device dl.devinfo"))
	shot(t, ctx, "device.png")
	// A label chip searches the fleet with a selector, on the server.
	do(t, ctx, "label selector",
		chromedp.Navigate(demo.url+"/ui/#/fleet"),
		visible(row+` button.chip`),
		chromedp.Click(chromedp.CSS(row+` button.chip`)),
		until(`document.querySelector("omadm-fleet input[name=q]").value.startsWith("label.")`),
		until(`(() => { const want = document.querySelector("omadm-fleet input[name=q]").value.slice(6).replaceAll('"', "");
			const rows = [...document.querySelectorAll("omadm-fleet tr[data-device]")];
			return rows.length > 0 && rows.some(r => r.dataset.device === `+js(demo.device)+`) && rows.every(r => r.textContent.includes(want)); })()`))
}

func TestConsole_TreeBrowserFetchesFromTheDeviceAndReplacesALeaf(t *testing.T) {
	ctx := env(t)
	login(t, ctx)
	node := `omadm-tree-browser .node[data-uri=` + js(demo.settingURI) + `]`
	do(t, ctx, "fetch the tree",
		chromedp.Navigate(deviceURL("tree")),
		visible(`omadm-tree-browser button.primary`),
		chromedp.Click(chromedp.CSS(`omadm-tree-browser button.primary`)),
		visible(`omadm-tree-browser .node[data-uri="./DevInfo"]`))
	// Open the interior nodes down to the leaf, as an operator would.
	parts := strings.Split(strings.TrimPrefix(demo.settingURI, "./"), "/")
	for i := 1; i < len(parts); i++ {
		sel := `omadm-tree-browser .node[data-uri=` + js("./"+strings.Join(parts[:i], "/")) + `]`
		do(t, ctx, "open "+sel, visible(sel), chromedp.Click(chromedp.CSS(sel)),
			until(`document.querySelector(`+js(sel)+`).getAttribute("aria-expanded") === "true"`))
	}
	do(t, ctx, "the leaf", visible(node))
	// A value no earlier run wrote: the browser shows it only after the device
	// took the Replace and answered the Get that reads it back.
	want := strconv.FormatInt(time.Now().UnixNano()%100000+1000, 10)
	do(t, ctx, "replace the leaf",
		chromedp.Click(chromedp.CSS(node)),
		visible(`omadm-tree-browser form[aria-label="Replace value"]`),
		chromedp.SetValue(chromedp.CSS(`omadm-tree-browser input[name=value]`), want),
		chromedp.SetValue(chromedp.CSS(`omadm-tree-browser select[name=format]`), "int"),
		chromedp.Click(chromedp.CSS(`omadm-tree-browser form[aria-label="Replace value"] button[type=submit]`)),
		until(`document.querySelector("omadm-tree-browser .job-status").textContent.startsWith("Replace")`),
		until(`document.querySelector("omadm-tree-browser .node-value")?.textContent === `+js(want)+
			` && document.querySelector("omadm-tree-browser .job-status").textContent.startsWith("Read")`+
			` && document.querySelector("omadm-tree-browser .job-status").textContent.includes("200")`))
	shot(t, ctx, "tree.png")
	// The job list shows the Replace the device answered.
	do(t, ctx, "jobs",
		chromedp.Navigate(deviceURL("jobs")),
		until(`[...document.querySelectorAll("omadm-job-table tr[data-job]")].some(r => r.textContent.includes("Replace") && r.textContent.includes(`+js(demo.settingURI)+`) && r.textContent.includes("200 OK"))`))
	shot(t, ctx, "jobs.png")
}

func TestConsole_FUMOFormRunsAFirmwareUpdateToSuccess(t *testing.T) {
	ctx := env(t)
	login(t, ctx)
	// Start from a quiet device: the demo's own scenario has finished every
	// job, so the notification below opens a session of its own.
	do(t, ctx, "no job of the demo's scenario is open",
		chromedp.Navigate(deviceURL("jobs")),
		visible(`omadm-job-table tr[data-job]`),
		until(`![...document.querySelectorAll("omadm-job-table tr[data-job] .badge")].some(b => b.textContent === "queued" || b.textContent === "sent")`))
	do(t, ctx, "the form comes from the FUMO descriptor",
		chromedp.Navigate(deviceURL("operations")),
		chromedp.WaitReady(chromedp.CSS(`omadm-op-form select[name=mo] option[value=fumo]`)),
		visible(`omadm-op-form input[name="param-pkg_url"][required]`),
		chromedp.SendKeys(chromedp.CSS(`omadm-op-form input[name="param-pkg_url"]`), demo.firmware),
		chromedp.Click(chromedp.CSS(`omadm-op-form button[type=submit]`)),
		until(`/Operation \d+ started/.test(document.querySelector("omadm-op-form [role=status]").textContent)`))
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`omadm-op-form [role=status]`)))
	if err != nil {
		t.Fatal(err)
	}
	var id int
	if _, err := fmtSscan(msg, &id); err != nil {
		t.Fatalf("operation id in %q: %v", msg, err)
	}
	row := `omadm-op-list tr[data-op="` + strconv.Itoa(id) + `"]`
	// The row follows the live stream: queued → sent → accepted → succeeded.
	do(t, ctx, "the operation is listed", visible(row))
	// One package 0 is enough: the row follows the live stream to the end
	// and never goes back to an older state, even when the answer to the
	// POST that created the operation is read after the stream has already
	// brought the device's progress.
	do(t, ctx, "watch it finish",
		until(`document.querySelector(`+js(row)+`)?.dataset.state === "succeeded"`),
		until(`document.querySelector(`+js(row+" .op-result")+`).textContent.startsWith("200")`))
	shot(t, ctx, "operations.png")
	do(t, ctx, "the device's report is in its events, the session in its traces",
		chromedp.Navigate(deviceURL("events")),
		until(`[...document.querySelectorAll("omadm-event-log li")].some(li => li.textContent.includes("generic-alert"))`),
		chromedp.Navigate(deviceURL("traces")),
		visible(`omadm-trace-list details[open] pre.xml`),
		until(`document.querySelector("omadm-trace-list pre.xml").textContent.includes("SyncML")`))
	shot(t, ctx, "traces.png")
}

func TestConsole_EveryViewRendersItsHeading(t *testing.T) {
	ctx := env(t)
	login(t, ctx)
	views := []struct {
		name, hash, heading string
	}{
		{name: "fleet", hash: "#/fleet", heading: "Fleet"},
		{name: "device-overview", hash: "#/devices/" + url.PathEscape(demo.device), heading: demo.device},
		{name: "device-events", hash: "#/devices/" + url.PathEscape(demo.device) + "/events", heading: demo.device},
		{name: "operations-view", hash: "#/operations", heading: "Operations"},
		{name: "campaigns", hash: "#/campaigns", heading: "Campaigns"},
		{name: "settings", hash: "#/settings", heading: "Settings"},
	}
	for _, v := range views {
		t.Run(v.name, func(t *testing.T) {
			do(t, ctx, v.name,
				chromedp.Navigate(demo.url+"/ui/"+v.hash),
				until(`document.activeElement?.matches("h1") && document.activeElement.textContent === `+js(v.heading)),
				until(`document.querySelector("[aria-current=page]") !== null || `+js(v.name)+`.startsWith("device")`))
			shot(t, ctx, "view-"+v.name+".png")
		})
	}
}

func TestConsole_KeyboardMovesThroughDeviceTabsAndTheTree(t *testing.T) {
	ctx := env(t)
	login(t, ctx)
	do(t, ctx, "tabs follow the arrow keys and keep the focus",
		chromedp.Navigate(deviceURL("overview")),
		visible("#tab-overview"),
		chromedp.Focus(chromedp.CSS("#tab-overview")),
		chromedp.KeyEvent(kb.ArrowRight),
		until(`location.hash.endsWith("/tree") && document.activeElement?.id === "tab-tree"`),
		chromedp.KeyEvent(kb.End),
		until(`location.hash.endsWith("/events") && document.activeElement?.id === "tab-events"`),
		chromedp.KeyEvent(kb.Home),
		until(`location.hash.endsWith("/overview") && document.activeElement?.id === "tab-overview"`))
	do(t, ctx, "the tree is a keyboard tree",
		chromedp.Navigate(deviceURL("tree")),
		visible(`omadm-tree-browser .node[data-uri="./DevInfo"]`), // from the server's cache
		chromedp.Focus(chromedp.CSS(`omadm-tree-browser .node[data-uri="."]`)),
		chromedp.KeyEvent(kb.ArrowDown),
		until(`document.activeElement?.dataset.uri?.startsWith("./")`),
		chromedp.KeyEvent(kb.Enter),
		until(`document.querySelector("omadm-tree-browser .node-detail h2").textContent === document.activeElement.dataset.uri`))
}

func TestConsole_EnrolsADeviceAndListsIt(t *testing.T) {
	ctx := env(t)
	login(t, ctx)
	id := "IMEI:35" + strconv.FormatInt(time.Now().UnixNano()%1e13, 10)
	do(t, ctx, "enrol",
		chromedp.Click(chromedp.CSS(`omadm-enrol-form summary`)),
		visible(`omadm-enrol-form input[name=id]`),
		chromedp.SendKeys(chromedp.CSS(`omadm-enrol-form input[name=id]`), id),
		chromedp.SendKeys(chromedp.CSS(`omadm-enrol-form input[name=username]`), "browser"),
		chromedp.SendKeys(chromedp.CSS(`omadm-enrol-form input[name=password]`), "browser-secret"),
		chromedp.SendKeys(chromedp.CSS(`omadm-enrol-form input[name=labels]`), "site=lab"),
		chromedp.Click(chromedp.CSS(`omadm-enrol-form button[type=submit]`)),
		until(`document.querySelector("omadm-enrol-form [role=status]").textContent.includes("Server password (shown once)")`),
		chromedp.Click(chromedp.CSS(`omadm-enrol-form [role=status] a`)),
		until(`document.querySelector("omadm-device .device-title")?.textContent === `+js(id)),
		until(`document.querySelector("omadm-device input[name=labels]")?.value === "site=lab"`))
}
