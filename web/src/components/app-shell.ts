// <omadm-app>: the page frame — skip link, navigation, the live stream's
// status, the view outlet and a polite live region for announcements.

import { router, store } from "../app";
import { h } from "../dom";
import { Router } from "../router";
import { session } from "../session";

const nav: [string, string][] = [
  ["/fleet", "Fleet"],
  ["/operations", "Operations"],
  ["/campaigns", "Campaigns"],
  ["/settings", "Settings"],
];

export class AppShell extends HTMLElement {
  private links: HTMLAnchorElement[] = [];
  private status = h("span", { class: "stream-status", role: "status", "aria-live": "polite" });
  private navEl = h("nav", { "aria-label": "Main" });

  connectedCallback(): void {
    const main = h("main", { id: "main", tabindex: "-1" });
    this.links = nav.map(([path, label]) => h("a", { href: Router.href(path), "data-path": path }, label));
    this.navEl.replaceChildren(h("ul", null, this.links.map((a) => h("li", null, a))));
    const logout = h("button", { type: "button", class: "link", onclick: () => this.logout() }, "Sign out");
    this.replaceChildren(
      h("a", { class: "skip", href: "#main", onclick: (e: Event) => { e.preventDefault(); main.focus(); } }, "Skip to content"),
      h("header", { class: "top" },
        h("a", { class: "brand", href: Router.href("/fleet") }, h("span", { class: "logo", "aria-hidden": "true" }, "◆"), "omadm"),
        this.navEl, this.status, logout),
      main,
      h("div", { id: "announcer", class: "sr-only", role: "status", "aria-live": "polite" }),
    );
    router.addEventListener("navigate", () => this.sync());
    store.addEventListener("status", () => this.sync());
    router.start(main);
    this.sync();
  }

  private sync(): void {
    const authed = session.loggedIn();
    this.navEl.hidden = !authed;
    for (const a of this.links) {
      const on = router.current.startsWith(a.dataset.path ?? "") || (a.dataset.path === "/fleet" && router.current.startsWith("/devices"));
      if (on) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    const s = store.status;
    this.status.className = "stream-status " + s;
    this.status.textContent = authed ? (s === "live" ? "● live" : s === "connecting" ? "○ connecting…" : "○ offline") : "";
    this.status.title = store.statusDetail;
    (this.querySelector("button.link") as HTMLElement).hidden = !authed;
  }

  private logout(): void {
    session.clear();
    store.disconnect();
    router.go("/login");
  }
}
