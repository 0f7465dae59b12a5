// <omadm-job-form device="…"> queues one command; <omadm-job-table
// device="…"> lists the device's jobs, kept current by the live stream.

import { api, store } from "../app";
import { Job, JobItem, JobRequest } from "../api/gen";
import { badge, errorText, field, h, replace, when } from "../dom";
import { statusText } from "../status";

export class JobForm extends HTMLElement {
  connectedCallback(): void {
    const device = this.getAttribute("device") ?? "";
    const command = h("select", { name: "command" }, ["Get", "Replace", "Add", "Delete", "Exec"].map((c) => h("option", null, c)));
    const uri = h("input", { name: "uri", placeholder: "./DevInfo/Mod", required: true });
    const data = h("input", { name: "data", placeholder: "value" });
    const format = h("select", { name: "format" }, ["", "chr", "int", "bool", "b64", "xml", "node"].map((f) => h("option", { value: f }, f || "(default)")));
    const notify = h("input", { type: "checkbox", name: "notify", checked: true });
    const msg = h("span", { role: "status", class: "muted" });
    const form = h("form", { class: "card inline", "aria-label": "Queue a command" },
      field("Command", command), field("URI", uri), field("Data", data), field("Format", format),
      h("label", { class: "check" }, notify, "Notify now"),
      h("button", { type: "submit", class: "primary" }, "Queue"), msg);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const req: JobRequest = { command: command.value as JobRequest["command"], notify: notify.checked, items: [{ uri: uri.value.trim() }] };
      const it = req.items![0];
      if (command.value === "Replace" || command.value === "Add" || command.value === "Exec") {
        if (data.value !== "" || command.value !== "Exec") it.data = data.value;
        if (format.value) it.format = format.value as JobItem["format"];
        else if (command.value !== "Exec") it.format = command.value === "Add" && data.value === "" ? "node" : "chr";
        if (it.format === "node") delete it.data;
      }
      try {
        const j = await api.createJob(device, req);
        msg.textContent = `Queued job ${j.id}` + (j.warning ? " — " + j.warning : "");
      } catch (x) {
        msg.textContent = errorText(x);
      }
    });
    this.replaceChildren(form);
  }
}

export class JobTable extends HTMLElement {
  private jobs: Job[] = [];
  private body = h("tbody");
  private err = h("p", { class: "error", role: "alert" });
  private unsub: (() => void)[] = [];

  connectedCallback(): void {
    const device = this.getAttribute("device") ?? "";
    this.replaceChildren(h("section", { class: "card", "aria-labelledby": "jobs-h" },
      h("h2", { id: "jobs-h" }, "Jobs"), this.err,
      h("table", { class: "jobs" }, h("thead", null, h("tr", null,
        ["Job", "Command", "URI", "State", "Status", "Result", "Created", ""].map((x) => h("th", { scope: "col" }, x)))), this.body)));
    const load = async (): Promise<void> => {
      try {
        const l = await api.listJobs(device, { limit: 1000 });
        this.jobs = l.jobs.slice().reverse();
        this.render();
      } catch (e) {
        this.err.textContent = errorText(e);
      }
    };
    this.unsub.push(store.subscribe({ device, kinds: ["job"] }, (u) => {
      if (!u.job) return;
      const i = this.jobs.findIndex((j) => j.id === u.job!.id);
      if (i >= 0) this.jobs[i] = u.job;
      else this.jobs.unshift(u.job);
      this.render();
    }));
    this.unsub.push(store.onResync(() => void load()));
    void load();
  }

  disconnectedCallback(): void {
    this.unsub.forEach((f) => f());
  }

  private render(): void {
    replace(this.body, this.jobs.map((j) => {
      const res = j.error || j.results.map((r) => `${r.uri} = ${r.data}`).join("\n");
      const cancel = j.state === "queued" || j.state === "sent"
        ? h("button", { type: "button", class: "small", onclick: () => void api.cancelJob(j.id).catch((e: unknown) => (this.err.textContent = errorText(e))) }, "Cancel")
        : null;
      return h("tr", { "data-job": String(j.id) },
        h("td", null, String(j.id)), h("td", null, j.command), h("td", { class: "mono" }, j.uri),
        h("td", null, badge(j.state)), h("td", null, statusText(j.status)),
        h("td", { class: "mono pre" }, res), h("td", null, when(j.created_at)), h("td", null, cancel));
    }));
    if (!this.jobs.length) this.body.append(h("tr", null, h("td", { colspan: "8", class: "muted" }, "No jobs yet.")));
  }
}
