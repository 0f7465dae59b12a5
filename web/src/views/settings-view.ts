// <omadm-settings>: the server's health and version, this tab's token and
// live stream, the named API tokens (create — the plaintext shown once —,
// list, revoke) and the package 0 senders the server has, with a test
// notification to a device. Accounts and senders are configured by
// omadm serve flags; the API lists the senders read-only.

import { api, store } from "../app";
import { NotificationSender, Token } from "../api/gen";
import { errorText, field, h, replace, table, when } from "../dom";
import { session } from "../session";

export class SettingsView extends HTMLElement {
  private unsub: (() => void) | null = null;
  private tokensBody = h("div");
  private tokensErr = h("p", { class: "error", role: "alert" });
  private showRevoked = h("input", { type: "checkbox", name: "show-revoked" });
  private dialog = h("dialog", { class: "card confirm", "aria-labelledby": "revoke-h", "aria-describedby": "revoke-d" });

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
    this.showRevoked.addEventListener("change", () => void this.loadTokens());
    this.replaceChildren(
      h("div", { class: "view-head" }, h("h1", null, "Settings")),
      h("div", { class: "grid2" },
        h("section", { class: "card", "aria-labelledby": "srv-h" }, h("h2", { id: "srv-h" }, "Server"), health),
        h("section", { class: "card", "aria-labelledby": "tok-h" }, h("h2", { id: "tok-h" }, "This tab"),
          h("dl", { class: "kv" }, h("dt", null, "Token"), h("dd", { class: "mono" }, t.slice(0, 12) + "…" + " (kept for this tab only)")),
          stream)),
      h("section", { class: "card", "aria-labelledby": "tokens-h" },
        h("h2", { id: "tokens-h" }, "API tokens"),
        h("p", { class: "muted" }, "Each token is shown once, when it is created; the server keeps only its SHA-256. A revoked token is refused at once by every server node. The bootstrap token of omadm serve is not listed and cannot be revoked here."),
        this.createForm(), this.tokensErr,
        h("label", { class: "check" }, this.showRevoked, "Show revoked tokens"),
        this.tokensBody),
      h("section", { class: "card", "aria-labelledby": "senders-h" },
        h("h2", { id: "senders-h" }, "Notification senders"),
        h("p", { class: "muted" }, "How this server sends package 0 to devices, by address scheme (set by omadm serve flags)."),
        this.senders()),
      this.dialog);
    renderStream();
    api.health().then((x) => replace(health,
      h("dt", null, "Status"), h("dd", null, x.status + (x.error ? ": " + x.error : "")),
      h("dt", null, "Version"), h("dd", null, x.version || "–"),
      h("dt", null, "API"), h("dd", null, h("a", { href: "/api/v1/openapi.json" }, "OpenAPI document"))),
    (e: unknown) => replace(health, h("dd", { class: "error" }, errorText(e))));
    void this.loadTokens();
  }

  disconnectedCallback(): void {
    this.unsub?.();
  }

  private createForm(): HTMLElement {
    const name = h("input", { name: "token-name", required: true, pattern: "[A-Za-z][A-Za-z0-9._\\-]{0,63}", autocomplete: "off" });
    const out = h("div", { class: "token-created", role: "status", "aria-live": "polite" });
    const form = h("form", { class: "inline", "aria-label": "Create an API token" },
      field("Name", name, "a letter, then letters, digits, . _ or -"),
      h("button", { type: "submit", class: "primary" }, "Create token"));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      replace(out);
      try {
        const t = await api.createToken({ name: name.value.trim() });
        const value = h("input", { class: "mono", readonly: true, value: t.token ?? "", "aria-label": `New token ${t.name}`, size: 52 });
        const copy = h("button", { type: "button", class: "small" }, "Copy");
        copy.addEventListener("click", () => {
          value.select();
          void navigator.clipboard?.writeText(value.value).then(() => (copy.textContent = "Copied"), () => undefined);
        });
        replace(out, h("p", null, `Token ${t.name} created. Copy it now: it is not shown again.`), h("div", { class: "inline" }, value, copy));
        name.value = "";
        value.focus();
        value.select();
        await this.loadTokens();
      } catch (x) {
        replace(out, h("p", { class: "error" }, errorText(x)));
        name.focus();
      }
    });
    return h("div", null, form, out);
  }

  private async loadTokens(): Promise<void> {
    try {
      const l = await api.listTokens({ revoked: this.showRevoked.checked || undefined });
      this.tokensErr.textContent = "";
      this.renderTokens(l.tokens, l.bootstrap_current ?? false);
    } catch (e) {
      this.tokensErr.textContent = errorText(e);
    }
  }

  private renderTokens(list: Token[], bootstrap: boolean): void {
    const note = h("p", { class: "muted" }, bootstrap ? "This tab signed in with the bootstrap token." : "");
    if (!list.length) {
      replace(this.tokensBody, note, h("p", { class: "muted" }, "No named tokens yet."));
      return;
    }
    replace(this.tokensBody, note, table("API tokens", ["Name", "Prefix", "Created", "Last used", "State", ""], list.map((t) => [
      t.name + (t.current ? " (this tab)" : ""),
      h("span", { class: "mono" }, t.prefix + "…"),
      when(t.created_at),
      t.last_used_at ? when(t.last_used_at) : "never",
      t.revoked_at ? "revoked " + when(t.revoked_at) : "active",
      t.revoked_at ? null : h("button", { type: "button", class: "small danger", "data-token": t.name, "aria-label": `Revoke token ${t.name}`,
        onclick: (e: Event) => this.confirmRevoke(t, e.currentTarget as HTMLElement) }, "Revoke"),
    ]), { class: "tokens" }));
  }

  /** confirmRevoke asks in a modal dialog: Escape or Cancel closes it, the
   * focus starts on Cancel and goes back to the button that opened it. */
  private confirmRevoke(t: Token, opener: HTMLElement): void {
    const cancel = h("button", { type: "button" }, "Cancel");
    const ok = h("button", { type: "button", class: "danger" }, "Revoke");
    const msg = h("p", { class: "error", role: "alert" });
    replace(this.dialog,
      h("h2", { id: "revoke-h" }, `Revoke token ${t.name}?`),
      h("p", { id: "revoke-d" }, "Every request that carries it is refused from now on, on every server node." + (t.current ? " This tab uses it: you will have to sign in again." : "")),
      msg, h("div", { class: "inline" }, cancel, ok));
    const close = (): void => this.dialog.close();
    this.dialog.onclose = () => opener.isConnected ? opener.focus() : this.querySelector<HTMLElement>("#tokens-h")?.focus();
    cancel.addEventListener("click", close);
    ok.addEventListener("click", async () => {
      ok.disabled = true;
      try {
        await api.revokeToken(String(t.id));
        close();
        await this.loadTokens();
      } catch (e) {
        msg.textContent = errorText(e);
        ok.disabled = false;
      }
    });
    this.dialog.showModal();
    cancel.focus();
  }

  private senders(): HTMLElement {
    const box = h("div");
    const device = h("input", { name: "test-device", required: true, placeholder: "IMEI:…", autocomplete: "off" });
    const msg = h("p", { role: "status", class: "muted test-result" });
    const form = h("form", { class: "inline", "aria-label": "Send a test notification" },
      field("Device", device, "sends package 0 now; the device opens a session"),
      h("button", { type: "submit" }, "Send test package 0"));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      msg.textContent = "";
      try {
        const r = await api.notifyDevice(device.value.trim());
        msg.textContent = `Package 0 sent to ${r.device} at ${r.addr}.`;
      } catch (x) {
        msg.textContent = errorText(x);
      }
    });
    api.listNotificationSenders().then((l) => replace(box, l.senders.length
      ? table("Notification senders", ["Scheme", "Kind", "Description"], l.senders.map((s: NotificationSender) => [
        h("span", { class: "mono" }, s.scheme + ":"), h("span", { class: "mono" }, s.kind), s.description || "–"]), { class: "senders" })
      : h("p", { class: "muted" }, "No notification sender is configured.")),
    (e: unknown) => replace(box, h("p", { class: "error" }, errorText(e))));
    return h("div", null, box, form, msg);
  }
}
