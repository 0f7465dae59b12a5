// Small DOM helpers. Every value from the server goes in as text (text
// nodes, textContent, attributes), never as HTML.

export type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | EventListener | null | undefined>;

/** h creates an element with attributes, event listeners (on*) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") {
        el.addEventListener(k.slice(2), v);
      } else if (k === "class") {
        el.className = String(v);
      } else if (k === "value" && "value" in el) {
        (el as HTMLInputElement).value = String(v);
      } else if (k === "checked" && "checked" in el) {
        (el as HTMLInputElement).checked = Boolean(v);
      } else {
        el.setAttribute(k, v === true ? "" : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el: Element, children: (Child | Child[])[]): void {
  for (const c of children) {
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.append(c);
    else if (c !== null && c !== undefined && c !== false) el.append(document.createTextNode(String(c)));
  }
}

/** replace sets the children of el. */
export function replace(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

/** when formats a timestamp for people ("–" when absent). */
export function when(t: string | null | undefined): string {
  if (!t) return "–";
  const d = new Date(t);
  return isNaN(d.getTime()) ? t : d.toLocaleString();
}

/** ago says how long ago t was, roughly. */
export function ago(t: string | null | undefined): string {
  if (!t) return "never";
  const s = Math.round((Date.now() - new Date(t).getTime()) / 1000);
  if (s < 60) return "just now";
  if (s < 3600) return Math.floor(s / 60) + " min ago";
  if (s < 86400) return Math.floor(s / 3600) + " h ago";
  return Math.floor(s / 86400) + " d ago";
}

/** badge is a small coloured state label. */
export function badge(state: string): HTMLSpanElement {
  return h("span", { class: "badge state-" + state.replace(/[^a-z_]/gi, "") }, state);
}

/** table builds an accessible table from headers and rows. */
export function table(caption: string, headers: string[], rows: Child[][], attrs?: Attrs): HTMLTableElement {
  return h("table", attrs ?? null,
    h("caption", { class: "sr-only" }, caption),
    h("thead", null, h("tr", null, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", null, rows.map((r) => h("tr", null, r.map((c) => h("td", null, c))))));
}

let hints = 0;

/** field is a labelled form control. A hint is its description, not part
 * of its name: screen readers say the label, then the hint. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLLabelElement {
  let note: HTMLElement | null = null;
  if (hint) {
    note = h("small", { class: "hint", id: "hint-" + ++hints }, hint);
    control.setAttribute("aria-label", label);
    control.setAttribute("aria-describedby", note.id);
  }
  return h("label", { class: "field" }, h("span", { class: "label" }, label), control, note);
}

/** errorText is the message of anything thrown. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** announce tells screen readers about something that happened off focus. */
export function announce(msg: string): void {
  const live = document.getElementById("announcer");
  if (live) live.textContent = msg;
}
