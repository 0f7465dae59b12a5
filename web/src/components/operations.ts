// <omadm-op-form [device="…"]>: a form for each operation of each MO, built
// from the descriptors the server lists (GET /mos). <omadm-op-list
// device="…">: the device's operations with their progress, live.

import { api, opTerminal, store, upsertOperation } from "../app";
import { MO, MOOperation, Operation, OperationRequest } from "../api/gen";
import { badge, errorText, field, h, replace, when } from "../dom";
import { Router } from "../router";

/** OpTemplate is an operation request without its device. */
export interface OpTemplate {
  mo: string;
  operation: string;
  params: Record<string, unknown>;
  node?: string;
  timeout?: string;
}

let mosCache: Promise<MO[]> | null = null;

/** mos lists the server's MO descriptors (read once). */
export function mos(): Promise<MO[]> {
  if (!mosCache) mosCache = api.listMOs().then((l) => l.mos, (e: unknown) => { mosCache = null; throw e; });
  return mosCache;
}

export class OpForm extends HTMLElement {
  private device = "";
  private moSel = h("select", { name: "mo" });
  private opSel = h("select", { name: "operation" });
  private params = h("fieldset", { class: "params" });
  private node = h("input", { name: "node" });
  private timeout = h("input", { name: "timeout", placeholder: "default" });
  private notify = h("input", { type: "checkbox", name: "notify", checked: true });
  private msg = h("p", { role: "status", class: "muted" });
  private list: MO[] = [];
  private packages = h("datalist", { id: "pkg-urls-" + Math.random().toString(36).slice(2) });

  connectedCallback(): void {
    this.device = this.getAttribute("device") ?? "";
    // mode="template": only the operation's fields, read by an enclosing
    // form through template() (a campaign's operation).
    const tmpl = this.getAttribute("mode") === "template";
    const dev = h("input", { name: "device", required: true, placeholder: "IMEI:…", value: this.device });
    const fields = [
      h("div", { class: "inline" },
        this.device || tmpl ? null : field("Device", dev),
        field("Object", this.moSel), field("Operation", this.opSel), field("Node", this.node, "MO instance on the device")),
      this.params,
      h("div", { class: "inline" }, field("Timeout", this.timeout, "e.g. 90s, 2h"),
        tmpl ? null : h("label", { class: "check" }, this.notify, "Notify the device now"),
        tmpl ? null : h("button", { type: "submit", class: "primary" }, "Start")),
      this.msg];
    if (tmpl) {
      this.replaceChildren(h("fieldset", { class: "op-template" }, h("legend", null, "Operation"), fields));
      this.loadMOs();
      return;
    }
    const form = h("form", { class: "card op-form", "aria-labelledby": "op-form-h" },
      h("h2", { id: "op-form-h" }, "New operation"), fields);
    this.moSel.addEventListener("change", () => this.fillOps());
    this.opSel.addEventListener("change", () => this.fillParams());
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.submit(this.device || dev.value.trim());
    });
    this.replaceChildren(form);
    this.loadMOs();
  }

  private loadPackages(): void {
    this.append(this.packages);
    api.listPackages().then((l) => replace(this.packages, l.flatMap((p) => [
      p.url ? h("option", { value: p.url }, `${p.name} ${p.version} (${p.size} bytes)`) : null,
      p.descriptor_url ? h("option", { value: p.descriptor_url }, `${p.name} ${p.version} download descriptor`) : null,
    ])), () => { /* no catalogue: free text only */ });
  }

  private loadMOs(): void {
    this.loadPackages();
    mos().then((l) => {
      this.list = l;
      replace(this.moSel, l.map((m) => h("option", { value: m.name }, m.name.toUpperCase())));
      this.fillOps();
    }, (e: unknown) => (this.msg.textContent = errorText(e)));
  }

  private mo(): MO | undefined {
    return this.list.find((m) => m.name === this.moSel.value);
  }

  private op(): MOOperation | undefined {
    return this.mo()?.operations.find((o) => o.name === this.opSel.value);
  }

  private fillOps(): void {
    const m = this.mo();
    if (!m) return;
    replace(this.opSel, m.operations.map((o) => h("option", { value: o.name }, o.name)));
    if (m.default_operation) this.opSel.value = m.default_operation;
    this.node.placeholder = m.default_node;
    this.fillParams();
  }

  private fillParams(): void {
    const op = this.op();
    replace(this.params, h("legend", null, "Parameters"));
    if (!op || op.params.length === 0) {
      this.params.append(h("p", { class: "muted" }, "This operation takes no parameters."));
      return;
    }
    for (const p of op.params) {
      const name = "param-" + p.name;
      let ctl: HTMLInputElement;
      let hint = `writes ${p.node}`;
      if (p.list) {
        ctl = h("input", { name, required: p.required, placeholder: "names, comma separated" });
        hint = `list of node names (at most ${p.max_items ?? 64}); writes ${p.node}`;
      } else if (p.format === "bool") {
        ctl = h("input", { name, type: "checkbox" });
        this.params.append(h("label", { class: "check" }, ctl, label(p.name), h("small", { class: "hint" }, hint)));
        continue;
      } else if (p.format === "int") {
        ctl = h("input", { name, type: "number", required: p.required });
      } else if (p.name.endsWith("url")) {
        // Offer the server's package catalogue; any URL may still be typed.
        ctl = h("input", { name, required: p.required, type: "url", list: this.packages.id });
        hint += " · packages uploaded to the server are offered";
      } else {
        ctl = h("input", { name, required: p.required });
      }
      this.params.append(field(label(p.name) + (p.required ? " (required)" : ""), ctl, hint));
    }
  }

  /** template is the operation the form describes, without a device. */
  template(): OpTemplate | null {
    const op = this.op();
    const m = this.mo();
    if (!op || !m) return null;
    return { mo: m.name, operation: op.name, params: this.paramValues(op),
      node: this.node.value.trim() || undefined, timeout: this.timeout.value.trim() || undefined };
  }

  private paramValues(op: MOOperation): Record<string, unknown> {
    const params: Record<string, unknown> = {};
    for (const p of op.params) {
      const el = this.params.querySelector<HTMLInputElement>(`[name="param-${p.name}"]`);
      if (!el) continue;
      if (p.list) {
        const v = el.value.split(",").map((s) => s.trim()).filter(Boolean);
        if (v.length) params[p.name] = v;
      } else if (p.format === "bool") {
        params[p.name] = el.checked;
      } else if (el.value !== "") {
        params[p.name] = p.format === "int" ? Number(el.value) : el.value;
      }
    }
    return params;
  }

  private async submit(device: string): Promise<void> {
    const t = this.template();
    if (!t || !device) return;
    this.msg.textContent = "";
    try {
      const o = await api.createOperation(device, { ...t, mo: t.mo as OperationRequest["mo"], notify: this.notify.checked });
      this.msg.textContent = `Operation ${o.id} started (${o.state})` + (o.warning ? " — " + o.warning : "");
      store.publish({ kind: "operation", seq: 0, time: o.created_at, device, operation: o });
    } catch (e) {
      this.msg.textContent = errorText(e);
    }
  }
}

