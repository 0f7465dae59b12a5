// src/api/gen.ts
var Api = class {
  constructor(t) {
    this.t = t;
  }
  t;
  /** POST /api/v1/campaigns/{cid}/cancel: cancel a campaign: devices not started end cancelled, open operations are cancelled */
  cancelCampaign(cid) {
    return this.t.request("POST", `/api/v1/campaigns/${encodeURIComponent(String(cid))}/cancel`, void 0, void 0);
  }
  /** POST /api/v1/jobs/{jobid}/cancel: cancel a queued or sent job */
  cancelJob(jobid) {
    return this.t.request("POST", `/api/v1/jobs/${encodeURIComponent(String(jobid))}/cancel`, void 0, void 0);
  }
  /** POST /api/v1/operations/{opid}/cancel: cancel an open operation: a queued or sent one has its job cancelled (a command not yet out never goes out); an accepted one (the device answered its Exec 202 and runs it) is only marked cancelled: a report the device still sends is kept as an event but changes nothing */
  cancelOperation(opid) {
    return this.t.request("POST", `/api/v1/operations/${encodeURIComponent(String(opid))}/cancel`, void 0, void 0);
  }
  /** PATCH /api/v1/devices/{id}/labels: set and remove labels of one device */
  changeDeviceLabels(id, body) {
    return this.t.request("PATCH", `/api/v1/devices/${encodeURIComponent(String(id))}/labels`, void 0, body);
  }
  /** PATCH /api/v1/groups/{name}/members: add and remove members of a static group by device id (all or nothing) */
  changeGroupMembers(name, body) {
    return this.t.request("PATCH", `/api/v1/groups/${encodeURIComponent(String(name))}/members`, void 0, body);
  }
  /** POST /api/v1/devices/labels: set and remove labels of every device a selector matches */
  changeLabelsBySelector(body) {
    return this.t.request("POST", `/api/v1/devices/labels`, void 0, body);
  }
  /** POST /api/v1/bootstrap: generate DM bootstrap profiles (this server's DMAcc account) for devices, optionally protected and pushed over WAP push */
  createBootstrap(body) {
    return this.t.request("POST", `/api/v1/bootstrap`, void 0, body);
  }
  /** POST /api/v1/campaigns: create a campaign: the targets are snapshotted (one row per device) and the scheduler rolls the operation out in waves under the policy */
  createCampaign(body) {
    return this.t.request("POST", `/api/v1/campaigns`, void 0, body);
  }
  /** POST /api/v1/devices: enrol a device with its credentials */
  createDevice(body) {
    return this.t.request("POST", `/api/v1/devices`, void 0, body);
  }
  /** POST /api/v1/devices/{id}/fumo: queue a firmware update over FUMO: one job, a Sequence of the Replace of <node>/<operation>/PkgURL and the Exec of <node>/<operation> (the Exec alone for Update); the job spec carries the correlator of the device's 1226 report; creates an operation (see POST /devices/{id}/operations), shown on the job */
  createFUMO(id, body) {
    return this.t.request("POST", `/api/v1/devices/${encodeURIComponent(String(id))}/fumo`, void 0, body);
  }
  /** POST /api/v1/groups: create a static group (members by id) or a dynamic group (a saved selector) */
  createGroup(body) {
    return this.t.request("POST", `/api/v1/groups`, void 0, body);
  }
  /** POST /api/v1/devices/{id}/jobs: queue a command for the device */
  createJob(id, body) {
    return this.t.request("POST", `/api/v1/devices/${encodeURIComponent(String(id))}/jobs`, void 0, body);
  }
  /** POST /api/v1/devices/{id}/lawmo: queue a LAWMO operation: one job, a Sequence of the Replaces of its parameters (LAWMOConfig/NotifyUser, AvailableWipeList/<n>/ToBeWiped) and the Exec of <node>/Operations/<operation>; a parameter the device refuses stops the Exec; creates an operation (see POST /devices/{id}/operations), shown on the job */
  createLAWMO(id, body) {
    return this.t.request("POST", `/api/v1/devices/${encodeURIComponent(String(id))}/lawmo`, void 0, body);
  }
  /** POST /api/v1/devices/{id}/operations: start an operation: a named MO action (FUMO, LAWMO, or a generic Exec) queued as one job (a Sequence of the parameters' Replaces and the Exec) with a correlator; the server follows the job and attaches the device's 1226 report (result code and data) to the operation and its job; it times out after its timeout */
  createOperation(id, body) {
    return this.t.request("POST", `/api/v1/devices/${encodeURIComponent(String(id))}/operations`, void 0, body);
  }
  /** POST /api/v1/profiles: store a connectivity profile (apn or wifi) that operations of mo connmo apply to devices */
  createProfile(body) {
    return this.t.request("POST", `/api/v1/profiles`, void 0, body);
  }
  /** POST /api/v1/tokens: create a named API token; the answer holds its plaintext, shown once (the server keeps only its SHA-256) */
  createToken(body) {
    return this.t.request("POST", `/api/v1/tokens`, void 0, body);
  }
  /** DELETE /api/v1/devices/{id}: remove the device and everything that belongs to it */
  deleteDevice(id) {
    return this.t.request("DELETE", `/api/v1/devices/${encodeURIComponent(String(id))}`, void 0, void 0);
  }
  /** DELETE /api/v1/groups/{name}: delete a group and its member list (the devices stay) */
  deleteGroup(name) {
    return this.t.request("DELETE", `/api/v1/groups/${encodeURIComponent(String(name))}`, void 0, void 0);
  }
  /** DELETE /api/v1/packages/{pkgid}: delete a package */
  deletePackage(pkgid) {
    return this.t.request("DELETE", `/api/v1/packages/${encodeURIComponent(String(pkgid))}`, void 0, void 0);
  }
  /** DELETE /api/v1/profiles/{name}: delete a profile (devices keep what was applied) */
  deleteProfile(name) {
    return this.t.request("DELETE", `/api/v1/profiles/${encodeURIComponent(String(name))}`, void 0, void 0);
  }
  /** GET /api/v1/devices/{id}/diagnostics/{event}: one DiagMon report or trap of the device */
  deviceDiagnostic(id, event) {
    return this.t.request("GET", `/api/v1/devices/${encodeURIComponent(String(id))}/diagnostics/${encodeURIComponent(String(event))}`, void 0, void 0);
  }
  /** GET /api/v1/devices/{id}/diagnostics: the device's DiagMon reports and traps (1226 alerts of the urn:oma:at:diagmon:1.0 types), oldest first */
  deviceDiagnostics(id, query = {}) {
    return this.t.request("GET", `/api/v1/devices/${encodeURIComponent(String(id))}/diagnostics`, query, void 0);
  }
  /** GET /api/v1/devices/{id}/events: the device's events (generic alerts, session milestones) */
  deviceEvents(id, query = {}) {
    return this.t.request("GET", `/api/v1/devices/${encodeURIComponent(String(id))}/events`, query, void 0);
  }
  /** GET /api/v1/devices/{id}/traces: recent wire traces, oldest first */
  deviceTraces(id, query = {}) {
    return this.t.request("GET", `/api/v1/devices/${encodeURIComponent(String(id))}/traces`, query, void 0);
  }
  /** GET /api/v1/events/stream: server-sent events of live updates (jobs, events, sessions, traces); heartbeat comments keep it open (path only: a stream). */
  static eventStreamPath() {
    return `/api/v1/events/stream`;
  }
  /** GET /api/v1/campaigns/{cid}: one campaign with its progress counts */
  getCampaign(cid) {
    return this.t.request("GET", `/api/v1/campaigns/${encodeURIComponent(String(cid))}`, void 0, void 0);
  }
  /** GET /api/v1/devices/{id}: one device (no secrets) */
  getDevice(id) {
    return this.t.request("GET", `/api/v1/devices/${encodeURIComponent(String(id))}`, void 0, void 0);
  }
  /** GET /api/v1/groups/{name}: one group */
  getGroup(name) {
    return this.t.request("GET", `/api/v1/groups/${encodeURIComponent(String(name))}`, void 0, void 0);
  }
  /** GET /api/v1/jobs/{jobid}: one job with its status and results */
  getJob(jobid) {
    return this.t.request("GET", `/api/v1/jobs/${encodeURIComponent(String(jobid))}`, void 0, void 0);
  }
  /** GET /api/v1/operations/{opid}: one operation with its state and the device's report */
  getOperation(opid) {
    return this.t.request("GET", `/api/v1/operations/${encodeURIComponent(String(opid))}`, void 0, void 0);
  }
  /** GET /api/v1/packages/{pkgid}: one package */
  getPackage(pkgid) {
    return this.t.request("GET", `/api/v1/packages/${encodeURIComponent(String(pkgid))}`, void 0, void 0);
  }
  /** GET /api/v1/profiles/{name}: one connectivity profile */
  getProfile(name) {
    return this.t.request("GET", `/api/v1/profiles/${encodeURIComponent(String(name))}`, void 0, void 0);
  }
  /** GET /api/v1/release-policy: the operator's release policy: which package a device model running a firmware version gets when it asks for an update (FUMO devicerequest alert) */
  getReleasePolicy() {
    return this.t.request("GET", `/api/v1/release-policy`, void 0, void 0);
  }
  /** GET /api/v1/devices/{id}/scomo/inventory: the device's software components as last read (SCOMO Inventory) */
  getSCOMOInventory(id, query = {}) {
    return this.t.request("GET", `/api/v1/devices/${encodeURIComponent(String(id))}/scomo/inventory`, query, void 0);
  }
  /** GET /api/v1/devices/{id}/tree: last known device tree values (from Results) */
  getTree(id, query = {}) {
    return this.t.request("GET", `/api/v1/devices/${encodeURIComponent(String(id))}/tree`, query, void 0);
  }
  /** GET /healthz: liveness: the process is up and serving HTTP (storage is not checked: see /readyz) */
  health() {
    return this.t.request("GET", `/healthz`, void 0, void 0);
  }
  /** POST /api/v1/devices/import: enrol many devices: NDJSON or a JSON array of DeviceCreate records (server_password required) */
  importDevices(body) {
    return this.t.request("POST", `/api/v1/devices/import`, void 0, body);
  }
  /** GET /api/v1/jobs: jobs of all devices ordered by id, paged (e.g. ?state=failed for every failed job of the fleet) */
  listAllJobs(query = {}) {
    return this.t.request("GET", `/api/v1/jobs`, query, void 0);
  }
  /** GET /api/v1/campaigns/{cid}/devices: a campaign's devices and their outcomes, in rollout order */
  listCampaignDevices(cid, query = {}) {
    return this.t.request("GET", `/api/v1/campaigns/${encodeURIComponent(String(cid))}/devices`, query, void 0);
  }
  /** GET /api/v1/campaigns: campaigns with their progress counts, by id */
  listCampaigns(query = {}) {
    return this.t.request("GET", `/api/v1/campaigns`, query, void 0);
  }
  /** GET /api/v1/devices: search devices: filter by selector, sort, page with cursors */
  listDevices(query = {}) {
    return this.t.request("GET", `/api/v1/devices`, query, void 0);
  }
  /** GET /api/v1/events: events of all devices */
  listEvents(query = {}) {
    return this.t.request("GET", `/api/v1/events`, query, void 0);
  }
  /** GET /api/v1/groups/{name}/members: the group's devices (a dynamic group's selector evaluated now), filtered, sorted and paged like GET /devices */
  listGroupMembers(name, query = {}) {
    return this.t.request("GET", `/api/v1/groups/${encodeURIComponent(String(name))}/members`, query, void 0);
  }
  /** GET /api/v1/groups: list groups ordered by name, paged */
  listGroups(query = {}) {
    return this.t.request("GET", `/api/v1/groups`, query, void 0);
  }
  /** GET /api/v1/devices/{id}/jobs: the device's jobs ordered by id, paged */
  listJobs(id, query = {}) {
    return this.t.request("GET", `/api/v1/devices/${encodeURIComponent(String(id))}/jobs`, query, void 0);
  }
  /** GET /api/v1/mos: management objects operations can be run on (POST /devices/{id}/operations), with their operations and parameters, from the MO descriptors */
  listMOs() {
    return this.t.request("GET", `/api/v1/mos`, void 0, void 0);
  }
  /** GET /api/v1/notification-senders: the package 0 senders this server has, by address scheme (read-only: set by omadm serve flags) */
  listNotificationSenders() {
    return this.t.request("GET", `/api/v1/notification-senders`, void 0, void 0);
  }
  /** GET /api/v1/devices/{id}/operations: a device's operations, oldest first */
  listOperations(id, query = {}) {
    return this.t.request("GET", `/api/v1/devices/${encodeURIComponent(String(id))}/operations`, query, void 0);
  }
  /** GET /api/v1/packages: list the catalogue's packages, newest first */
  listPackages() {
    return this.t.request("GET", `/api/v1/packages`, void 0, void 0);
  }
  /** GET /api/v1/profiles: the connectivity profiles by name */
  listProfiles(query = {}) {
    return this.t.request("GET", `/api/v1/profiles`, query, void 0);
  }
  /** GET /api/v1/tokens: the named API tokens by ID (never their plaintext); the bootstrap token of omadm serve is not listed */
  listTokens(query = {}) {
    return this.t.request("GET", `/api/v1/tokens`, query, void 0);
  }
  /** POST /api/v1/devices/{id}/notify: send package 0 now (server-initiated session) */
  notifyDevice(id) {
    return this.t.request("POST", `/api/v1/devices/${encodeURIComponent(String(id))}/notify`, void 0, void 0);
  }
  /** GET /api/v1/openapi.json: this document */
  openapi() {
    return this.t.request("GET", `/api/v1/openapi.json`, void 0, void 0);
  }
  /** POST /api/v1/campaigns/{cid}/pause: stop starting devices (those in flight go on) */
  pauseCampaign(cid, body) {
    return this.t.request("POST", `/api/v1/campaigns/${encodeURIComponent(String(cid))}/pause`, void 0, body);
  }
  /** PUT /api/v1/release-policy: replace the release policy */
  putReleasePolicy(body) {
    return this.t.request("PUT", `/api/v1/release-policy`, void 0, body);
  }
  /** POST /api/v1/devices/{id}/scomo/inventory: queue a Get of the SCOMO Inventory (?list=StructData); its Results become the inventory */
  readSCOMOInventory(id, body) {
    return this.t.request("POST", `/api/v1/devices/${encodeURIComponent(String(id))}/scomo/inventory`, void 0, body);
  }
  /** GET /readyz: readiness: storage answers a ping and every schema migration of this build is applied */
  ready() {
    return this.t.request("GET", `/readyz`, void 0, void 0);
  }
  /** POST /api/v1/campaigns/{cid}/resume: run a paused campaign again; the current wave's failures so far no longer count toward its threshold */
  resumeCampaign(cid) {
    return this.t.request("POST", `/api/v1/campaigns/${encodeURIComponent(String(cid))}/resume`, void 0, void 0);
  }
  /** DELETE /api/v1/tokens/{token}: revoke a named API token: every server node refuses it from the next request on */
  revokeToken(token) {
    return this.t.request("DELETE", `/api/v1/tokens/${encodeURIComponent(String(token))}`, void 0, void 0);
  }
  /** PATCH /api/v1/devices/{id}: change notify address, labels or credentials */
  updateDevice(id, body) {
    return this.t.request("PATCH", `/api/v1/devices/${encodeURIComponent(String(id))}`, void 0, body);
  }
  /** PUT /api/v1/profiles/{name}: replace a profile's kind and settings (a secret given as ******** keeps its stored value); devices it was applied to keep the old values until it is applied again with replace */
  updateProfile(name, body) {
    return this.t.request("PUT", `/api/v1/profiles/${encodeURIComponent(String(name))}`, void 0, body);
  }
  /** POST /api/v1/packages: upload an update package to the catalogue: the body is its bytes; stored on disk with its SHA-256 and served to devices at /dl/<id> (Range) with a generated download descriptor at /dl/<id>.dd */
  uploadPackage(body, query) {
    return this.t.request("POST", `/api/v1/packages`, query, body);
  }
};

