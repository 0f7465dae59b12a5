package browsertest_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// createCampaign fills the campaign form and returns the new campaign's ID.
func createCampaign(t *testing.T, ctx context.Context, name string, paused bool) string {
	t.Helper()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(demo.url + "/ui/#/fleet"),
		visible(`omadm-fleet`),
		chromedp.Navigate(demo.url + "/ui/#/campaigns"),
		visible(`omadm-campaigns details summary`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("omadm-campaigns details").open = true`),
		chromedp.WaitReady(chromedp.CSS(`omadm-campaigns omadm-op-form option[value=fumo]`)),
		visible(`omadm-campaigns input[name="param-pkg_url"]`),
		chromedp.SetValue(chromedp.CSS(`omadm-campaigns input[name=name]`), name),
		chromedp.SetValue(chromedp.CSS(`omadm-campaigns input[name="param-pkg_url"]`), demo.firmware),
		chromedp.SetValue(chromedp.CSS(`omadm-campaigns input[name=target]`), demo.device),
	}
	if paused {
		steps = append(steps, chromedp.Click(chromedp.CSS(`omadm-campaigns input[name=paused]`)))
	}
	steps = append(steps,
		chromedp.Click(chromedp.CSS(`omadm-campaigns form button[type=submit]`)),
		until(`/Campaign \d+ created/.test(document.querySelector("omadm-campaigns .campaign-msg").textContent)`))
	do(t, ctx, "create campaign "+name, steps...)
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`omadm-campaigns .campaign-msg`)))
	if err != nil {
		t.Fatal(err)
	}
	var id int
	if _, err := fmt.Sscanf(msg[strings.Index(msg, "Campaign "):], "Campaign %d", &id); err != nil {
		t.Fatalf("campaign id in %q: %v", msg, err)
	}
	return strconv.Itoa(id)
}

func TestConsole_CampaignRollsOutWithLiveProgressAndResumes(t *testing.T) {
	ctx := env(t)
	login(t, ctx)
	id := createCampaign(t, ctx, "browser rollout", false)
	card := `omadm-campaigns [data-campaign="` + id + `"]`
	// The card follows the live stream to the end of the rollout.
	do(t, ctx, "rollout completes",
		visible(card),
		until(`document.querySelector(`+js(card)+`)?.dataset.state === "completed"`),
		until(`document.querySelector(`+js(card+" .legend")+`).textContent.includes("succeeded 1")`))
	shot(t, ctx, "campaigns.png")

	id = createCampaign(t, ctx, "browser paused", true)
	card = `omadm-campaigns [data-campaign="` + id + `"]`
	do(t, ctx, "a paused campaign resumes",
		until(`document.querySelector(`+js(card)+`)?.dataset.state === "paused"`),
		chromedp.Click(chromedp.CSS(card+` button.primary`)),
		until(`document.querySelector(`+js(card)+`)?.dataset.state === "completed"`))
}
