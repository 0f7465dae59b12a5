// <omadm-settings>: the server's health and version, this tab's token and
// live stream. Accounts and notification senders are configured on the
// server (omadm serve flags) and not exposed by the API.

import { api, store } from "../app";
import { errorText, h, replace } from "../dom";
import { session } from "../session";

export class SettingsView extends HTMLElement {
  private unsub: (() => void) | null = null;

  connectedCallback(): void {
    const health = h("dl", { class: "kv" });
    const stream = h("dl", { class: "kv" });
    const t = session.token();
    const renderStream = (): void => replace(stream,
      h("dt", null, "Live stream"), h("dd", null, store.status + (store.statusDetail ? " (" + store.statusDetail + ")" : "")),
      h("dt", null, "Last event ID"), h("dd", null, store.lastEventId || "–"),
      h("dt", null, "Updates received"), h("dd", null, String(store.recent.length)));
    const l = (): void => renderStream();
    store.addEventListener("status", l);
    this.unsub = () => store.removeEventListener("status", l);
    this.replaceChildren(
      h("div", { class: "view-head" }, h("h1", null, "Settings")),
      h("div", { class: "grid2" },
        h("section", { class: "card", "aria-labelledby": "srv-h" }, h("h2", { id: "srv-h" }, "Server"), health),
        h("section", { class: "card", "aria-labelledby": "tok-h" }, h("h2", { id: "tok-h" }, "API access"),
          h("dl", { class: "kv" }, h("dt", null, "Token"), h("dd", { class: "mono" }, t.slice(0, 4) + "…" + " (" + t.length + " characters, this tab only)")),
          stream,
          h("p", { class: "muted" }, "API tokens, accounts and notification senders are set when omadm serve starts; this server's API does not expose them."))));
    renderStream();
    api.health().then((x) => replace(health,
      h("dt", null, "Status"), h("dd", null, x.status + (x.error ? ": " + x.error : "")),
      h("dt", null, "Version"), h("dd", null, x.version || "–"),
      h("dt", null, "API"), h("dd", null, h("a", { href: "/api/v1/openapi.json" }, "OpenAPI document"))),
    (e: unknown) => replace(health, h("dd", { class: "error" }, errorText(e))));
  }

  disconnectedCallback(): void {
    this.unsub?.();
  }
}