// src/session.ts
var key = "omadm-token";
var session = {
  token() {
    return sessionStorage.getItem(key) ?? "";
  },
  set(token) {
    sessionStorage.setItem(key, token);
  },
  clear() {
    sessionStorage.removeItem(key);
  },
  loggedIn() {
    return this.token() !== "";
  }
};

// src/api/client.ts
var ApiError = class extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
  status;
};
var FetchTransport = class {
  constructor(onUnauthorized) {
    this.onUnauthorized = onUnauthorized;
  }
  onUnauthorized;
  async request(method, path, query, body) {
    const url = path + queryString(query);
    const headers = { Authorization: "Bearer " + session.token() };
    const init = { method, headers };
    if (body instanceof Blob) {
      headers["Content-Type"] = body.type || "application/octet-stream";
      init.body = body;
    } else if (body !== void 0) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const resp = await fetch(url, init);
    if (resp.status === 401) {
      this.onUnauthorized();
      throw new ApiError(401, "the API token was refused");
    }
    if (resp.status === 204) return void 0;
    const data = await resp.json().catch(() => null);
    if (!resp.ok) {
      const msg = data && typeof data === "object" && "error" in data ? String(data.error) : resp.statusText;
      throw new ApiError(resp.status, msg || "HTTP " + resp.status);
    }
    return data;
  }
};
function queryString(q) {
  if (!q) return "";
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (Array.isArray(v)) v.forEach((x) => p.append(k, x));
    else if (v !== void 0 && v !== "") p.set(k, String(v));
  }
  const s = p.toString();
  return s ? "?" + s : "";
}

// src/dom.ts
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === void 0 || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") {
        el.addEventListener(k.slice(2), v);
      } else if (k === "class") {
        el.className = String(v);
      } else if (k === "value" && "value" in el) {
        el.value = String(v);
      } else if (k === "checked" && "checked" in el) {
        el.checked = Boolean(v);
      } else {
        el.setAttribute(k, v === true ? "" : String(v));
      }
    }
  }
  append(el, children);
  return el;
}
function append(el, children) {
  for (const c of children) {
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.append(c);
    else if (c !== null && c !== void 0 && c !== false) el.append(document.createTextNode(String(c)));
  }
}
function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}
function when(t) {
  if (!t) return "–";
  const d = new Date(t);
  return isNaN(d.getTime()) ? t : d.toLocaleString();
}
function ago(t) {
  if (!t) return "never";
  const s = Math.round((Date.now() - new Date(t).getTime()) / 1e3);
  if (s < 60) return "just now";
  if (s < 3600) return Math.floor(s / 60) + " min ago";
  if (s < 86400) return Math.floor(s / 3600) + " h ago";
  return Math.floor(s / 86400) + " d ago";
}
function badge(state) {
  return h("span", { class: "badge state-" + state.replace(/[^a-z_]/gi, "") }, state);
}
function table(caption, headers, rows, attrs) {
  return h(
    "table",
    attrs ?? null,
    h("caption", { class: "sr-only" }, caption),
    h("thead", null, h("tr", null, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", null, rows.map((r) => h("tr", null, r.map((c) => h("td", null, c)))))
  );
}
var hints = 0;
function field(label2, control, hint) {
  let note = null;
  if (hint) {
    note = h("small", { class: "hint", id: "hint-" + ++hints }, hint);
    control.setAttribute("aria-label", label2);
    control.setAttribute("aria-describedby", note.id);
  }
  return h("label", { class: "field" }, h("span", { class: "label" }, label2), control, note);
}
function errorText(e) {
  return e instanceof Error ? e.message : String(e);
}
function announce(msg) {
  const live = document.getElementById("announcer");
  if (live) live.textContent = msg;
}

// src/router.ts
var Router = class extends EventTarget {
  routes = [];
  outlet = null;
  current = "";
  define(defs) {
    this.routes = defs.map((d) => {
      const keys = [];
      const re = d.path.replace(/\/:(\w+)(\?)?/g, (_m, k, opt) => {
        keys.push(k);
        return opt ? "(?:/([^/]+))?" : "/([^/]+)";
      });
      return { ...d, keys, re: new RegExp("^" + re + "/?$") };
    });
  }
  start(outlet) {
    this.outlet = outlet;
    window.addEventListener("hashchange", () => this.render());
    this.render();
  }
  /** go navigates to path ("/devices/x"). */
  go(path) {
    if (location.hash === "#" + path) this.render();
    else location.hash = "#" + path;
  }
  /** href is the link target for path. */
  static href(path) {
    return "#" + path;
  }
  render() {
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
      const params = {};
      r.keys.forEach((k, i) => {
        if (m[i + 1] !== void 0) params[k] = decodeURIComponent(m[i + 1]);
      });
      this.current = path;
      const keep = document.activeElement?.id;
      const view = r.render(params, query);
      this.outlet.replaceChildren(view);
      document.title = r.title + " · omadm";
      this.dispatchEvent(new Event("navigate"));
      const same = keep ? view.querySelector("#" + CSS.escape(keep)) : null;
      const heading = view.querySelector("h1, h2");
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
};

// src/sse.ts
var EventStream = class {
  constructor(h2) {
    this.h = h2;
  }
  h;
  abort = null;
  timer = 0;
  /** lastEventId is the highest stored event ID received. */
  lastEventId = "";
  start() {
    this.stop();
    const ctl = new AbortController();
    this.abort = ctl;
    void this.run(ctl.signal);
  }
  stop() {
    this.abort?.abort();
    this.abort = null;
    clearTimeout(this.timer);
  }
  async run(signal) {
    let backoff = 1e3;
    let first = true;
    while (!signal.aborted) {
      this.h.status("connecting");
      try {
        const headers = { Authorization: "Bearer " + session.token() };
        if (this.lastEventId) headers["Last-Event-ID"] = this.lastEventId;
        const resp = await fetch(Api.eventStreamPath(), { headers, signal });
        if (resp.status === 401) {
          this.h.unauthorized();
          return;
        }
        if (!resp.ok || !resp.body) throw new Error("event stream: HTTP " + resp.status);
        this.h.status("live");
        if (!first) this.h.resync();
        first = false;
        backoff = 1e3;
        await this.read(resp.body, signal);
      } catch (e) {
        if (signal.aborted) return;
        this.h.status("offline", e instanceof Error ? e.message : String(e));
      }
      if (signal.aborted) return;
      this.h.status("offline");
      await new Promise((r) => {
        this.timer = window.setTimeout(r, backoff);
      });
      backoff = Math.min(backoff * 2, 15e3);
    }
  }
  async read(body, signal) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    while (!signal.aborted) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let i;
      while ((i = buf.search(/\r?\n\r?\n/)) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i).replace(/^\r?\n\r?\n/, "");
        this.dispatch(block);
      }
    }
  }
  dispatch(block) {
    let event = "message";
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line === "" || line.startsWith(":")) continue;
      const c = line.indexOf(":");
      const name = c < 0 ? line : line.slice(0, c);
      const val = c < 0 ? "" : line.slice(c + 1).replace(/^ /, "");
      if (name === "event") event = val;
      else if (name === "data") data.push(val);
      else if (name === "id") this.lastEventId = val;
    }
    if (event === "lagged") {
      this.h.resync();
      return;
    }
    if (data.length === 0) return;
    try {
      this.h.update(JSON.parse(data.join("\n")));
    } catch {
    }
  }
};

