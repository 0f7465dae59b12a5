// <omadm-device device="…" tab="…">: one device — identity and DevInfo, its
// tree, jobs, operations, session traces and live events, as tabs.

import { api, router } from "../app";
import { Device } from "../api/gen";
import { errorText, field, h, replace, when } from "../dom";
import { Router } from "../router";

const tabs: [string, string][] = [
  ["overview", "Overview"],
  ["tree", "Tree"],
  ["jobs", "Jobs"],
  ["operations", "Operations"],
  ["traces", "Traces"],
  ["events", "Events"],
];

export class DeviceView extends HTMLElement {
  private deviceId = "";
  private panel = h("div", { class: "tabpanel", role: "tabpanel", id: "device-panel", tabindex: "0" });
  private overview = h("div");
  private err = h("p", { class: "error", role: "alert" });

  connectedCallback(): void {
    this.deviceId = this.getAttribute("device") ?? "";
    const tab = tabs.some(([t]) => t === this.getAttribute("tab")) ? this.getAttribute("tab")! : "overview";
    const list = h("div", { class: "tabs", role: "tablist", "aria-label": "Device sections" },
      tabs.map(([t, label]) => h("a", {
        role: "tab", id: "tab-" + t, href: Router.href(`/devices/${encodeURIComponent(this.deviceId)}/${t}`),
        "aria-selected": String(t === tab), "aria-controls": "device-panel", tabindex: t === tab ? "0" : "-1",
      }, label)));
    list.addEventListener("keydown", (e) => {
      const items = [...list.querySelectorAll<HTMLAnchorElement>("[role=tab]")];
      const i = items.indexOf(document.activeElement as HTMLAnchorElement);
      let j = -1;
      if (e.key === "ArrowRight") j = (i + 1) % items.length;
      else if (e.key === "ArrowLeft") j = (i - 1 + items.length) % items.length;
      else if (e.key === "Home") j = 0;
      else if (e.key === "End") j = items.length - 1;
      if (j < 0) return;
      e.preventDefault();
      items[j].focus();
      items[j].click();
    });
    this.panel.setAttribute("aria-labelledby", "tab-" + tab);
    this.replaceChildren(
      h("div", { class: "view-head" },
        h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: Router.href("/fleet") }, "Fleet"), " / "),
        h("h1", { class: "device-title" }, this.deviceId)),
      this.err, list, this.panel);
    switch (tab) {
      case "overview":
        this.panel.append(this.overview);
        void this.loadOverview();
        break;
      case "tree":
        this.panel.append(h("omadm-tree-browser", { device: this.deviceId }));
        break;
      case "jobs":
        this.panel.append(h("omadm-job-form", { device: this.deviceId }), h("omadm-job-table", { device: this.deviceId }));
        break;
      case "operations":
        this.panel.append(h("omadm-op-form", { device: this.deviceId }), h("omadm-op-list", { device: this.deviceId }));
        break;
      case "traces":
        this.panel.append(h("omadm-trace-list", { device: this.deviceId }));
        break;
      case "events":
        this.panel.append(h("omadm-event-log", { device: this.deviceId }));
        break;
    }
  }

  private async loadOverview(): Promise<void> {
    try {
      const d = await api.getDevice(this.deviceId);
      this.renderOverview(d);
    } catch (e) {
      this.err.textContent = errorText(e);
    }
  }

  private renderOverview(d: Device): void {
    const ident: [string, string][] = [
      ["Device ID", d.id], ["Auth", d.auth + (d.server_auth ? " (server: " + d.server_auth + ")" : "")],
      ["User name", d.username], ["Notification address", d.notify_addr || "–"],
      ["Transport auth", d.transport_auth || "DM credentials"], ["Certificate SHA-256", d.cert_sha256 || "–"],
      ["Enrolled", when(d.created_at)], ["Last seen", when(d.last_seen)],
    ];
    const info = Object.entries(d.devinfo ?? {}).sort(([a], [b]) => a.localeCompare(b));
    const labels = h("input", { name: "labels", class: "wide", value: Object.entries(d.labels ?? {}).map(([k, v]) => k + "=" + v).join(", ") });
    const msg = h("span", { role: "status", class: "muted" });
    const labelForm = h("form", { class: "inline", "aria-label": "Labels" },
      field("Labels", labels, "key=value, comma separated"),
      h("button", { type: "submit" }, "Save labels"), msg);
    labelForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const out: Record<string, string> = {};
      for (const part of labels.value.split(",")) {
        const [k, ...v] = part.split("=");
        if (k.trim()) out[k.trim()] = v.join("=").trim();
      }
      try {
        await api.updateDevice(this.deviceId, { labels: out });
        msg.textContent = "Saved.";
      } catch (x) {
        msg.textContent = errorText(x);
      }
    });
    const notify = h("button", { type: "button", onclick: async () => {
      try {
        const r = await api.notifyDevice(this.deviceId);
        msg.textContent = "Notification sent to " + r.addr;
      } catch (x) {
        msg.textContent = errorText(x);
      }
    } }, "Send notification");
    const del = h("button", { type: "button", class: "danger", onclick: async () => {
      if (!confirm(`Remove ${this.deviceId} and everything stored about it?`)) return;
      try {
        await api.deleteDevice(this.deviceId);
        router.go("/fleet");
      } catch (x) {
        msg.textContent = errorText(x);
      }
    } }, "Remove device");
    replace(this.overview,
      h("div", { class: "grid2" },
        h("section", { class: "card", "aria-labelledby": "ident-h" }, h("h2", { id: "ident-h" }, "Identity"),
          h("dl", { class: "kv" }, ident.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)]))),
        h("section", { class: "card", "aria-labelledby": "devinfo-h" }, h("h2", { id: "devinfo-h" }, "DevInfo"),
          info.length ? h("dl", { class: "kv devinfo" }, info.flatMap(([k, v]) => [h("dt", null, k.replace(/^\.\//, "")), h("dd", null, v)]))
            : h("p", { class: "muted" }, "Not reported yet."))),
      h("section", { class: "card" }, labelForm, h("div", { class: "actions" }, notify, del)));
  }
}
