// <omadm-trace-list device="…">: the device's wire traces grouped by
// session, each message with its decoded XML (WBXML included), live.

import { api, store } from "../app";
import { Trace } from "../api/gen";
import { errorText, h, replace, when } from "../dom";

export class TraceList extends HTMLElement {
  private traces: Trace[] = [];
  private box = h("div", { class: "sessions" });
  private err = h("p", { class: "error", role: "alert" });
  private open = new Set<string>();
  private unsub: (() => void)[] = [];

  connectedCallback(): void {
    const device = this.getAttribute("device") ?? "";
    this.replaceChildren(h("h2", null, "Session traces"), this.err, this.box);
    const load = async (): Promise<void> => {
      try {
        this.traces = (await api.deviceTraces(device, { limit: 500 })).traces;
        this.render();
      } catch (e) {
        this.err.textContent = errorText(e);
      }
    };
    this.unsub.push(store.subscribe({ device, kinds: ["trace"] }, (u) => {
      if (u.trace && !this.traces.some((t) => t.id === u.trace!.id && t.id !== 0)) {
        this.traces.push(u.trace);
        this.render();
      }
    }));
    this.unsub.push(store.onResync(() => void load()));
    void load();
  }

  disconnectedCallback(): void {
    this.unsub.forEach((f) => f());
  }

  private render(): void {
    const groups = new Map<string, Trace[]>();
    for (const t of this.traces) {
      const g = groups.get(t.session) ?? [];
      g.push(t);
      groups.set(t.session, g);
    }
    const ordered = [...groups.entries()].reverse(); // newest session first
    if (this.open.size === 0 && ordered.length) this.open.add(ordered[0][0]);
    replace(this.box, ordered.map(([session, msgs]) => {
      const d = h("details", { class: "card session", open: this.open.has(session), "data-session": session },
        h("summary", null, h("strong", null, "Session " + session), ` · ${msgs.length} message${msgs.length === 1 ? "" : "s"} · ${when(msgs[0].created_at)}`),
        msgs.map((t) => h("article", { class: "msg " + t.direction, "aria-label": `message ${t.msg_id} ${t.direction === "in" ? "from the device" : "to the device"}` },
          h("header", null, h("span", { class: "dir" }, t.direction === "in" ? "device → server" : "server → device"),
            ` msg ${t.msg_id} · ${t.content_type} · ${when(t.created_at)}`),
          h("pre", { class: "xml", tabindex: "0" }, t.decoded))));
      d.addEventListener("toggle", () => (d.open ? this.open.add(session) : this.open.delete(session)));
      return d;
    }));
    if (!ordered.length) this.box.append(h("p", { class: "muted" }, "No traces kept for this device."));
  }
}
