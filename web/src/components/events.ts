// <omadm-event-log device="…">: the device's events (generic alerts,
// session milestones), newest first, with the live ones added as they come.

import { api, store } from "../app";
import { Event as DMEvent } from "../api/gen";
import { errorText, h, replace, when } from "../dom";

export class EventLog extends HTMLElement {
  private events: DMEvent[] = [];
  private list = h("ol", { class: "events", "aria-live": "polite", "aria-relevant": "additions" });
  private err = h("p", { class: "error", role: "alert" });
  private unsub: (() => void)[] = [];

  connectedCallback(): void {
    const device = this.getAttribute("device") ?? "";
    this.replaceChildren(h("h2", null, "Events"), this.err, h("div", { class: "card" }, this.list));
    const load = async (): Promise<void> => {
      try {
        // Pages run oldest first: walk to the last page (bounded).
        let after = 0;
        let all: DMEvent[] = [];
        for (let i = 0; i < 20; i++) {
          const l = await api.deviceEvents(device, { after, limit: 1000 });
          all = all.concat(l.events);
          if (!l.next) break;
          after = Number(l.next);
        }
        this.events = all.slice(-300).reverse();
        this.render();
      } catch (e) {
        this.err.textContent = errorText(e);
      }
    };
    this.unsub.push(store.subscribe({ device, kinds: ["event", "session"] }, (u) => {
      if (u.event && !this.events.some((e) => e.id === u.event!.id)) {
        this.events.unshift(u.event);
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
    replace(this.list, this.events.map((e) => h("li", { "data-event": String(e.id) },
      h("time", { datetime: e.created_at }, when(e.created_at)), " ",
      h("strong", null, e.kind), e.type ? " " + e.type : "",
      e.correlator ? h("span", { class: "muted" }, " correlator " + e.correlator) : null,
      e.data ? h("code", null, " " + e.data) : null)));
    if (!this.events.length) this.list.append(h("li", { class: "muted" }, "No events yet."));
  }
}
