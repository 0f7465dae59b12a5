// <omadm-campaigns>: the campaigns with their progress per device state,
// live; a form to create one (the operation's form comes from the MO
// descriptors, as for a single device); pause, resume and cancel.

import { api, stamp, store } from "../app";
import { Campaign, CampaignRequest, CampaignTarget } from "../api/gen";
import { OpForm } from "../components/operations";
import { badge, errorText, field, h, replace, when } from "../dom";

const states = ["succeeded", "failed", "timed_out", "cancelled", "skipped", "in_progress", "notified", "pending"] as const;

/** bar is a stacked bar of a campaign's devices by state, with a legend. */
export function campaignBar(c: Campaign): HTMLElement {
  const counts = (c.counts ?? {}) as Record<string, number | undefined>;
  const total = Math.max(1, c.total);
  const parts = states.filter((s) => (counts[s] ?? 0) > 0);
  return h("div", { class: "campaign-progress" },
    h("div", { class: "stack", role: "img", "aria-label": parts.map((s) => `${s.replace("_", " ")} ${counts[s]}`).join(", ") || "no devices" },
      parts.map((s) => {
        // CSSOM, not a style attribute: the console's CSP allows no inline styles.
        const seg = h("span", { class: "seg seg-" + s });
        seg.style.width = `${(100 * (counts[s] ?? 0)) / total}%`;
        return seg;
      })),
    h("ul", { class: "legend" }, parts.map((s) => h("li", { class: "seg-" + s }, `${s.replace("_", " ")} ${counts[s]}`))),
    h("p", { class: "muted" }, `${c.done} of ${c.total} devices done · wave ${c.wave} of ${c.waves.length}`));
}

/** campaignNewer reports whether a is a later copy of its campaign than b:
 * updated later, or as late with more devices done. */
function campaignNewer(a: Campaign, b: Campaign): boolean {
  const ta = stamp(a.updated_at);
  const tb = stamp(b.updated_at);
  if (ta !== tb) return ta > tb;
  return a.done >= b.done;
}

export class CampaignsView extends HTMLElement {
  private list: Campaign[] = [];
  private box = h("div", { class: "campaigns" });
  private err = h("p", { class: "error", role: "alert" });
  private unsub: (() => void)[] = [];

  connectedCallback(): void {
    this.replaceChildren(
      h("div", { class: "view-head" }, h("h1", null, "Campaigns")),
      this.form(), this.err, this.box);
    this.unsub.push(store.subscribe({ kinds: ["campaign"] }, (u) => {
      if (u.campaign) this.upsert(u.campaign);
    }));
    this.unsub.push(store.onResync(() => void this.load()));
    void this.load();
  }

  disconnectedCallback(): void {
    this.unsub.forEach((f) => f());
  }

  private async load(): Promise<void> {
    try {
      const seen = this.list;
      this.list = (await api.listCampaigns({ limit: 200 })).campaigns.slice().reverse();
      for (const c of seen) {
        const i = this.list.findIndex((x) => x.id === c.id);
        if (i >= 0 && campaignNewer(c, this.list[i])) this.list[i] = c;
      }
      this.render();
    } catch (e) {
      this.err.textContent = errorText(e);
    }
  }

  /** upsert shows c unless the list already has a later copy of it (the
   * answer to a create or an action can arrive after the live stream
   * brought the campaign's progress). */
  private upsert(c: Campaign): void {
    const i = this.list.findIndex((x) => x.id === c.id);
    if (i < 0) this.list.unshift(c);
    else if (campaignNewer(c, this.list[i])) this.list[i] = c;
    this.render();
  }

  private act(c: Campaign, what: "pause" | "resume" | "cancel"): void {
    const call = what === "pause" ? api.pauseCampaign(c.id, { reason: "paused from the console" })
      : what === "resume" ? api.resumeCampaign(c.id) : api.cancelCampaign(c.id);
    call.then((x) => this.upsert(x), (e: unknown) => (this.err.textContent = errorText(e)));
  }