// src/store.ts
var Store = class extends EventTarget {
  status = "offline";
  statusDetail = "";
  /** recent holds the latest updates, newest first. */
  recent = [];
  subs = /* @__PURE__ */ new Set();
  resyncs = /* @__PURE__ */ new Set();
  stream;
  constructor(onUnauthorized) {
    super();
    this.stream = new EventStream({
      update: (u) => this.publish(u),
      resync: () => this.resyncs.forEach((fn) => fn()),
      status: (s, d) => {
        this.status = s;
        this.statusDetail = d ?? "";
        this.dispatchEvent(new Event("status"));
      },
      unauthorized: onUnauthorized
    });
  }
  connect() {
    this.stream.start();
  }
  disconnect() {
    this.stream.stop();
    this.status = "offline";
    this.dispatchEvent(new Event("status"));
  }
  get lastEventId() {
    return this.stream.lastEventId;
  }
  /** subscribe calls fn with each update f matches; it returns the unsubscribe. */
  subscribe(f, fn) {
    const s = { f, fn };
    this.subs.add(s);
    return () => this.subs.delete(s);
  }
  /** onResync calls fn when live updates may have been missed. */
  onResync(fn) {
    this.resyncs.add(fn);
    return () => this.resyncs.delete(fn);
  }
  publish(u) {
    this.recent.unshift(u);
    if (this.recent.length > 500) this.recent.length = 500;
    for (const { f, fn } of [...this.subs]) {
      if (f.device && u.device !== f.device) continue;
      if (f.kinds && !f.kinds.includes(u.kind)) continue;
      fn(u);
    }
  }
};

// src/app.ts
function unauthorized() {
  session.clear();
  store.disconnect();
  if (router.current !== "/login") router.go("/login?expired=1");
}
var api = new Api(new FetchTransport(unauthorized));
var store = new Store(unauthorized);
var router = new Router();
function jobTerminal(state) {
  return state === "done" || state === "failed" || state === "cancelled";
}
function opTerminal(state) {
  return state === "succeeded" || state === "failed" || state === "timed_out" || state === "cancelled";
}
function waitJob(id, signal) {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (j) => {
      if (done || !jobTerminal(j.state)) return;
      done = true;
      unsub();
      unresync();
      resolve(j);
    };
    const check = () => {
      api.getJob(id).then(finish, (e) => {
        if (!done) {
          done = true;
          unsub();
          unresync();
          reject(e);
        }
      });
    };
    const unsub = store.subscribe({ kinds: ["job"] }, (u) => {
      if (u.job && u.job.id === id) {
        if (jobTerminal(u.job.state)) check();
      }
    });
    const unresync = store.onResync(check);
    signal?.addEventListener("abort", () => {
      if (!done) {
        done = true;
        unsub();
        unresync();
        reject(new Error("cancelled"));
      }
    });
    check();
  });
}
var opRank = {
  queued: 0,
  sent: 1,
  accepted: 2,
  retry_wait: 3,
  succeeded: 4,
  failed: 4,
  timed_out: 4,
  cancelled: 4
};
function opNewer(a, b) {
  const aa = a.attempts ?? 0;
  const ab = b.attempts ?? 0;
  if (aa !== ab) return aa > ab;
  const ra = opRank[a.state] ?? 0;
  const rb = opRank[b.state] ?? 0;
  if (ra !== rb) return ra > rb;
  return stamp(a.updated_at) >= stamp(b.updated_at);
}
function stamp(t) {
  const n = t ? Date.parse(t) : NaN;
  return isNaN(n) ? 0 : n;
}
function upsertOperation(list, op) {
  const i = list.findIndex((o) => o.id === op.id);
  if (i < 0) list.unshift(op);
  else if (opNewer(op, list[i])) list[i] = op;
  return list;
}

// src/components/app-shell.ts
var nav = [
  ["/fleet", "Fleet"],
  ["/operations", "Operations"],
  ["/campaigns", "Campaigns"],
  ["/settings", "Settings"]
];
var AppShell = class extends HTMLElement {
  links = [];
  status = h("span", { class: "stream-status", role: "status", "aria-live": "polite" });
  navEl = h("nav", { "aria-label": "Main" });
  connectedCallback() {
    const main = h("main", { id: "main", tabindex: "-1" });
    this.links = nav.map(([path, label2]) => h("a", { href: Router.href(path), "data-path": path }, label2));
    this.navEl.replaceChildren(h("ul", null, this.links.map((a) => h("li", null, a))));
    const logout = h("button", { type: "button", class: "link", onclick: () => this.logout() }, "Sign out");
    this.replaceChildren(
      h("a", { class: "skip", href: "#main", onclick: (e) => {
        e.preventDefault();
        main.focus();
      } }, "Skip to content"),
      h(
        "header",
        { class: "top" },
        h("a", { class: "brand", href: Router.href("/fleet") }, h("span", { class: "logo", "aria-hidden": "true" }, "◆"), "omadm"),
        this.navEl,
        this.status,
        logout
      ),
      main,
      h("div", { id: "announcer", class: "sr-only", role: "status", "aria-live": "polite" })
    );
    router.addEventListener("navigate", () => this.sync());
    store.addEventListener("status", () => this.sync());
    router.start(main);
    this.sync();
  }
  sync() {
    const authed = session.loggedIn();
    this.navEl.hidden = !authed;
    for (const a of this.links) {
      const on = router.current.startsWith(a.dataset.path ?? "") || a.dataset.path === "/fleet" && router.current.startsWith("/devices");
      if (on) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    const s = store.status;
    this.status.className = "stream-status " + s;
    this.status.textContent = authed ? s === "live" ? "● live" : s === "connecting" ? "○ connecting…" : "○ offline" : "";
    this.status.title = store.statusDetail;
    this.querySelector("button.link").hidden = !authed;
  }
  logout() {
    session.clear();
    store.disconnect();
    router.go("/login");
  }
};

// src/components/enrol.ts
var EnrolForm = class extends HTMLElement {
  connectedCallback() {
    const id = h("input", { name: "id", required: true, placeholder: "IMEI:…" });
    const user = h("input", { name: "username", required: true, autocomplete: "off" });
    const pass = h("input", { name: "password", required: true, type: "password", autocomplete: "new-password" });
    const auth = h("select", { name: "auth" }, ["md5", "basic", "hmac"].map((a) => h("option", null, a)));
    const notify = h("input", { name: "notify_addr", placeholder: "udp://host:port, sms:+number, wappush:+number, wappush-ip:address or obex://host:port" });
    const labels = h("input", { name: "labels", placeholder: "site=north, tier=gold" });
    const msg = h("p", { role: "status", class: "muted" });
    const form = h(
      "form",
      { class: "inline" },
      field("Device ID", id),
      field("User name", user),
      field("Password", pass),
      field("Auth", auth),
      field("Notification address", notify),
      field("Labels", labels),
      h("button", { type: "submit", class: "primary" }, "Enrol")
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { id: id.value.trim(), username: user.value, password: pass.value, auth: auth.value };
      if (notify.value.trim()) body.notify_addr = notify.value.trim();
      const l = {};
      for (const part of labels.value.split(",")) {
        const [k, ...v] = part.split("=");
        if (k.trim()) l[k.trim()] = v.join("=").trim();
      }
      if (Object.keys(l).length) body.labels = l;
      try {
        const d = await api.createDevice(body);
        replace(
          msg,
          h("a", { href: Router.href("/devices/" + encodeURIComponent(d.id)) }, d.id),
          " enrolled.",
          d.server_password ? " Server password (shown once): " : "",
          d.server_password ? h("code", null, d.server_password) : null
        );
        form.reset();
      } catch (x) {
        msg.textContent = errorText(x);
      }
    });
    this.replaceChildren(h("details", { class: "card" }, h("summary", null, "Enrol a device"), form, msg));
  }
};

// src/components/events.ts
var EventLog = class extends HTMLElement {
  events = [];
  list = h("ol", { class: "events", "aria-live": "polite", "aria-relevant": "additions" });
  err = h("p", { class: "error", role: "alert" });
  unsub = [];
  connectedCallback() {
    const device = this.getAttribute("device") ?? "";
    this.replaceChildren(h("h2", null, "Events"), this.err, h("div", { class: "card" }, this.list));
    const load = async () => {
      try {
        let after = 0;
        let all = [];
        for (let i = 0; i < 20; i++) {
          const l = await api.deviceEvents(device, { after, limit: 1e3 });
          all = all.concat(l.events);
          if (!l.next) break;
          after = Number(l.next);
        }
        this.events = all.slice(-300).reverse();
        this.render();
      } catch (e) {
        this.err.textContent = errorText(e);
      }
    };
    this.unsub.push(store.subscribe({ device, kinds: ["event", "session"] }, (u) => {
      if (u.event && !this.events.some((e) => e.id === u.event.id)) {
        this.events.unshift(u.event);
        this.render();
      }
    }));
    this.unsub.push(store.onResync(() => void load()));
    void load();
  }
  disconnectedCallback() {
    this.unsub.forEach((f) => f());
  }
  render() {
    replace(this.list, this.events.map((e) => h(
      "li",
      { "data-event": String(e.id) },
      h("time", { datetime: e.created_at }, when(e.created_at)),
      " ",
      h("strong", null, e.kind),
      e.type ? " " + e.type : "",
      e.correlator ? h("span", { class: "muted" }, " correlator " + e.correlator) : null,
      e.data ? h("code", null, " " + e.data) : null
    )));
    if (!this.events.length) this.list.append(h("li", { class: "muted" }, "No events yet."));
  }
};

