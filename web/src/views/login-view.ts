// <omadm-login>: asks for the API token, checks it against the API and
// keeps it in sessionStorage for this tab.

import { api, router, store } from "../app";
import { errorText, field, h } from "../dom";
import { session } from "../session";

export class LoginView extends HTMLElement {
  connectedCallback(): void {
    const params = new URLSearchParams(location.hash.split("?")[1] ?? "");
    const input = h("input", { id: "token", name: "token", type: "password", autocomplete: "off", required: true, "aria-describedby": "login-error" });
    const err = h("p", { id: "login-error", class: "error", role: "alert" },
      params.get("expired") ? "The API token was refused; sign in again." : "");
    const button = h("button", { type: "submit", class: "primary" }, "Sign in");
    const form = h("form", { class: "card login", "aria-labelledby": "login-title" },
      h("h1", { id: "login-title" }, "Sign in to omadm"),
      h("p", { class: "muted" }, "Use the API token of this server (omadm serve prints where it is kept)."),
      field("API token", input),
      err, button);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const token = input.value.trim();
      if (!token) return;
      button.disabled = true;
      err.textContent = "";
      session.set(token);
      try {
        await api.listDevices({ limit: 1 });
        store.connect();
        router.go(params.get("next") || "/fleet");
      } catch (x) {
        session.clear();
        err.textContent = errorText(x);
        input.focus();
      } finally {
        button.disabled = false;
      }
    });
    this.replaceChildren(form);
    queueMicrotask(() => input.focus());
  }
}
