// <omadm-tree-browser device="…">: the device's management tree. It starts
// from the server's cache of reported values and fetches structure and
// values from the device itself with queued Get jobs (?list=StructData),
// shows a node's properties (?prop=…) and edits it: Replace of the value or
// the ACL, Exec and Delete, each a job the device answers.

import { api, waitJob } from "../app";
import { Job, JobItem, JobRequest, ResultItem } from "../api/gen";
import { errorText, field, h, replace } from "../dom";
import { statusOK, statusText } from "../status";

interface TNode {
  /** key is unique in the browser, for element IDs. */
  key: number;
  uri: string;
  name: string;
  format?: string;
  type?: string;
  value?: string;
  children: Set<string>;
  expanded: boolean;
  fetched: boolean;
}

const formats = ["chr", "int", "bool", "float", "date", "time", "b64", "bin", "xml", "null", "node"];

export class TreeBrowser extends HTMLElement {
  private device = "";
  private nodes = new Map<string, TNode>();
  private selected = ".";
  private nextKey = 0;
  private treeEl = h("ul", { role: "tree", "aria-label": "Management tree", class: "tree" });
  private detail = h("section", { class: "card node-detail", "aria-live": "polite", "aria-labelledby": "node-h" });
  private status = h("p", { class: "muted job-status", role: "status" });
  private abort = new AbortController();

  connectedCallback(): void {
    this.device = this.getAttribute("device") ?? "";
    this.node(".");
    this.treeEl.addEventListener("keydown", (e) => this.keys(e));
    const fetchRoot = h("button", { type: "button", class: "primary", onclick: () => void this.fetchFromDevice(".") }, "Fetch tree from device");
    this.replaceChildren(
      h("div", { class: "toolbar" }, fetchRoot, this.status),
      h("div", { class: "tree-layout" }, h("div", { class: "card tree-pane" }, this.treeEl), this.detail));
    this.render();
    void this.loadCache();
  }

  disconnectedCallback(): void {
    this.abort.abort();
  }

  private async loadCache(): Promise<void> {
    try {
      const t = await api.getTree(this.device);
      for (const n of t.nodes) this.put(n.uri, n.format, n.type, n.value);
      this.node(".").expanded = true;
      this.render();
    } catch (e) {
      this.status.textContent = errorText(e);
    }
  }

  /** node returns the node at uri, creating it and its ancestors. */
  private node(uri: string): TNode {
    let n = this.nodes.get(uri);
    if (n) return n;
    const i = uri.lastIndexOf("/");
    n = { key: ++this.nextKey, uri, name: i < 0 ? uri : uri.slice(i + 1), children: new Set(), expanded: false, fetched: false };
    this.nodes.set(uri, n);
    if (i > 0) this.node(uri.slice(0, i)).children.add(uri);
    return n;
  }

  private put(uri: string, format?: string, type?: string, value?: string): TNode {
    uri = normalize(uri);
    const n = this.node(uri);
    if (format) n.format = format;
    if (type) n.type = type;
    if (value !== undefined && format !== "node") n.value = value;
    return n;
  }

  /** run queues a job with a notification and waits for the device's answer. */
  private async run(what: string, req: JobRequest): Promise<Job> {
    req.notify = true;
    const j = await api.createJob(this.device, req);
    this.status.textContent = `${what}: job ${j.id} queued, waiting for the device…` + (j.warning ? " (" + j.warning + ")" : "");
    const done = await waitJob(j.id, this.abort.signal);
    this.status.textContent = `${what}: ${done.state}, ${statusText(done.status)}` + (done.error ? " — " + done.error : "");
    return done;
  }

  private async fetchFromDevice(uri: string): Promise<void> {
    try {
      const j = await this.run("Fetch " + uri, { command: "Get", items: [{ uri: uri + "?list=StructData" }] });
      if (!statusOK(j.status)) return;
      for (const r of j.results) this.put(r.uri, r.format, r.type, r.data);
      const n = this.node(uri);
      n.fetched = true;
      n.expanded = true;
      for (const r of j.results) {
        const x = this.nodes.get(normalize(r.uri));
        if (x) x.fetched = true;
      }
      this.render();
    } catch (e) {
      this.status.textContent = errorText(e);
    }
  }