// src/status.ts
var names = {
  200: "OK",
  202: "Accepted for processing",
  204: "No content",
  213: "Chunked item accepted",
  215: "Not executed",
  216: "Atomic roll back OK",
  304: "Not modified",
  400: "Bad request",
  401: "Invalid credentials",
  403: "Forbidden",
  404: "Not found",
  405: "Command not allowed",
  406: "Optional feature not supported",
  407: "Missing credentials",
  412: "Incomplete command",
  413: "Request entity too large",
  415: "Unsupported media type or format",
  418: "Already exists",
  425: "Permission denied",
  500: "Command failed",
  507: "Atomic failed",
  516: "Atomic roll back failed"
};
function statusText(code) {
  if (!code) return "–";
  return names[code] ? `${code} ${names[code]}` : String(code);
}
function statusOK(code) {
  return code >= 200 && code < 300;
}

// src/components/jobs.ts
var JobForm = class extends HTMLElement {
  connectedCallback() {
    const device = this.getAttribute("device") ?? "";
    const command = h("select", { name: "command" }, ["Get", "Replace", "Add", "Delete", "Exec"].map((c) => h("option", null, c)));
    const uri = h("input", { name: "uri", placeholder: "./DevInfo/Mod", required: true });
    const data = h("input", { name: "data", placeholder: "value" });
    const format = h("select", { name: "format" }, ["", "chr", "int", "bool", "b64", "xml", "node"].map((f) => h("option", { value: f }, f || "(default)")));
    const notify = h("input", { type: "checkbox", name: "notify", checked: true });
    const msg = h("span", { role: "status", class: "muted" });
    const form = h(
      "form",
      { class: "card inline", "aria-label": "Queue a command" },
      field("Command", command),
      field("URI", uri),
      field("Data", data),
      field("Format", format),
      h("label", { class: "check" }, notify, "Notify now"),
      h("button", { type: "submit", class: "primary" }, "Queue"),
      msg
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const req = { command: command.value, notify: notify.checked, items: [{ uri: uri.value.trim() }] };
      const it = req.items[0];
      if (command.value === "Replace" || command.value === "Add" || command.value === "Exec") {
        if (data.value !== "" || command.value !== "Exec") it.data = data.value;
        if (format.value) it.format = format.value;
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
};
var JobTable = class extends HTMLElement {
  jobs = [];
  body = h("tbody");
  err = h("p", { class: "error", role: "alert" });
  unsub = [];
  connectedCallback() {
    const device = this.getAttribute("device") ?? "";
    this.replaceChildren(h(
      "section",
      { class: "card", "aria-labelledby": "jobs-h" },
      h("h2", { id: "jobs-h" }, "Jobs"),
      this.err,
      h("table", { class: "jobs" }, h("thead", null, h(
        "tr",
        null,
        ["Job", "Command", "URI", "State", "Status", "Result", "Created", ""].map((x) => h("th", { scope: "col" }, x))
      )), this.body)
    ));
    const load = async () => {
      try {
        const l = await api.listJobs(device, { limit: 1e3 });
        this.jobs = l.jobs.slice().reverse();
        this.render();
      } catch (e) {
        this.err.textContent = errorText(e);
      }
    };
    this.unsub.push(store.subscribe({ device, kinds: ["job"] }, (u) => {
      if (!u.job) return;
      const i = this.jobs.findIndex((j) => j.id === u.job.id);
      if (i >= 0) this.jobs[i] = u.job;
      else this.jobs.unshift(u.job);
      this.render();
    }));
    this.unsub.push(store.onResync(() => void load()));
    void load();
  }
  disconnectedCallback() {
    this.unsub.forEach((f) => f());
  }
  render() {
    replace(this.body, this.jobs.map((j) => {
      const res = j.error || j.results.map((r) => `${r.uri} = ${r.data}`).join("\n");
      const cancel = j.state === "queued" || j.state === "sent" ? h("button", { type: "button", class: "small", onclick: () => void api.cancelJob(j.id).catch((e) => this.err.textContent = errorText(e)) }, "Cancel") : null;
      return h(
        "tr",
        { "data-job": String(j.id) },
        h("td", null, String(j.id)),
        h("td", null, j.command),
        h("td", { class: "mono" }, j.uri),
        h("td", null, badge(j.state)),
        h("td", null, statusText(j.status)),
        h("td", { class: "mono pre" }, res),
        h("td", null, when(j.created_at)),
        h("td", null, cancel)
      );
    }));
    if (!this.jobs.length) this.body.append(h("tr", null, h("td", { colspan: "8", class: "muted" }, "No jobs yet.")));
  }
};

// src/components/operations.ts
var mosCache = null;
function mos() {
  if (!mosCache) mosCache = api.listMOs().then((l) => l.mos, (e) => {
    mosCache = null;
    throw e;
  });
  return mosCache;
}
var OpForm = class extends HTMLElement {
  device = "";
  moSel = h("select", { name: "mo" });
  opSel = h("select", { name: "operation" });
  params = h("fieldset", { class: "params" });
  node = h("input", { name: "node" });
  timeout = h("input", { name: "timeout", placeholder: "default" });
  notify = h("input", { type: "checkbox", name: "notify", checked: true });
  msg = h("p", { role: "status", class: "muted" });
  list = [];
  packages = h("datalist", { id: "pkg-urls-" + Math.random().toString(36).slice(2) });
  connectedCallback() {
    this.device = this.getAttribute("device") ?? "";
    const tmpl = this.getAttribute("mode") === "template";
    const dev = h("input", { name: "device", required: true, placeholder: "IMEI:…", value: this.device });
    const fields = [
      h(
        "div",
        { class: "inline" },
        this.device || tmpl ? null : field("Device", dev),
        field("Object", this.moSel),
        field("Operation", this.opSel),
        field("Node", this.node, "MO instance on the device")
      ),
      this.params,
      h(
        "div",
        { class: "inline" },
        field("Timeout", this.timeout, "e.g. 90s, 2h"),
        tmpl ? null : h("label", { class: "check" }, this.notify, "Notify the device now"),
        tmpl ? null : h("button", { type: "submit", class: "primary" }, "Start")
      ),
      this.msg
    ];
    if (tmpl) {
      this.replaceChildren(h("fieldset", { class: "op-template" }, h("legend", null, "Operation"), fields));
      this.loadMOs();
      return;
    }
    const form = h(
      "form",
      { class: "card op-form", "aria-labelledby": "op-form-h" },
      h("h2", { id: "op-form-h" }, "New operation"),
      fields
    );
    this.moSel.addEventListener("change", () => this.fillOps());
    this.opSel.addEventListener("change", () => this.fillParams());
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.submit(this.device || dev.value.trim());
    });
    this.replaceChildren(form);
    this.loadMOs();
  }
  loadPackages() {
    this.append(this.packages);
    api.listPackages().then((l) => replace(this.packages, l.flatMap((p) => [
      p.url ? h("option", { value: p.url }, `${p.name} ${p.version} (${p.size} bytes)`) : null,
      p.descriptor_url ? h("option", { value: p.descriptor_url }, `${p.name} ${p.version} download descriptor`) : null
    ])), () => {
    });
  }
  loadMOs() {
    this.loadPackages();
    mos().then((l) => {
      this.list = l;
      replace(this.moSel, l.map((m) => h("option", { value: m.name }, m.name.toUpperCase())));
      this.fillOps();
    }, (e) => this.msg.textContent = errorText(e));
  }
  mo() {
    return this.list.find((m) => m.name === this.moSel.value);
  }
  op() {
    return this.mo()?.operations.find((o) => o.name === this.opSel.value);
  }
  fillOps() {
    const m = this.mo();
    if (!m) return;
    replace(this.opSel, m.operations.map((o) => h("option", { value: o.name }, o.name)));
    if (m.default_operation) this.opSel.value = m.default_operation;
    this.node.placeholder = m.default_node;
    this.fillParams();
  }
  fillParams() {
    const op = this.op();
    replace(this.params, h("legend", null, "Parameters"));
    if (!op || op.params.length === 0) {
      this.params.append(h("p", { class: "muted" }, "This operation takes no parameters."));
      return;
    }
    for (const p of op.params) {
      const name = "param-" + p.name;
      let ctl;
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
        ctl = h("input", { name, required: p.required, type: "url", list: this.packages.id });
        hint += " · packages uploaded to the server are offered";
      } else {
        ctl = h("input", { name, required: p.required });
      }
      this.params.append(field(label(p.name) + (p.required ? " (required)" : ""), ctl, hint));
    }
  }
  /** template is the operation the form describes, without a device. */
  template() {
    const op = this.op();
    const m = this.mo();
    if (!op || !m) return null;
    return {
      mo: m.name,
      operation: op.name,
      params: this.paramValues(op),
      node: this.node.value.trim() || void 0,
      timeout: this.timeout.value.trim() || void 0
    };
  }
  paramValues(op) {
    const params = {};
    for (const p of op.params) {
      const el = this.params.querySelector(`[name="param-${p.name}"]`);
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
  async submit(device) {
    const t = this.template();
    if (!t || !device) return;
    this.msg.textContent = "";
    try {
      const o = await api.createOperation(device, { ...t, mo: t.mo, notify: this.notify.checked });
      this.msg.textContent = `Operation ${o.id} started (${o.state})` + (o.warning ? " — " + o.warning : "");
      store.publish({ kind: "operation", seq: 0, time: o.created_at, device, operation: o });
    } catch (e) {
      this.msg.textContent = errorText(e);
    }
  }
};
function label(param) {
  const s = param.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}
var steps = ["queued", "sent", "accepted", "done"];
function progress(o) {
  const at = opTerminal(o.state) ? 3 : steps.indexOf(o.state);
  const bar = h("progress", { max: "3", value: String(Math.max(0, at)), "aria-label": `Operation ${o.id}: ${o.state}` });
  const tries = o.max_attempts > 1 ? h("small", { class: "op-attempts" }, `attempt ${o.attempts}/${o.max_attempts}` + (o.next_attempt_at ? ` · next ${when(o.next_attempt_at)}` : "")) : null;
  return h("div", { class: "op-progress" }, bar, badge(o.state), tries);
}
var OpList = class extends HTMLElement {
  ops = [];
  body = h("tbody");
  err = h("p", { class: "error", role: "alert" });
  unsub = [];
  connectedCallback() {
    const device = this.getAttribute("device") ?? "";
    this.replaceChildren(h(
      "section",
      { class: "card", "aria-labelledby": "ops-h" },
      h("h2", { id: "ops-h" }, "Operations"),
      this.err,
      h("table", { class: "ops" }, h("thead", null, h(
        "tr",
        null,
        ["Operation", "Object", "Progress", "Result", "Started", ""].map((x) => h("th", { scope: "col" }, x))
      )), this.body)
    ));
    const load = async () => {
      try {
        const l = device ? await api.listOperations(device, { limit: 200 }) : { operations: [] };
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
    this.unsub.push(store.subscribe({ device: device || void 0, kinds: ["operation"] }, (u) => {
      if (u.operation) {
        upsertOperation(this.ops, u.operation);
        this.render();
      }
    }));
    this.unsub.push(store.onResync(() => void load()));
    void load();
  }
  disconnectedCallback() {
    this.unsub.forEach((f) => f());
  }
  render() {
    const global = !this.getAttribute("device");
    replace(this.body, this.ops.map((o) => {
      const res = o.result ? `${o.result}${o.meaning ? " " + o.meaning : ""}` : o.error || "–";
      const cancel = opTerminal(o.state) ? null : h("button", { type: "button", class: "small", onclick: () => void api.cancelOperation(o.id).then((x) => {
        upsertOperation(this.ops, x);
        this.render();
      }, (e) => this.err.textContent = errorText(e)) }, "Cancel");
      const nudge = o.state === "queued" ? h("button", { type: "button", class: "small notify", onclick: () => void api.notifyDevice(o.device).catch((e) => this.err.textContent = errorText(e)) }, "Notify") : null;
      return h(
        "tr",
        { "data-op": String(o.id), "data-state": o.state },
        h("td", null, `#${o.id} ${o.operation}`, global ? [h("br"), h("a", { href: Router.href("/devices/" + encodeURIComponent(o.device) + "/operations") }, o.device)] : null),
        h("td", null, o.mo.toUpperCase(), h("br"), h("small", { class: "mono" }, o.node)),
        h("td", null, progress(o)),
        h("td", { class: "op-result" }, res),
        h("td", null, when(o.created_at)),
        h("td", { class: "row-actions" }, nudge, cancel)
      );
    }));
    if (!this.ops.length) this.body.append(h("tr", null, h("td", { colspan: "6", class: "muted" }, "No operations yet.")));
  }
};

// src/components/traces.ts
var TraceList = class extends HTMLElement {
  traces = [];
  box = h("div", { class: "sessions" });
  err = h("p", { class: "error", role: "alert" });
  open = /* @__PURE__ */ new Set();
  unsub = [];
  connectedCallback() {
    const device = this.getAttribute("device") ?? "";
    this.replaceChildren(h("h2", null, "Session traces"), this.err, this.box);
    const load = async () => {
      try {
        this.traces = (await api.deviceTraces(device, { limit: 500 })).traces;
        this.render();
      } catch (e) {
        this.err.textContent = errorText(e);
      }
    };
    this.unsub.push(store.subscribe({ device, kinds: ["trace"] }, (u) => {
      if (u.trace && !this.traces.some((t) => t.id === u.trace.id && t.id !== 0)) {
        this.traces.push(u.trace);
        this.render();
      }
    }));
    this.unsub.push(store.onResync(() => void load()));
    void load();
  }
  disconnectedCallback() {
    this.unsub.forEach((f) => f());
  }
  render() {
    const groups = /* @__PURE__ */ new Map();
    for (const t of this.traces) {
      const g = groups.get(t.session) ?? [];
      g.push(t);
      groups.set(t.session, g);
    }
    const ordered = [...groups.entries()].reverse();
    if (this.open.size === 0 && ordered.length) this.open.add(ordered[0][0]);
    replace(this.box, ordered.map(([session2, msgs]) => {
      const d = h(
        "details",
        { class: "card session", open: this.open.has(session2), "data-session": session2 },
        h("summary", null, h("strong", null, "Session " + session2), ` · ${msgs.length} message${msgs.length === 1 ? "" : "s"} · ${when(msgs[0].created_at)}`),
        msgs.map((t) => h(
          "article",
          { class: "msg " + t.direction, "aria-label": `message ${t.msg_id} ${t.direction === "in" ? "from the device" : "to the device"}` },
          h(
            "header",
            null,
            h("span", { class: "dir" }, t.direction === "in" ? "device → server" : "server → device"),
            ` msg ${t.msg_id} · ${t.content_type} · ${when(t.created_at)}`
          ),
          h("pre", { class: "xml", tabindex: "0" }, t.decoded)
        ))
      );
      d.addEventListener("toggle", () => d.open ? this.open.add(session2) : this.open.delete(session2));
      return d;
    }));
    if (!ordered.length) this.box.append(h("p", { class: "muted" }, "No traces kept for this device."));
  }
};

// src/components/tree-browser.ts
var formats = ["chr", "int", "bool", "float", "date", "time", "b64", "bin", "xml", "null", "node"];
var TreeBrowser = class extends HTMLElement {
  device = "";
  nodes = /* @__PURE__ */ new Map();
  selected = ".";
  nextKey = 0;
  treeEl = h("ul", { role: "tree", "aria-label": "Management tree", class: "tree" });
  detail = h("section", { class: "card node-detail", "aria-live": "polite", "aria-labelledby": "node-h" });
  status = h("p", { class: "muted job-status", role: "status" });
  abort = new AbortController();
  connectedCallback() {
    this.device = this.getAttribute("device") ?? "";
    this.node(".");
    this.treeEl.addEventListener("keydown", (e) => this.keys(e));
    const fetchRoot = h("button", { type: "button", class: "primary", onclick: () => void this.fetchFromDevice(".") }, "Fetch tree from device");
    this.replaceChildren(
      h("div", { class: "toolbar" }, fetchRoot, this.status),
      h("div", { class: "tree-layout" }, h("div", { class: "card tree-pane" }, this.treeEl), this.detail)
    );
    this.render();
    void this.loadCache();
  }
  disconnectedCallback() {
    this.abort.abort();
  }
  async loadCache() {
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
  node(uri) {
    let n = this.nodes.get(uri);
    if (n) return n;
    const i = uri.lastIndexOf("/");
    n = { key: ++this.nextKey, uri, name: i < 0 ? uri : uri.slice(i + 1), children: /* @__PURE__ */ new Set(), expanded: false, fetched: false };
    this.nodes.set(uri, n);
    if (i > 0) this.node(uri.slice(0, i)).children.add(uri);
    return n;
  }
  put(uri, format, type, value) {
    uri = normalize(uri);
    const n = this.node(uri);
    if (format) n.format = format;
    if (type) n.type = type;
    if (value !== void 0 && format !== "node") n.value = value;
    return n;
  }
  /** run queues a job with a notification and waits for the device's answer. */
  async run(what, req) {
    req.notify = true;
    const j = await api.createJob(this.device, req);
    this.status.textContent = `${what}: job ${j.id} queued, waiting for the device…` + (j.warning ? " (" + j.warning + ")" : "");
    const done = await waitJob(j.id, this.abort.signal);
    this.status.textContent = `${what}: ${done.state}, ${statusText(done.status)}` + (done.error ? " — " + done.error : "");
    return done;
  }
  async fetchFromDevice(uri) {
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
  render() {
    const focused = document.activeElement?.dataset?.uri;
    replace(this.treeEl, this.item(this.node(".")));
    if (focused) this.treeEl.querySelector(`[data-uri="${CSS.escape(focused)}"]`)?.focus();
    this.renderDetail();
  }
  item(n, level = 1) {
    const interior = n.children.size > 0 || n.format === "node" || n.uri === ".";
    const open = interior && n.expanded && n.children.size > 0;
    const groupId = "tree-group-" + n.key;
    const label2 = h(
      "span",
      {
        role: "treeitem",
        "aria-level": String(level),
        "aria-selected": String(n.uri === this.selected),
        "aria-expanded": interior ? String(n.expanded) : null,
        "aria-owns": open ? groupId : null,
        class: "node" + (n.uri === this.selected ? " selected" : ""),
        "data-uri": n.uri,
        tabindex: n.uri === this.selected ? "0" : "-1",
        onclick: () => this.select(n.uri)
      },
      h("span", { class: "twisty", "aria-hidden": "true" }, interior ? n.expanded ? "▾" : "▸" : "·"),
      n.name,
      n.value !== void 0 && !interior ? h("span", { class: "value" }, " = " + n.value) : null
    );
    const li = h("li", { role: "none" }, label2);
    if (open) {
      const kids = [...n.children].sort().map((c) => this.item(this.nodes.get(c), level + 1));
      li.append(h("ul", { role: "group", id: groupId }, kids));
    }
    return li;
  }
  select(uri) {
    const n = this.node(uri);
    this.selected = uri;
    if (n.children.size > 0 || n.format === "node" || uri === ".") n.expanded = !n.expanded || uri !== this.selected;
    this.render();
    this.treeEl.querySelector(`[data-uri="${CSS.escape(uri)}"]`)?.focus();
  }
  /** keys: the ARIA tree pattern (arrows, Home/End, Enter). */
  keys(e) {
    const items = [...this.treeEl.querySelectorAll(".node")];
    const cur = document.activeElement;
    const i = items.indexOf(cur);
    if (i < 0) return;
    const n = this.node(cur.dataset.uri);
    const move = (j) => {
      const t = items[Math.max(0, Math.min(items.length - 1, j))];
      items.forEach((x) => x.tabIndex = -1);
      t.tabIndex = 0;
      t.focus();
    };
    switch (e.key) {
      case "ArrowDown":
        move(i + 1);
        break;
      case "ArrowUp":
        move(i - 1);
        break;
      case "Home":
        move(0);
        break;
      case "End":
        move(items.length - 1);
        break;
      case "ArrowRight":
        if (!n.expanded && (n.children.size > 0 || n.format === "node")) {
          n.expanded = true;
          this.render();
        } else move(i + 1);
        break;
      case "ArrowLeft":
        if (n.expanded) {
          n.expanded = false;
          this.render();
        } else {
          const p = n.uri.lastIndexOf("/");
          if (p > 0) move(items.findIndex((x) => x.dataset.uri === n.uri.slice(0, p)));
        }
        break;
      case "Enter":
      case " ":
        this.selected = n.uri;
        this.render();
        break;
      default:
        return;
    }
    e.preventDefault();
  }
  renderDetail() {
    const n = this.node(this.selected);
    const interior = n.format === "node" || n.children.size > 0 || n.uri === ".";
    const props = h("dl", { class: "kv props" });
    const showProps = (rs) => {
      replace(props, rs.flatMap((r) => [
        h("dt", null, r.uri.split("?prop=")[1] ?? r.uri),
        h("dd", null, r.status ? statusText(r.status) : r.data)
      ]));
    };
    const value = h("input", { name: "value", value: n.value ?? "", "aria-label": "New value" });
    const format = h(
      "select",
      { name: "format", "aria-label": "Format" },
      formats.filter((f) => f !== "node").map((f) => h("option", { value: f }, f))
    );
    format.value = n.format && n.format !== "node" ? n.format : "chr";
    const acl = h("input", { name: "acl", placeholder: "Get=*&Replace=omadm", "aria-label": "New ACL" });
    const execData = h("input", { name: "exec-data", placeholder: "optional data", "aria-label": "Exec data" });
    const actions = h("div", { class: "node-actions" });
    const replaceForm = h(
      "form",
      { class: "inline", "aria-label": "Replace value" },
      field("Value", value),
      field("Format", format),
      h("button", { type: "submit", class: "primary" }, "Replace")
    );
    replaceForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const j = await this.run("Replace " + n.uri, { command: "Replace", items: [{ uri: n.uri, format: format.value, data: value.value }] });
        if (statusOK(j.status)) await this.read(n);
      } catch (x) {
        this.status.textContent = errorText(x);
      }
    });
    const aclForm = h(
      "form",
      { class: "inline", "aria-label": "Replace ACL" },
      field("ACL", acl),
      h("button", { type: "submit" }, "Replace ACL")
    );
    aclForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await this.run("Replace ACL of " + n.uri, { command: "Replace", items: [{ uri: n.uri + "?prop=ACL", format: "chr", data: acl.value }] });
        await this.props(n, showProps);
      } catch (x) {
        this.status.textContent = errorText(x);
      }
    });
    const execForm = h(
      "form",
      { class: "inline", "aria-label": "Exec" },
      field("Exec data", execData),
      h("button", { type: "submit" }, "Exec")
    );
    execForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await this.run("Exec " + n.uri, { command: "Exec", items: [{ uri: n.uri, ...execData.value ? { data: execData.value } : {} }] });
      } catch (x) {
        this.status.textContent = errorText(x);
      }
    });
    actions.append(
      h("button", { type: "button", onclick: () => void (interior ? this.fetchFromDevice(n.uri) : this.read(n)) }, interior ? "Fetch subtree" : "Read value"),
      h("button", { type: "button", onclick: () => void this.props(n, showProps) }, "Properties")
    );
    if (n.uri !== ".") actions.append(h("button", { type: "button", class: "danger", onclick: () => void this.deleteNode(n) }, "Delete"));
    replace(
      this.detail,
      h("h2", { id: "node-h" }, n.uri),
      h(
        "dl",
        { class: "kv" },
        h("dt", null, "Format"),
        h("dd", null, n.format ?? "unknown"),
        h("dt", null, "Type"),
        h("dd", null, n.type || "–"),
        interior ? null : [h("dt", null, "Value"), h("dd", { class: "node-value" }, n.value ?? "unknown")]
      ),
      actions,
      props,
      interior ? null : replaceForm,
      n.uri !== "." ? aclForm : null,
      execForm
    );
  }
  async read(n) {
    try {
      const j = await this.run("Read " + n.uri, { command: "Get", items: [{ uri: n.uri }] });
      for (const r of j.results) this.put(r.uri, r.format, r.type, r.data);
      this.render();
    } catch (e) {
      this.status.textContent = errorText(e);
    }
  }
  async props(n, show) {
    try {
      const names2 = ["ACL", "Format", "Type", "Title", "TStamp", "VerNo", "Size"];
      const j = await this.run("Properties of " + n.uri, { command: "Get", items: names2.map((p) => ({ uri: n.uri + "?prop=" + p })) });
      show(j.results);
    } catch (e) {
      this.status.textContent = errorText(e);
    }
  }
  async deleteNode(n) {
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
};
function normalize(uri) {
  uri = uri.split("?")[0].replace(/\/+$/, "");
  if (uri === "" || uri === ".") return ".";
  return uri.startsWith("./") ? uri : "./" + uri.replace(/^\//, "");
}

// src/views/campaigns-view.ts
var states = ["succeeded", "failed", "timed_out", "cancelled", "skipped", "in_progress", "notified", "pending"];
function campaignBar(c) {
  const counts = c.counts ?? {};
  const total = Math.max(1, c.total);
  const parts = states.filter((s) => (counts[s] ?? 0) > 0);
  return h(
    "div",
    { class: "campaign-progress" },
    h(
      "div",
      { class: "stack", role: "img", "aria-label": parts.map((s) => `${s.replace("_", " ")} ${counts[s]}`).join(", ") || "no devices" },
      parts.map((s) => {
        const seg = h("span", { class: "seg seg-" + s });
        seg.style.width = `${100 * (counts[s] ?? 0) / total}%`;
        return seg;
      })
    ),
    h("ul", { class: "legend" }, parts.map((s) => h("li", { class: "seg-" + s }, `${s.replace("_", " ")} ${counts[s]}`))),
    h("p", { class: "muted" }, `${c.done} of ${c.total} devices done · wave ${c.wave} of ${c.waves.length}`)
  );
}
function campaignNewer(a, b) {
  const ta = stamp(a.updated_at);
  const tb = stamp(b.updated_at);
  if (ta !== tb) return ta > tb;
  return a.done >= b.done;
}
var CampaignsView = class extends HTMLElement {
  list = [];
  box = h("div", { class: "campaigns" });
  err = h("p", { class: "error", role: "alert" });
  unsub = [];
  connectedCallback() {
    this.replaceChildren(
      h("div", { class: "view-head" }, h("h1", null, "Campaigns")),
      this.form(),
      this.err,
      this.box
    );
    this.unsub.push(store.subscribe({ kinds: ["campaign"] }, (u) => {
      if (u.campaign) this.upsert(u.campaign);
    }));
    this.unsub.push(store.onResync(() => void this.load()));
    void this.load();
  }
  disconnectedCallback() {
    this.unsub.forEach((f) => f());
  }
  async load() {
    try {
      const seen = this.list;
      this.list = (await api.listCampaigns({ limit: 200 })).campaigns.slice().reverse();
      for (const c of seen) {
        const i = this.list.findIndex((x) => x.id === c.id);
        if (i >= 0 && campaignNewer(c, this.list[i])) this.list[i] = c;
      }
      this.render();
    } catch (e) {
      this.err.textContent = errorText(e);
    }
  }
  /** upsert shows c unless the list already has a later copy of it (the
   * answer to a create or an action can arrive after the live stream
   * brought the campaign's progress). */
  upsert(c) {
    const i = this.list.findIndex((x) => x.id === c.id);
    if (i < 0) this.list.unshift(c);
    else if (campaignNewer(c, this.list[i])) this.list[i] = c;
    this.render();
  }
  act(c, what) {
    const call = what === "pause" ? api.pauseCampaign(c.id, { reason: "paused from the console" }) : what === "resume" ? api.resumeCampaign(c.id) : api.cancelCampaign(c.id);
    call.then((x) => this.upsert(x), (e) => this.err.textContent = errorText(e));
  }
  render() {
    replace(this.box, this.list.map((c) => {
      const open = c.state === "running" || c.state === "paused" || c.state === "creating";
      return h(
        "section",
        { class: "card campaign", "data-campaign": String(c.id), "data-state": c.state, "aria-labelledby": "c-" + c.id },
        h(
          "div",
          { class: "campaign-head" },
          h("h2", { id: "c-" + c.id }, `#${c.id} ${c.name || c.template.mo.toUpperCase() + " " + (c.template.operation ?? "")}`),
          badge(c.state),
          c.reason ? h("span", { class: "muted" }, c.reason) : null,
          h("span", { class: "muted" }, "created " + when(c.created_at))
        ),
        campaignBar(c),
        open ? h(
          "div",
          { class: "actions" },
          c.state === "running" ? h("button", { type: "button", onclick: () => this.act(c, "pause") }, "Pause") : null,
          c.state === "paused" ? h("button", { type: "button", class: "primary", onclick: () => this.act(c, "resume") }, "Resume") : null,
          h("button", { type: "button", class: "danger", onclick: () => {
            if (confirm(`Cancel campaign ${c.id}?`)) this.act(c, "cancel");
          } }, "Cancel")
        ) : null
      );
    }));
    if (!this.list.length) this.box.append(h("p", { class: "muted" }, "No campaigns yet."));
  }
  form() {
    const name = h("input", { name: "name" });
    const op = h("omadm-op-form", { mode: "template" });
    const kind = h(
      "select",
      { name: "target-kind" },
      [["devices", "Device list"], ["group", "Group"], ["selector", "Selector"], ["id_prefix", "ID prefix"], ["all", "All devices"]].map(([v, l]) => h("option", { value: v }, l))
    );
    const target = h("input", { name: "target", placeholder: "IMEI:1, IMEI:2" });
    const waves = h("input", { name: "waves", placeholder: "5%, 25%, 100%" });
    const inflight = h("input", { name: "max_in_flight", type: "number", placeholder: "100" });
    const failures = h("input", { name: "max_failure_percent", type: "number", placeholder: "no limit" });
    const paused = h("input", { type: "checkbox", name: "paused" });
    const msg = h("p", { role: "status", class: "muted campaign-msg" });
    kind.addEventListener("change", () => {
      target.disabled = kind.value === "all";
    });
    const form = h(
      "form",
      { class: "card", "aria-labelledby": "new-c-h" },
      h(
        "details",
        null,
        h("summary", { id: "new-c-h" }, "New campaign"),
        h("div", { class: "inline" }, field("Name", name)),
        op,
        h("fieldset", null, h("legend", null, "Devices"), field("Target", kind), field("Value", target, "IDs comma separated, a group name, a selector or an ID prefix")),
        h(
          "fieldset",
          null,
          h("legend", null, "Rollout"),
          field("Waves", waves, "cumulative sizes"),
          field("Max in flight", inflight),
          field("Pause above failure %", failures),
          h("label", { class: "check" }, paused, "Create paused")
        ),
        h("button", { type: "submit", class: "primary" }, "Create campaign"),
        msg
      )
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const t = op.template();
      if (!t) return;
      const tg = {};
      const v = target.value.trim();
      switch (kind.value) {
        case "devices":
          tg.devices = v.split(",").map((s) => s.trim()).filter(Boolean);
          break;
        case "group":
          tg.group = v;
          break;
        case "selector":
          tg.selector = v;
          break;
        case "id_prefix":
          tg.id_prefix = v;
          break;
        default:
          tg.all = true;
      }
      const req = { name: name.value.trim() || void 0, template: t, target: tg, paused: paused.checked, policy: {} };
      const w = waves.value.split(",").map((s) => s.trim()).filter(Boolean);
      if (w.length) req.policy.waves = w;
      if (inflight.value) req.policy.max_in_flight = Number(inflight.value);
      if (failures.value) req.policy.max_failure_percent = Number(failures.value);
      try {
        const c = await api.createCampaign(req);
        msg.textContent = `Campaign ${c.id} created (${c.total} devices)`;
        this.upsert(c);
      } catch (x) {
        msg.textContent = errorText(x);
      }
    });
    return form;
  }
};