function label(param: string): string {
  const s = param.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const steps = ["queued", "sent", "accepted", "done"];

/** progress shows where an operation is: queued → sent → accepted → result,
 * and, when its retry policy allows more than one, which attempt it is on
 * (in retry_wait, when the next starts). */
export function progress(o: Operation): HTMLElement {
  const at = opTerminal(o.state) ? 3 : steps.indexOf(o.state);
  const bar = h("progress", { max: "3", value: String(Math.max(0, at)), "aria-label": `Operation ${o.id}: ${o.state}` });
  const tries = o.max_attempts > 1
    ? h("small", { class: "op-attempts" }, `attempt ${o.attempts}/${o.max_attempts}` + (o.next_attempt_at ? ` · next ${when(o.next_attempt_at)}` : ""))
    : null;
  return h("div", { class: "op-progress" }, bar, badge(o.state), tries);
}

export class OpList extends HTMLElement {
  private ops: Operation[] = [];
  private body = h("tbody");
  private err = h("p", { class: "error", role: "alert" });
  private unsub: (() => void)[] = [];

  connectedCallback(): void {
    const device = this.getAttribute("device") ?? "";
    this.replaceChildren(h("section", { class: "card", "aria-labelledby": "ops-h" },
      h("h2", { id: "ops-h" }, "Operations"), this.err,
      h("table", { class: "ops" }, h("thead", null, h("tr", null,
        ["Operation", "Object", "Progress", "Result", "Started", ""].map((x) => h("th", { scope: "col" }, x)))), this.body)));
    const load = async (): Promise<void> => {
      try {
        const l = device ? await api.listOperations(device, { limit: 200 }) : { operations: [] };
        // Updates that came while the list was read may be newer than it.
        const seen = this.ops;
        this.ops = l.operations.slice().reverse();
        for (const o of seen) upsertOperation(this.ops, o);
        if (!device) {
          for (const u of store.recent.slice().reverse()) if (u.operation) upsertOperation(this.ops, u.operation);
        }
        this.render();
      } catch (e) {
        this.err.textContent = errorText(e);
      }
    };
    this.unsub.push(store.subscribe({ device: device || undefined, kinds: ["operation"] }, (u) => {
      if (u.operation) {
        upsertOperation(this.ops, u.operation);
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
    const global = !this.getAttribute("device");
    replace(this.body, this.ops.map((o) => {
      const res = o.result ? `${o.result}${o.meaning ? " " + o.meaning : ""}` : o.error || "–";
      const cancel = opTerminal(o.state) ? null
        : h("button", { type: "button", class: "small", onclick: () => void api.cancelOperation(o.id).then((x) => { upsertOperation(this.ops, x); this.render(); }, (e: unknown) => (this.err.textContent = errorText(e))) }, "Cancel");
      // A queued operation waits for the device's next session: offer to
      // send package 0 again (a device may have missed the first one).
      const nudge = o.state === "queued"
        ? h("button", { type: "button", class: "small notify", onclick: () => void api.notifyDevice(o.device).catch((e: unknown) => (this.err.textContent = errorText(e))) }, "Notify")
        : null;
      return h("tr", { "data-op": String(o.id), "data-state": o.state },
        h("td", null, `#${o.id} ${o.operation}`, global ? [h("br"), h("a", { href: Router.href("/devices/" + encodeURIComponent(o.device) + "/operations") }, o.device)] : null),
        h("td", null, o.mo.toUpperCase(), h("br"), h("small", { class: "mono" }, o.node)),
        h("td", null, progress(o)),
        h("td", { class: "op-result" }, res),
        h("td", null, when(o.created_at)), h("td", { class: "row-actions" }, nudge, cancel));
    }));
    if (!this.ops.length) this.body.append(h("tr", null, h("td", { colspan: "6", class: "muted" }, "No operations yet.")));
  }
}