  private render(): void {
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.uri;
    replace(this.treeEl, this.item(this.node(".")));
    if (focused) this.treeEl.querySelector<HTMLElement>(`[data-uri="${CSS.escape(focused)}"]`)?.focus();
    this.renderDetail();
  }

  private item(n: TNode, level = 1): HTMLLIElement {
    const interior = n.children.size > 0 || n.format === "node" || n.uri === ".";
    const open = interior && n.expanded && n.children.size > 0;
    const groupId = "tree-group-" + n.key;
    // The focusable label is the tree item; it owns the group of its children.
    const label = h("span", {
      role: "treeitem", "aria-level": String(level), "aria-selected": String(n.uri === this.selected),
      "aria-expanded": interior ? String(n.expanded) : null, "aria-owns": open ? groupId : null,
      class: "node" + (n.uri === this.selected ? " selected" : ""), "data-uri": n.uri,
      tabindex: n.uri === this.selected ? "0" : "-1",
      onclick: () => this.select(n.uri),
    }, h("span", { class: "twisty", "aria-hidden": "true" }, interior ? (n.expanded ? "▾" : "▸") : "·"),
    n.name, n.value !== undefined && !interior ? h("span", { class: "value" }, " = " + n.value) : null);
    const li = h("li", { role: "none" }, label);
    if (open) {
      const kids = [...n.children].sort().map((c) => this.item(this.nodes.get(c)!, level + 1));
      li.append(h("ul", { role: "group", id: groupId }, kids));
    }
    return li;
  }

  private select(uri: string): void {
    const n = this.node(uri);
    this.selected = uri;
    if (n.children.size > 0 || n.format === "node" || uri === ".") n.expanded = !n.expanded || uri !== this.selected;
    this.render();
    this.treeEl.querySelector<HTMLElement>(`[data-uri="${CSS.escape(uri)}"]`)?.focus();
  }

  /** keys: the ARIA tree pattern (arrows, Home/End, Enter). */
  private keys(e: KeyboardEvent): void {
    const items = [...this.treeEl.querySelectorAll<HTMLElement>(".node")];
    const cur = document.activeElement as HTMLElement;
    const i = items.indexOf(cur);
    if (i < 0) return;
    const n = this.node(cur.dataset.uri!);
    const move = (j: number): void => {
      const t = items[Math.max(0, Math.min(items.length - 1, j))];
      items.forEach((x) => (x.tabIndex = -1));
      t.tabIndex = 0;
      t.focus();
    };
    switch (e.key) {
      case "ArrowDown": move(i + 1); break;
      case "ArrowUp": move(i - 1); break;
      case "Home": move(0); break;
      case "End": move(items.length - 1); break;
      case "ArrowRight":
        if (!n.expanded && (n.children.size > 0 || n.format === "node")) { n.expanded = true; this.render(); } else move(i + 1);
        break;
      case "ArrowLeft":
        if (n.expanded) { n.expanded = false; this.render(); } else {
          const p = n.uri.lastIndexOf("/");
          if (p > 0) move(items.findIndex((x) => x.dataset.uri === n.uri.slice(0, p)));
        }
        break;
      case "Enter": case " ":
        this.selected = n.uri;
        this.render();
        break;
      default: return;
    }
    e.preventDefault();
  }

