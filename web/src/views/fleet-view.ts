// <omadm-fleet>: the device list — search, label filter, cursor paging
// (the server's cursor, so it holds at any fleet size), live last-seen.

import { api, store } from "../app";
import { Device, DeviceList } from "../api/gen";
import { errorText, field, h, replace, ago } from "../dom";
import { Router } from "../router";

const pageSize = 50;

export class FleetView extends HTMLElement {
  private cursors: string[] = [""]; // cursor of each page seen, for Previous
  private page = 0;
  private next = "";
  private devices: Device[] = [];
  private body = h("tbody");
  private info = h("p", { class: "muted", role: "status" });
  private err = h("p", { class: "error", role: "alert" });
  private search = h("input", { type: "search", name: "q", placeholder: "ID, model or label", autocomplete: "off" });
  private prev = h("button", { type: "button", onclick: () => this.go(this.page - 1) }, "← Previous");
  private nextBtn = h("button", { type: "button", onclick: () => this.go(this.page + 1) }, "Next →");
  private unsub: (() => void)[] = [];

  connectedCallback(): void {
    const q = new URLSearchParams(location.hash.split("?")[1] ?? "");
    this.search.value = q.get("q") ?? "";
    this.search.addEventListener("input", () => this.renderRows());
    this.search.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown") {
        e.preventDefault();
        this.body.querySelector<HTMLElement>("a")?.focus();
      }
    });
    const tbl = h("table", { class: "devices", "aria-describedby": "fleet-info" },
      h("caption", { class: "sr-only" }, "Devices"),
      h("thead", null, h("tr", null, ["Device", "Model", "Firmware", "Labels", "Last seen"].map((x) => h("th", { scope: "col" }, x)))),
      this.body);
    this.body.addEventListener("keydown", (e) => this.rowKeys(e));
    this.info.id = "fleet-info";
    this.replaceChildren(
      h("div", { class: "view-head" }, h("h1", null, "Fleet"),
        h("form", { class: "toolbar", role: "search", onsubmit: (e: Event) => e.preventDefault() },
          field("Search", this.search))),
      this.err, h("div", { class: "card" }, tbl,
        h("div", { class: "pager" }, this.prev, this.info, this.nextBtn)),
      h("omadm-enrol-form"));
    this.unsub.push(store.subscribe({ kinds: ["session"] }, (u) => {
      const d = this.devices.find((x) => x.id === u.device);
      if (d && u.session?.state === "started") {
        d.last_seen = u.time;
        this.renderRows();
      }
    }));
    this.unsub.push(store.onResync(() => void this.load()));
    void this.load();
  }

  disconnectedCallback(): void {
    this.unsub.forEach((f) => f());
  }

  private async go(page: number): Promise<void> {
    if (page < 0 || page > this.cursors.length) return;
    if (page === this.cursors.length) this.cursors.push(this.next);
    this.page = page;
    await this.load();
  }

  private async load(): Promise<void> {
    this.err.textContent = "";
    try {
      const l: DeviceList = await api.listDevices({ after: this.cursors[this.page] || undefined, limit: pageSize });
      this.devices = l.devices;
      this.next = l.next ?? "";
      if (this.page + 1 < this.cursors.length && this.cursors[this.page + 1] !== this.next) this.cursors.length = this.page + 1;
      this.renderRows();
    } catch (e) {
      this.err.textContent = errorText(e);
    }
  }

  private renderRows(): void {
    const q = this.search.value.trim().toLowerCase();
    const shown = this.devices.filter((d) => !q || matches(d, q));
    replace(this.body, shown.map((d) => {
      const dev = d.devinfo ?? {};
      const link = h("a", { href: Router.href("/devices/" + encodeURIComponent(d.id)) }, d.id);
      return h("tr", { "data-device": d.id },
        h("td", null, link),
        h("td", null, [dev["./DevInfo/Man"], dev["./DevInfo/Mod"]].filter(Boolean).join(" ") || "–"),
        h("td", null, dev["./DevDetail/FwV"] ?? "–"),
        h("td", null, Object.entries(d.labels ?? {}).map(([k, v]) =>
          h("button", { type: "button", class: "chip", title: "Filter by this label", onclick: () => { this.search.value = k + "=" + v; this.renderRows(); } }, k + "=" + v))),
        h("td", { title: d.last_seen ?? "" }, ago(d.last_seen)));
    }));
    if (shown.length === 0) this.body.append(h("tr", null, h("td", { colspan: "5", class: "muted" }, q ? "No device on this page matches." : "No devices.")));
    const from = this.page * pageSize + 1;
    this.info.textContent = this.devices.length
      ? `Devices ${from}–${from + this.devices.length - 1}` + (q ? ` (${shown.length} match)` : "")
      : "";
    this.prev.disabled = this.page === 0;
    this.nextBtn.disabled = this.next === "";
  }

  /** rowKeys moves between device links with the arrow keys. */
  private rowKeys(e: KeyboardEvent): void {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const links = [...this.body.querySelectorAll<HTMLAnchorElement>("a")];
    const i = links.indexOf(document.activeElement as HTMLAnchorElement);
    if (i < 0) return;
    e.preventDefault();
    const j = e.key === "ArrowDown" ? i + 1 : i - 1;
    if (j < 0) this.search.focus();
    else links[Math.min(j, links.length - 1)].focus();
  }
}

function matches(d: Device, q: string): boolean {
  if (d.id.toLowerCase().includes(q)) return true;
  for (const [k, v] of Object.entries(d.labels ?? {})) {
    if ((k + "=" + v).toLowerCase().includes(q)) return true;
  }
  return Object.values(d.devinfo ?? {}).some((v) => v.toLowerCase().includes(q));
}

