// A small hash router: #/path?query → a view element. Views are custom
// elements; params come in as attributes. Moving to a view puts the focus on
// its heading so screen readers announce the new page.

import { announce } from "./dom";
import { session } from "./session";

export interface RouteDef {
  /** pattern like "/devices/:id/:tab?" */
  path: string;
  title: string;
  /** public routes need no token */
  public?: boolean;
  render(params: Record<string, string>, query: URLSearchParams): HTMLElement;
}

interface Compiled extends RouteDef {
  re: RegExp;
  keys: string[];
}

export class Router extends EventTarget {
  private routes: Compiled[] = [];
  private outlet: HTMLElement | null = null;
  current = "";

  define(defs: RouteDef[]): void {
    this.routes = defs.map((d) => {
      const keys: string[] = [];
      const re = d.path.replace(/\/:(\w+)(\?)?/g, (_m, k: string, opt?: string) => {
        keys.push(k);
        return opt ? "(?:/([^/]+))?" : "/([^/]+)";
      });
      return { ...d, keys, re: new RegExp("^" + re + "/?$") };
    });
  }

  start(outlet: HTMLElement): void {
    this.outlet = outlet;
    window.addEventListener("hashchange", () => this.render());
    this.render();
  }

  /** go navigates to path ("/devices/x"). */
  go(path: string): void {
    if (location.hash === "#" + path) this.render();
    else location.hash = "#" + path;
  }

  /** href is the link target for path. */
  static href(path: string): string {
    return "#" + path;
  }

  private render(): void {
    if (!this.outlet) return;
    const raw = location.hash.replace(/^#/, "") || "/fleet";
    const [path, qs] = raw.split("?", 2);
    const query = new URLSearchParams(qs ?? "");
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      if (!r.public && !session.loggedIn()) {
        this.go("/login?next=" + encodeURIComponent(raw));
        return;
      }
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => {
        if (m[i + 1] !== undefined) params[k] = decodeURIComponent(m[i + 1]);
      });
      this.current = path;
      // A control that is in the new view too (a device's tabs) keeps the
      // focus; otherwise it goes to the view's heading.
      const keep = (document.activeElement as HTMLElement | null)?.id;
      const view = r.render(params, query);
      this.outlet.replaceChildren(view);
      document.title = r.title + " · omadm";
      this.dispatchEvent(new Event("navigate"));
      const same = keep ? view.querySelector<HTMLElement>("#" + CSS.escape(keep)) : null;
      const heading = view.querySelector<HTMLElement>("h1, h2");
      if (same) {
        same.focus();
      } else if (heading) {
        heading.tabIndex = -1;
        heading.focus();
      }
      announce(r.title);
      return;
    }
    this.go("/fleet");
  }
}