  private renderDetail(): void {
    const n = this.node(this.selected);
    const interior = n.format === "node" || n.children.size > 0 || n.uri === ".";
    const props = h("dl", { class: "kv props" });
    const showProps = (rs: ResultItem[]): void => {
      replace(props, rs.flatMap((r) => [h("dt", null, r.uri.split("?prop=")[1] ?? r.uri),
        h("dd", null, r.status ? statusText(r.status) : r.data)]));
    };
    const value = h("input", { name: "value", value: n.value ?? "", "aria-label": "New value" });
    const format = h("select", { name: "format", "aria-label": "Format" },
      formats.filter((f) => f !== "node").map((f) => h("option", { value: f }, f)));
    type Format = NonNullable<JobItem["format"]>;
    format.value = n.format && n.format !== "node" ? n.format : "chr";
    const acl = h("input", { name: "acl", placeholder: "Get=*&Replace=omadm", "aria-label": "New ACL" });
    const execData = h("input", { name: "exec-data", placeholder: "optional data", "aria-label": "Exec data" });
    const actions = h("div", { class: "node-actions" });

    const replaceForm = h("form", { class: "inline", "aria-label": "Replace value" },
      field("Value", value), field("Format", format), h("button", { type: "submit", class: "primary" }, "Replace"));
    replaceForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const j = await this.run("Replace " + n.uri, { command: "Replace", items: [{ uri: n.uri, format: format.value as Format, data: value.value }] });
        if (statusOK(j.status)) await this.read(n);
      } catch (x) {
        this.status.textContent = errorText(x);
      }
    });
    const aclForm = h("form", { class: "inline", "aria-label": "Replace ACL" },
      field("ACL", acl), h("button", { type: "submit" }, "Replace ACL"));
    aclForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await this.run("Replace ACL of " + n.uri, { command: "Replace", items: [{ uri: n.uri + "?prop=ACL", format: "chr", data: acl.value }] });
        await this.props(n, showProps);
      } catch (x) {
        this.status.textContent = errorText(x);
      }
    });
    const execForm = h("form", { class: "inline", "aria-label": "Exec" },
      field("Exec data", execData), h("button", { type: "submit" }, "Exec"));
    execForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await this.run("Exec " + n.uri, { command: "Exec", items: [{ uri: n.uri, ...(execData.value ? { data: execData.value } : {}) }] });
      } catch (x) {
        this.status.textContent = errorText(x);
      }
    });
    actions.append(h("button", { type: "button", onclick: () => void (interior ? this.fetchFromDevice(n.uri) : this.read(n)) }, interior ? "Fetch subtree" : "Read value"),
      h("button", { type: "button", onclick: () => void this.props(n, showProps) }, "Properties"));
    if (n.uri !== ".") actions.append(h("button", { type: "button", class: "danger", onclick: () => void this.deleteNode(n) }, "Delete"));
    replace(this.detail,
      h("h2", { id: "node-h" }, n.uri),
      h("dl", { class: "kv" },
        h("dt", null, "Format"), h("dd", null, n.format ?? "unknown"),
        h("dt", null, "Type"), h("dd", null, n.type || "–"),
        interior ? null : [h("dt", null, "Value"), h("dd", { class: "node-value" }, n.value ?? "unknown")]),
      actions, props,
      interior ? null : replaceForm, n.uri !== "." ? aclForm : null, execForm);
  }

  private async read(n: TNode): Promise<void> {
    try {
      const j = await this.run("Read " + n.uri, { command: "Get", items: [{ uri: n.uri }] });
      for (const r of j.results) this.put(r.uri, r.format, r.type, r.data);
      this.render();
    } catch (e) {
      this.status.textContent = errorText(e);
    }
  }

  private async props(n: TNode, show: (rs: ResultItem[]) => void): Promise<void> {
    try {
      const names = ["ACL", "Format", "Type", "Title", "TStamp", "VerNo", "Size"];
      const j = await this.run("Properties of " + n.uri, { command: "Get", items: names.map((p) => ({ uri: n.uri + "?prop=" + p })) });
      show(j.results);
    } catch (e) {
      this.status.textContent = errorText(e);
    }
  }

  private async deleteNode(n: TNode): Promise<void> {
    if (!confirm(`Delete ${n.uri} on the device?`)) return;
    try {
      const j = await this.run("Delete " + n.uri, { command: "Delete", items: [{ uri: n.uri }] });
      if (statusOK(j.status)) {
        const p = n.uri.lastIndexOf("/");
        if (p > 0) this.node(n.uri.slice(0, p)).children.delete(n.uri);
        this.nodes.delete(n.uri);
        this.selected = p > 0 ? n.uri.slice(0, p) : ".";
        this.render();
      }
    } catch (e) {
      this.status.textContent = errorText(e);
    }
  }
}

/** normalize writes a URI the way the tree keys it: "./A/B", no query. */
function normalize(uri: string): string {
  uri = uri.split("?")[0].replace(/\/+$/, "");
  if (uri === "" || uri === ".") return ".";
  return uri.startsWith("./") ? uri : "./" + uri.replace(/^\//, "");
}