  private render(): void {
    replace(this.box, this.list.map((c) => {
      const open = c.state === "running" || c.state === "paused" || c.state === "creating";
      return h("section", { class: "card campaign", "data-campaign": String(c.id), "data-state": c.state, "aria-labelledby": "c-" + c.id },
        h("div", { class: "campaign-head" },
          h("h2", { id: "c-" + c.id }, `#${c.id} ${c.name || (c.template.mo.toUpperCase() + " " + (c.template.operation ?? ""))}`),
          badge(c.state), c.reason ? h("span", { class: "muted" }, c.reason) : null,
          h("span", { class: "muted" }, "created " + when(c.created_at))),
        campaignBar(c),
        open ? h("div", { class: "actions" },
          c.state === "running" ? h("button", { type: "button", onclick: () => this.act(c, "pause") }, "Pause") : null,
          c.state === "paused" ? h("button", { type: "button", class: "primary", onclick: () => this.act(c, "resume") }, "Resume") : null,
          h("button", { type: "button", class: "danger", onclick: () => { if (confirm(`Cancel campaign ${c.id}?`)) this.act(c, "cancel"); } }, "Cancel")) : null);
    }));
    if (!this.list.length) this.box.append(h("p", { class: "muted" }, "No campaigns yet."));
  }

  private form(): HTMLElement {
    const name = h("input", { name: "name" });
    const op = h("omadm-op-form", { mode: "template" }) as OpForm;
    const kind = h("select", { name: "target-kind" },
      [["devices", "Device list"], ["group", "Group"], ["selector", "Selector"], ["id_prefix", "ID prefix"], ["all", "All devices"]]
        .map(([v, l]) => h("option", { value: v }, l)));
    const target = h("input", { name: "target", placeholder: "IMEI:1, IMEI:2" });
    const waves = h("input", { name: "waves", placeholder: "5%, 25%, 100%" });
    const inflight = h("input", { name: "max_in_flight", type: "number", placeholder: "100" });
    const failures = h("input", { name: "max_failure_percent", type: "number", placeholder: "no limit" });
    const paused = h("input", { type: "checkbox", name: "paused" });
    const msg = h("p", { role: "status", class: "muted campaign-msg" });
    kind.addEventListener("change", () => { target.disabled = kind.value === "all"; });
    const form = h("form", { class: "card", "aria-labelledby": "new-c-h" },
      h("details", null, h("summary", { id: "new-c-h" }, "New campaign"),
        h("div", { class: "inline" }, field("Name", name)), op,
        h("fieldset", null, h("legend", null, "Devices"), field("Target", kind), field("Value", target, "IDs comma separated, a group name, a selector or an ID prefix")),
        h("fieldset", null, h("legend", null, "Rollout"), field("Waves", waves, "cumulative sizes"), field("Max in flight", inflight),
          field("Pause above failure %", failures), h("label", { class: "check" }, paused, "Create paused")),
        h("button", { type: "submit", class: "primary" }, "Create campaign"), msg));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const t = op.template();
      if (!t) return;
      const tg: CampaignTarget = {};
      const v = target.value.trim();
      switch (kind.value) {
        case "devices": tg.devices = v.split(",").map((s) => s.trim()).filter(Boolean); break;
        case "group": tg.group = v; break;
        case "selector": tg.selector = v; break;
        case "id_prefix": tg.id_prefix = v; break;
        default: tg.all = true;
      }
      const req: CampaignRequest = { name: name.value.trim() || undefined, template: t, target: tg, paused: paused.checked, policy: {} };
      const w = waves.value.split(",").map((s) => s.trim()).filter(Boolean);
      if (w.length) req.policy!.waves = w;
      if (inflight.value) req.policy!.max_in_flight = Number(inflight.value);
      if (failures.value) req.policy!.max_failure_percent = Number(failures.value);
      try {
        const c = await api.createCampaign(req);
        msg.textContent = `Campaign ${c.id} created (${c.total} devices)`;
        this.upsert(c);
      } catch (x) {
        msg.textContent = errorText(x);
      }
    });
    return form;
  }
}