// src/views/device-view.ts
var tabs = [
  ["overview", "Overview"],
  ["tree", "Tree"],
  ["jobs", "Jobs"],
  ["operations", "Operations"],
  ["traces", "Traces"],
  ["events", "Events"]
];
var DeviceView = class extends HTMLElement {
  deviceId = "";
  panel = h("div", { class: "tabpanel", role: "tabpanel", id: "device-panel", tabindex: "0" });
  overview = h("div");
  err = h("p", { class: "error", role: "alert" });
  connectedCallback() {
    this.deviceId = this.getAttribute("device") ?? "";
    const tab = tabs.some(([t]) => t === this.getAttribute("tab")) ? this.getAttribute("tab") : "overview";
    const list = h(
      "div",
      { class: "tabs", role: "tablist", "aria-label": "Device sections" },
      tabs.map(([t, label2]) => h("a", {
        role: "tab",
        id: "tab-" + t,
        href: Router.href(`/devices/${encodeURIComponent(this.deviceId)}/${t}`),
        "aria-selected": String(t === tab),
        "aria-controls": "device-panel",
        tabindex: t === tab ? "0" : "-1"
      }, label2))
    );
    list.addEventListener("keydown", (e) => {
      const items = [...list.querySelectorAll("[role=tab]")];
      const i = items.indexOf(document.activeElement);
      let j = -1;
      if (e.key === "ArrowRight") j = (i + 1) % items.length;
      else if (e.key === "ArrowLeft") j = (i - 1 + items.length) % items.length;
      else if (e.key === "Home") j = 0;
      else if (e.key === "End") j = items.length - 1;
      if (j < 0) return;
      e.preventDefault();
      items[j].focus();
      items[j].click();
    });
    this.panel.setAttribute("aria-labelledby", "tab-" + tab);
    this.replaceChildren(
      h(
        "div",
        { class: "view-head" },
        h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: Router.href("/fleet") }, "Fleet"), " / "),
        h("h1", { class: "device-title" }, this.deviceId)
      ),
      this.err,
      list,
      this.panel
    );
    switch (tab) {
      case "overview":
        this.panel.append(this.overview);
        void this.loadOverview();
        break;
      case "tree":
        this.panel.append(h("omadm-tree-browser", { device: this.deviceId }));
        break;
      case "jobs":
        this.panel.append(h("omadm-job-form", { device: this.deviceId }), h("omadm-job-table", { device: this.deviceId }));
        break;
      case "operations":
        this.panel.append(h("omadm-op-form", { device: this.deviceId }), h("omadm-op-list", { device: this.deviceId }));
        break;
      case "traces":
        this.panel.append(h("omadm-trace-list", { device: this.deviceId }));
        break;
      case "events":
        this.panel.append(h("omadm-event-log", { device: this.deviceId }));
        break;
    }
  }
  async loadOverview() {
    try {
      const d = await api.getDevice(this.deviceId);
      this.renderOverview(d);
    } catch (e) {
      this.err.textContent = errorText(e);
    }
  }
  renderOverview(d) {
    const ident = [
      ["Device ID", d.id],
      ["Auth", d.auth + (d.server_auth ? " (server: " + d.server_auth + ")" : "")],
      ["User name", d.username],
      ["Notification address", d.notify_addr || "–"],
      ["Transport auth", d.transport_auth || "DM credentials"],
      ["Certificate SHA-256", d.cert_sha256 || "–"],
      ["Enrolled", when(d.created_at)],
      ["Last seen", when(d.last_seen)]
    ];
    const info = Object.entries(d.devinfo ?? {}).sort(([a], [b]) => a.localeCompare(b));
    const labels = h("input", { name: "labels", class: "wide", value: Object.entries(d.labels ?? {}).map(([k, v]) => k + "=" + v).join(", ") });
    const msg = h("span", { role: "status", class: "muted" });
    const labelForm = h(
      "form",
      { class: "inline", "aria-label": "Labels" },
      field("Labels", labels, "key=value, comma separated"),
      h("button", { type: "submit" }, "Save labels"),
      msg
    );
    labelForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const out = {};
      for (const part of labels.value.split(",")) {
        const [k, ...v] = part.split("=");
        if (k.trim()) out[k.trim()] = v.join("=").trim();
      }
      try {
        await api.updateDevice(this.deviceId, { labels: out });
        msg.textContent = "Saved.";
      } catch (x) {
        msg.textContent = errorText(x);
      }
    });
    const notify = h("button", { type: "button", onclick: async () => {
      try {
        const r = await api.notifyDevice(this.deviceId);
        msg.textContent = "Notification sent to " + r.addr;
      } catch (x) {
        msg.textContent = errorText(x);
      }
    } }, "Send notification");
    const del = h("button", { type: "button", class: "danger", onclick: async () => {
      if (!confirm(`Remove ${this.deviceId} and everything stored about it?`)) return;
      try {
        await api.deleteDevice(this.deviceId);
        router.go("/fleet");
      } catch (x) {
        msg.textContent = errorText(x);
      }
    } }, "Remove device");
    replace(
      this.overview,
      h(
        "div",
        { class: "grid2" },
        h(
          "section",
          { class: "card", "aria-labelledby": "ident-h" },
          h("h2", { id: "ident-h" }, "Identity"),
          h("dl", { class: "kv" }, ident.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)]))
        ),
        h(
          "section",
          { class: "card", "aria-labelledby": "devinfo-h" },
          h("h2", { id: "devinfo-h" }, "DevInfo"),
          info.length ? h("dl", { class: "kv devinfo" }, info.flatMap(([k, v]) => [h("dt", null, k.replace(/^\.\//, "")), h("dd", null, v)])) : h("p", { class: "muted" }, "Not reported yet.")
        )
      ),
      h("section", { class: "card" }, labelForm, h("div", { class: "actions" }, notify, del))
    );
  }
};

// src/views/fleet-view.ts
var pageSize = 50;
var FleetView = class extends HTMLElement {
  cursors = [""];
  // cursor of each page seen, for Previous
  page = 0;
  next = "";
  devices = [];
  body = h("tbody");
  info = h("p", { class: "muted", role: "status", id: "fleet-info" });
  err = h("p", { class: "error", role: "alert" });
  search = h("input", { type: "search", name: "q", autocomplete: "off", placeholder: "IMEI:35… or label.site=north,model=X200", "aria-describedby": "q-hint" });
  sort = h("select", { name: "sort" }, [["id", "Device ID"], ["last_seen", "Last seen"], ["created", "Enrolled"]].map(([v, l]) => h("option", { value: v }, l)));
  group = h("select", { name: "group" }, h("option", { value: "" }, "All devices"));
  order = h("select", { name: "order" }, [["asc", "Ascending"], ["desc", "Descending"]].map(([v, l]) => h("option", { value: v }, l)));
  prev = h("button", { type: "button", onclick: () => void this.go(this.page - 1) }, "← Previous");
  nextBtn = h("button", { type: "button", onclick: () => void this.go(this.page + 1) }, "Next →");
  timer = 0;
  seq = 0;
  unsub = [];
  connectedCallback() {
    const q = new URLSearchParams(location.hash.split("?")[1] ?? "");
    this.search.value = q.get("q") ?? "";
    this.search.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = window.setTimeout(() => this.restart(), 250);
    });
    this.search.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown") {
        e.preventDefault();
        this.body.querySelector("a")?.focus();
      }
    });
    this.sort.addEventListener("change", () => this.restart());
    this.order.addEventListener("change", () => this.restart());
    this.group.addEventListener("change", () => this.restart());
    api.listGroups({ limit: 1e3 }).then((l) => {
      for (const g of l.groups) this.group.append(h("option", { value: g.name }, g.name + (g.dynamic ? " (dynamic)" : "")));
    }, () => {
    });
    const tbl = h(
      "table",
      { class: "devices", "aria-describedby": "fleet-info" },
      h("caption", { class: "sr-only" }, "Devices"),
      h("thead", null, h("tr", null, ["Device", "Model", "Firmware", "Labels", "Last seen"].map((x) => h("th", { scope: "col" }, x)))),
      this.body
    );
    this.body.addEventListener("keydown", (e) => this.rowKeys(e));
    this.replaceChildren(
      h(
        "div",
        { class: "view-head" },
        h("h1", null, "Fleet"),
        h(
          "form",
          { class: "toolbar", role: "search", onsubmit: (e) => {
            e.preventDefault();
            this.restart();
          } },
          field("Search", this.search),
          field("Group", this.group),
          field("Sort by", this.sort),
          field("Order", this.order)
        )
      ),
      h("p", { id: "q-hint", class: "hint" }, "Plain text matches device IDs by prefix; a selector matches terms such as label.KEY=VALUE, model=, fwv=, group=, seen<7d (comma = and)."),
      this.err,
      h(
        "div",
        { class: "card" },
        tbl,
        h("div", { class: "pager" }, this.prev, this.info, this.nextBtn)
      ),
      h("omadm-enrol-form")
    );
    this.unsub.push(store.subscribe({ kinds: ["session"] }, (u) => {
      const d = this.devices.find((x) => x.id === u.device);
      if (d && u.session?.state === "started") {
        d.last_seen = u.time;
        this.renderRows();
      }
    }));
    this.unsub.push(store.onResync(() => void this.load()));
    void this.load();
  }
  disconnectedCallback() {
    clearTimeout(this.timer);
    this.unsub.forEach((f) => f());
  }
  restart() {
    this.cursors = [""];
    this.page = 0;
    void this.load();
  }
  async go(page) {
    if (page < 0 || page > this.cursors.length) return;
    if (page === this.cursors.length) this.cursors.push(this.next);
    this.page = page;
    await this.load();
  }
  async load() {
    this.err.textContent = "";
    const seq = ++this.seq;
    const text = this.search.value.trim();
    const selector = /[=<>^]/.test(text);
    try {
      const l = await api.listDevices({
        q: selector ? text : void 0,
        id_prefix: !selector && text ? text : void 0,
        group: this.group.value || void 0,
        sort: this.sort.value,
        order: this.order.value,
        cursor: this.cursors[this.page] || void 0,
        limit: pageSize
      });
      if (seq !== this.seq) return;
      this.devices = l.devices;
      this.next = l.next_cursor ?? "";
      if (this.page + 1 < this.cursors.length && this.cursors[this.page + 1] !== this.next) this.cursors.length = this.page + 1;
      this.renderRows();
    } catch (e) {
      if (seq === this.seq) this.err.textContent = errorText(e);
    }
  }
  renderRows() {
    replace(this.body, this.devices.map((d) => {
      const dev = d.devinfo ?? {};
      const link = h("a", { href: Router.href("/devices/" + encodeURIComponent(d.id)) }, d.id);
      return h(
        "tr",
        { "data-device": d.id },
        h("td", null, link),
        h("td", null, [dev["./DevInfo/Man"], dev["./DevInfo/Mod"]].filter(Boolean).join(" ") || "–"),
        h("td", null, dev["./DevDetail/FwV"] ?? "–"),
        h("td", null, Object.entries(d.labels ?? {}).map(([k, v]) => h("button", { type: "button", class: "chip", title: "Show devices with this label", onclick: () => {
          this.search.value = `label.${k}=${quote(v)}`;
          this.restart();
        } }, k + "=" + v))),
        h("td", { title: d.last_seen ?? "" }, ago(d.last_seen))
      );
    }));
    if (this.devices.length === 0) this.body.append(h("tr", null, h("td", { colspan: "5", class: "muted" }, this.search.value ? "No device matches." : "No devices.")));
    const from = this.page * pageSize + 1;
    this.info.textContent = this.devices.length ? `Devices ${from}–${from + this.devices.length - 1}` : "";
    this.prev.disabled = this.page === 0;
    this.nextBtn.disabled = this.next === "";
  }
  /** rowKeys moves between device links with the arrow keys. */
  rowKeys(e) {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const links = [...this.body.querySelectorAll("a")];
    const i = links.indexOf(document.activeElement);
    if (i < 0) return;
    e.preventDefault();
    const j = e.key === "ArrowDown" ? i + 1 : i - 1;
    if (j < 0) this.search.focus();
    else links[Math.min(j, links.length - 1)].focus();
  }
};
function quote(v) {
  return /[,"\s]/.test(v) ? `"${v.replace(/"/g, '\\"')}"` : v;
}

// src/views/login-view.ts
var LoginView = class extends HTMLElement {
  connectedCallback() {
    const params = new URLSearchParams(location.hash.split("?")[1] ?? "");
    const input = h("input", { id: "token", name: "token", type: "password", autocomplete: "off", required: true, "aria-describedby": "login-error" });
    const err = h(
      "p",
      { id: "login-error", class: "error", role: "alert" },
      params.get("expired") ? "The API token was refused; sign in again." : ""
    );
    const button = h("button", { type: "submit", class: "primary" }, "Sign in");
    const form = h(
      "form",
      { class: "card login", "aria-labelledby": "login-title" },
      h("h1", { id: "login-title" }, "Sign in to omadm"),
      h("p", { class: "muted" }, "Use the API token of this server (omadm serve prints where it is kept)."),
      field("API token", input),
      err,
      button
    );
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
};

// src/views/operations-view.ts
var OperationsView = class extends HTMLElement {
  connectedCallback() {
    this.replaceChildren(
      h("div", { class: "view-head" }, h("h1", null, "Operations")),
      h("p", { class: "muted" }, "Forms come from the management objects the server describes (GET /api/v1/mos). A device's full history is on its Operations tab."),
      h("omadm-op-form"),
      h("omadm-op-list")
    );
  }
};

// src/views/settings-view.ts
var SettingsView = class extends HTMLElement {
  unsub = null;
  tokensBody = h("div");
  tokensErr = h("p", { class: "error", role: "alert" });
  showRevoked = h("input", { type: "checkbox", name: "show-revoked" });
  dialog = h("dialog", { class: "card confirm", "aria-labelledby": "revoke-h", "aria-describedby": "revoke-d" });
  connectedCallback() {
    const health = h("dl", { class: "kv" });
    const stream = h("dl", { class: "kv" });
    const t = session.token();
    const renderStream = () => replace(
      stream,
      h("dt", null, "Live stream"),
      h("dd", null, store.status + (store.statusDetail ? " (" + store.statusDetail + ")" : "")),
      h("dt", null, "Last event ID"),
      h("dd", null, store.lastEventId || "–"),
      h("dt", null, "Updates received"),
      h("dd", null, String(store.recent.length))
    );
    const l = () => renderStream();
    store.addEventListener("status", l);
    this.unsub = () => store.removeEventListener("status", l);
    this.showRevoked.addEventListener("change", () => void this.loadTokens());
    this.replaceChildren(
      h("div", { class: "view-head" }, h("h1", null, "Settings")),
      h(
        "div",
        { class: "grid2" },
        h("section", { class: "card", "aria-labelledby": "srv-h" }, h("h2", { id: "srv-h" }, "Server"), health),
        h(
          "section",
          { class: "card", "aria-labelledby": "tok-h" },
          h("h2", { id: "tok-h" }, "This tab"),
          h("dl", { class: "kv" }, h("dt", null, "Token"), h("dd", { class: "mono" }, t.slice(0, 12) + "… (kept for this tab only)")),
          stream
        )
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "tokens-h" },
        h("h2", { id: "tokens-h" }, "API tokens"),
        h("p", { class: "muted" }, "Each token is shown once, when it is created; the server keeps only its SHA-256. A revoked token is refused at once by every server node. The bootstrap token of omadm serve is not listed and cannot be revoked here."),
        this.createForm(),
        this.tokensErr,
        h("label", { class: "check" }, this.showRevoked, "Show revoked tokens"),
        this.tokensBody
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "senders-h" },
        h("h2", { id: "senders-h" }, "Notification senders"),
        h("p", { class: "muted" }, "How this server sends package 0 to devices, by address scheme (set by omadm serve flags)."),
        this.senders()
      ),
      this.dialog
    );
    renderStream();
    api.health().then(
      (x) => replace(
        health,
        h("dt", null, "Status"),
        h("dd", null, x.status + (x.error ? ": " + x.error : "")),
        h("dt", null, "Version"),
        h("dd", null, x.version || "–"),
        h("dt", null, "API"),
        h("dd", null, h("a", { href: "/api/v1/openapi.json" }, "OpenAPI document"))
      ),
      (e) => replace(health, h("dd", { class: "error" }, errorText(e)))
    );
    void this.loadTokens();
  }
  disconnectedCallback() {
    this.unsub?.();
  }
  createForm() {
    const name = h("input", { name: "token-name", required: true, pattern: "[A-Za-z][A-Za-z0-9._\\-]{0,63}", autocomplete: "off" });
    const out = h("div", { class: "token-created", role: "status", "aria-live": "polite" });
    const form = h(
      "form",
      { class: "inline", "aria-label": "Create an API token" },
      field("Name", name, "a letter, then letters, digits, . _ or -"),
      h("button", { type: "submit", class: "primary" }, "Create token")
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      replace(out);
      try {
        const t = await api.createToken({ name: name.value.trim() });
        const value = h("input", { class: "mono", readonly: true, value: t.token ?? "", "aria-label": `New token ${t.name}`, size: 52 });
        const copy = h("button", { type: "button", class: "small" }, "Copy");
        copy.addEventListener("click", () => {
          value.select();
          void navigator.clipboard?.writeText(value.value).then(() => copy.textContent = "Copied", () => void 0);
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
  async loadTokens() {
    try {
      const l = await api.listTokens({ revoked: this.showRevoked.checked || void 0 });
      this.tokensErr.textContent = "";
      this.renderTokens(l.tokens, l.bootstrap_current ?? false);
    } catch (e) {
      this.tokensErr.textContent = errorText(e);
    }
  }
  renderTokens(list, bootstrap) {
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
      t.revoked_at ? null : h("button", {
        type: "button",
        class: "small danger",
        "data-token": t.name,
        "aria-label": `Revoke token ${t.name}`,
        onclick: (e) => this.confirmRevoke(t, e.currentTarget)
      }, "Revoke")
    ]), { class: "tokens" }));
  }
  /** confirmRevoke asks in a modal dialog: Escape or Cancel closes it, the
   * focus starts on Cancel and goes back to the button that opened it. */
  confirmRevoke(t, opener) {
    const cancel = h("button", { type: "button" }, "Cancel");
    const ok = h("button", { type: "button", class: "danger" }, "Revoke");
    const msg = h("p", { class: "error", role: "alert" });
    replace(
      this.dialog,
      h("h2", { id: "revoke-h" }, `Revoke token ${t.name}?`),
      h("p", { id: "revoke-d" }, "Every request that carries it is refused from now on, on every server node." + (t.current ? " This tab uses it: you will have to sign in again." : "")),
      msg,
      h("div", { class: "inline" }, cancel, ok)
    );
    const close = () => this.dialog.close();
    this.dialog.onclose = () => opener.isConnected ? opener.focus() : this.querySelector("#tokens-h")?.focus();
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
  senders() {
    const box = h("div");
    const device = h("input", { name: "test-device", required: true, placeholder: "IMEI:…", autocomplete: "off" });
    const msg = h("p", { role: "status", class: "muted test-result" });
    const form = h(
      "form",
      { class: "inline", "aria-label": "Send a test notification" },
      field("Device", device, "sends package 0 now; the device opens a session"),
      h("button", { type: "submit" }, "Send test package 0")
    );
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
    api.listNotificationSenders().then(
      (l) => replace(box, l.senders.length ? table("Notification senders", ["Scheme", "Kind", "Description"], l.senders.map((s) => [
        h("span", { class: "mono" }, s.scheme + ":"),
        h("span", { class: "mono" }, s.kind),
        s.description || "–"
      ]), { class: "senders" }) : h("p", { class: "muted" }, "No notification sender is configured.")),
      (e) => replace(box, h("p", { class: "error" }, errorText(e)))
    );
    return h("div", null, box, form, msg);
  }
};

// src/main.ts
var elements = [
  ["omadm-login", LoginView],
  ["omadm-fleet", FleetView],
  ["omadm-device", DeviceView],
  ["omadm-operations", OperationsView],
  ["omadm-campaigns", CampaignsView],
  ["omadm-settings", SettingsView],
  ["omadm-tree-browser", TreeBrowser],
  ["omadm-job-form", JobForm],
  ["omadm-job-table", JobTable],
  ["omadm-op-form", OpForm],
  ["omadm-op-list", OpList],
  ["omadm-trace-list", TraceList],
  ["omadm-event-log", EventLog],
  ["omadm-enrol-form", EnrolForm]
];
for (const [name, ctor] of elements) customElements.define(name, ctor);
router.define([
  { path: "/login", title: "Sign in", public: true, render: () => h("omadm-login") },
  { path: "/fleet", title: "Fleet", render: () => h("omadm-fleet") },
  { path: "/devices/:id/:tab?", title: "Device", render: (p) => h("omadm-device", { device: p.id, tab: p.tab ?? "overview" }) },
  { path: "/operations", title: "Operations", render: () => h("omadm-operations") },
  { path: "/campaigns", title: "Campaigns", render: () => h("omadm-campaigns") },
  { path: "/settings", title: "Settings", render: () => h("omadm-settings") }
]);
if (session.loggedIn()) store.connect();
customElements.define("omadm-app", AppShell);
