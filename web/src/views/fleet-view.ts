// <omadm-fleet>: the device list — the server's search (a selector such as
// "label.site=north,model=X200", or an ID prefix), sorting and paging by the
// server's opaque cursor, so it holds at any fleet size; live last-seen.

import { api, store } from "../app";
import { Device, DeviceList } from "../api/gen";
import { ago, errorText, field, h, replace } from "../dom";
import { Router } from "../router";

const pageSize = 50;

type Sort = "id" | "last_seen" | "created";

export class FleetView extends HTMLElement {
  private cursors: string[] = [""]; // cursor of each page seen, for Previous
  private page = 0;
  private next = "";
  private devices: Device[] = [];
  private body = h("tbody");
  private info = h("p", { class: "muted", role: "status", id: "fleet-info" });
  private err = h("p", { class: "error", role: "alert" });
  private search = h("input", { type: "search", name: "q", autocomplete: "off", placeholder: "IMEI:35… or label.site=north,model=X200", "aria-describedby": "q-hint" });
  private sort = h("select", { name: "sort" }, [["id", "Device ID"], ["last_seen", "Last seen"], ["created", "Enrolled"]].map(([v, l]) => h("option", { value: v }, l)));
  private group = h("select", { name: "group" }, h("option", { value: "" }, "All devices"));
  private order = h("select", { name: "order" }, [["asc", "Ascending"], ["desc", "Descending"]].map(([v, l]) => h("option", { value: v }, l)));
  private prev = h("button", { type: "button", onclick: () => void this.go(this.page - 1) }, "← Previous");
  private nextBtn = h("button", { type: "button", onclick: () => void this.go(this.page + 1) }, "Next →");
  private timer = 0;
  private seq = 0;
  private unsub: (() => void)[] = [];

  connectedCallback(): void {
    const q = new URLSearchParams(location.hash.split("?")[1] ?? "");
    this.search.value = q.get("q") ?? "";
    this.search.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = window.setTimeout(() => this.restart(), 250);
    });
    this.search.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown") {
        e.preventDefault();
        this.body.querySelector<HTMLElement>("a")?.focus();
      }
    });
    this.sort.addEventListener("change", () => this.restart());
    this.order.addEventListener("change", () => this.restart());
    this.group.addEventListener("change", () => this.restart());
    api.listGroups({ limit: 1000 }).then((l) => {
      for (const g of l.groups) this.group.append(h("option", { value: g.name }, g.name + (g.dynamic ? " (dynamic)" : "")));
    }, () => { /* groups are optional: the list stays "All devices" */ });
    const tbl = h("table", { class: "devices", "aria-describedby": "fleet-info" },
      h("caption", { class: "sr-only" }, "Devices"),
      h("thead", null, h("tr", null, ["Device", "Model", "Firmware", "Labels", "Last seen"].map((x) => h("th", { scope: "col" }, x)))),
      this.body);
    this.body.addEventListener("keydown", (e) => this.rowKeys(e));
    this.replaceChildren(
      h("div", { class: "view-head" }, h("h1", null, "Fleet"),
        h("form", { class: "toolbar", role: "search", onsubmit: (e: Event) => { e.preventDefault(); this.restart(); } },
          field("Search", this.search), field("Group", this.group), field("Sort by", this.sort), field("Order", this.order))),
      h("p", { id: "q-hint", class: "hint" }, "Plain text matches device IDs by prefix; a selector matches terms such as label.KEY=VALUE, model=, fwv=, group=, seen<7d (comma = and)."),
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
    clearTimeout(this.timer);
    this.unsub.forEach((f) => f());
  }

  private restart(): void {
    this.cursors = [""];
    this.page = 0;
    void this.load();
  }

  private async go(page: number): Promise<void> {
    if (page < 0 || page > this.cursors.length) return;
    if (page === this.cursors.length) this.cursors.push(this.next);
    this.page = page;
    await this.load();
  }

  private async load(): Promise<void> {
    this.err.textContent = "";
    const seq = ++this.seq;
    const text = this.search.value.trim();
    const selector = /[=<>^]/.test(text);
    try {
      const l: DeviceList = await api.listDevices({
        q: selector ? text : undefined, id_prefix: !selector && text ? text : undefined,
        group: this.group.value || undefined, sort: this.sort.value as Sort, order: this.order.value as "asc" | "desc",
        cursor: this.cursors[this.page] || undefined, limit: pageSize,
      });
      if (seq !== this.seq) return; // a newer search is under way
      this.devices = l.devices;
      this.next = l.next_cursor ?? "";
      if (this.page + 1 < this.cursors.length && this.cursors[this.page + 1] !== this.next) this.cursors.length = this.page + 1;
      this.renderRows();
    } catch (e) {
      if (seq === this.seq) this.err.textContent = errorText(e);
    }
  }

  private renderRows(): void {
    replace(this.body, this.devices.map((d) => {
      const dev = d.devinfo ?? {};
      const link = h("a", { href: Router.href("/devices/" + encodeURIComponent(d.id)) }, d.id);
      return h("tr", { "data-device": d.id },
        h("td", null, link),
        h("td", null, [dev["./DevInfo/Man"], dev["./DevInfo/Mod"]].filter(Boolean).join(" ") || "–"),
        h("td", null, dev["./DevDetail/FwV"] ?? "–"),
        h("td", null, Object.entries(d.labels ?? {}).map(([k, v]) =>
          h("button", { type: "button", class: "chip", title: "Show devices with this label", onclick: () => { this.search.value = `label.${k}=${quote(v)}`; this.restart(); } }, k + "=" + v))),
        h("td", { title: d.last_seen ?? "" }, ago(d.last_seen)));
    }));
    if (this.devices.length === 0) this.body.append(h("tr", null, h("td", { colspan: "5", class: "muted" }, this.search.value ? "No device matches." : "No devices.")));
    const from = this.page * pageSize + 1;
    this.info.textContent = this.devices.length ? `Devices ${from}–${from + this.devices.length - 1}` : "";
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

/** quote double-quotes a selector value that holds a separator. */
function quote(v: string): string {
  return /[,"\s]/.test(v) ? `"${v.replace(/"/g, '\\"')}"` : v;
}
