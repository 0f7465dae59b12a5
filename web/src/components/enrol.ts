// <omadm-enrol-form>: enrols a device (POST /devices); a server password the
// server generated is shown once, as the API returns it only then.

import { api } from "../app";
import { DeviceCreate } from "../api/gen";
import { errorText, field, h, replace } from "../dom";
import { Router } from "../router";

export class EnrolForm extends HTMLElement {
  connectedCallback(): void {
    const id = h("input", { name: "id", required: true, placeholder: "IMEI:…" });
    const user = h("input", { name: "username", required: true, autocomplete: "off" });
    const pass = h("input", { name: "password", required: true, type: "password", autocomplete: "new-password" });
    const auth = h("select", { name: "auth" }, ["md5", "basic", "hmac"].map((a) => h("option", null, a)));
    const notify = h("input", { name: "notify_addr", placeholder: "udp://host:port, sms:+number, wappush:+number, wappush-ip:address or obex://host:port" });
    const labels = h("input", { name: "labels", placeholder: "site=north, tier=gold" });
    const msg = h("p", { role: "status", class: "muted" });
    const form = h("form", { class: "inline" },
      field("Device ID", id), field("User name", user), field("Password", pass), field("Auth", auth),
      field("Notification address", notify), field("Labels", labels),
      h("button", { type: "submit", class: "primary" }, "Enrol"));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body: DeviceCreate = { id: id.value.trim(), username: user.value, password: pass.value, auth: auth.value as DeviceCreate["auth"] };
      if (notify.value.trim()) body.notify_addr = notify.value.trim();
      const l: Record<string, string> = {};
      for (const part of labels.value.split(",")) {
        const [k, ...v] = part.split("=");
        if (k.trim()) l[k.trim()] = v.join("=").trim();
      }
      if (Object.keys(l).length) body.labels = l;
      try {
        const d = await api.createDevice(body);
        replace(msg, h("a", { href: Router.href("/devices/" + encodeURIComponent(d.id)) }, d.id), " enrolled.",
          d.server_password ? " Server password (shown once): " : "", d.server_password ? h("code", null, d.server_password) : null);
        form.reset();
      } catch (x) {
        msg.textContent = errorText(x);
      }
    });
    this.replaceChildren(h("details", { class: "card" }, h("summary", null, "Enrol a device"), form, msg));
  }
}
