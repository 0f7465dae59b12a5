// omadm console: talks only to /api/v1 with the operator's bearer token.
// Every value from the server is inserted with textContent, never as HTML.
"use strict";

const $ = (sel) => document.querySelector(sel);
let token = sessionStorage.getItem("omadm-token") || "";
let selected = null;
let tab = "jobs";
let streamAbort = null;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function setStatus(msg, isError) {
  const s = $("#status");
  s.textContent = msg;
  s.className = isError ? "error" : "";
}

async function api(method, path, body) {
  const opts = { method, headers: { Authorization: "Bearer " + token } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch("/api/v1" + path, opts);
  if (resp.status === 204) return null;
  const data = await resp.json().catch(() => ({ error: resp.statusText }));
  if (!resp.ok) throw new Error(data.error || resp.statusText);
  return data;
}

const enc = encodeURIComponent;

function when(t) { return t ? new Date(t).toLocaleString() : "–"; }

async function loadDevices() {
  try {
    const page = await api("GET", "/devices?limit=1000");
    const tbody = $("#devices tbody");
    tbody.replaceChildren();
    for (const d of page.devices) {
      const tr = el("tr");
      tr.append(el("td", d.id), el("td", d.auth), el("td", when(d.last_seen)));
      if (d.id === selected) tr.className = "selected";
      tr.addEventListener("click", () => selectDevice(d.id));
      tbody.append(tr);
    }
    setStatus(page.devices.length + " devices" + (page.next ? " (first 1000)" : ""));
  } catch (e) {
    setStatus(e.message, true);
  }
}

async function selectDevice(id) {
  selected = id;
  try {
    const d = await api("GET", "/devices/" + enc(id));
    $("#device-pane").hidden = false;
    $("#device-title").textContent = d.id;
    const dl = $("#device-info");
    dl.replaceChildren();
    const rows = [["auth", d.auth], ["username", d.username], ["notify", d.notify_addr || "–"],
      ["created", when(d.created_at)], ["last seen", when(d.last_seen)]];
    for (const [k, v] of Object.entries(d.devinfo || {})) rows.push([k, v]);
    for (const [k, v] of Object.entries(d.labels || {})) rows.push(["label " + k, v]);
    for (const [k, v] of rows) dl.append(el("dt", k), el("dd", v));
    await loadTab();
    await loadDevices();
  } catch (e) {
    setStatus(e.message, true);
  }
}

function table(headers, rows) {
  const t = el("table");
  const tr = el("tr");
  for (const h of headers) tr.append(el("th", h));
  t.append(el("thead"));
  t.tHead.append(tr);
  const tb = el("tbody");
  for (const r of rows) {
    const row = el("tr");
    for (const c of r) row.append(c instanceof Node ? c : el("td", c));
    tb.append(row);
  }
  t.append(tb);
  return t;
}

async function loadTab() {
  if (!selected) return;
  const box = $("#tab");
  const id = enc(selected);
  try {
    if (tab === "jobs") {
      const page = await api("GET", "/devices/" + id + "/jobs?limit=1000");
      const jobs = page.jobs.slice().reverse();
      box.replaceChildren(table(["ID", "Command", "URI", "State", "Status", "Result"], jobs.map((j) => {
        const st = el("td", j.state, "state-" + j.state);
        const res = j.error || j.results.map((r) => r.uri + " = " + r.data).join("\n");
        return [j.id, j.command, j.uri, st, j.status || "–", res];
      })));
    } else if (tab === "tree") {
      const t = await api("GET", "/devices/" + id + "/tree");
      box.replaceChildren(table(["URI", "Format", "Value", "Updated"], t.nodes.map((n) => [n.uri, n.format, n.value, when(n.updated_at)])));
    } else if (tab === "events") {
      const ev = await api("GET", "/devices/" + id + "/events?limit=1000");
      box.replaceChildren(table(["ID", "Time", "Kind", "Type", "Data"], ev.events.slice().reverse().map((e) => [e.id, when(e.created_at), e.kind, e.type || "", e.data || ""])));
    } else if (tab === "traces") {
      const tr = await api("GET", "/devices/" + id + "/traces?limit=50");
      box.replaceChildren();
      for (const t of tr.traces) {
        const arrow = t.direction === "in" ? "device → server" : "server → device";
        box.append(el("h3", when(t.created_at) + "  session " + t.session + "  msg " + t.msg_id + "  " + arrow + "  " + t.content_type));
        box.append(el("pre", t.decoded));
      }
    }
  } catch (e) {
    box.replaceChildren(el("p", e.message, "error"));
  }
}

function live(u) {
  const list = $("#live");
  let text = new Date(u.time).toLocaleTimeString() + " " + u.kind + " " + (u.device || "");
  if (u.job) text += " job " + u.job.id + " " + u.job.state + (u.job.status ? " " + u.job.status : "");
  if (u.event) text += " " + u.event.kind + " " + (u.event.data || "");
  if (u.session) text += " session " + u.session.id + " " + u.session.state;
  if (u.trace) text += " " + (u.trace.direction || "") + " msg " + (u.trace.msg_id || "");
  list.prepend(el("li", text));
  while (list.children.length > 200) list.lastChild.remove();
  if (u.device === selected && (u.kind === "job" || tab !== "jobs")) loadTab();
}

async function stream() {
  if (streamAbort) streamAbort.abort();
  streamAbort = new AbortController();
  const signal = streamAbort.signal;
  let lastEventId = "";
  for (let attempt = 0; attempt < 1000 && !signal.aborted; attempt++) {
    try {
      const headers = { Authorization: "Bearer " + token };
      if (lastEventId) headers["Last-Event-ID"] = lastEventId; // stored events missed meanwhile are replayed
      const resp = await fetch("/api/v1/events/stream", { headers, signal });
      if (!resp.ok) throw new Error("stream: HTTP " + resp.status);
      const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
          if (!data) continue;
          if (block.includes("event: lagged")) { loadDevices(); loadTab(); continue; }
          const idLine = block.split("\n").find((l) => l.startsWith("id:"));
          if (idLine) lastEventId = idLine.slice(3).trim();
          live(JSON.parse(data));
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      setStatus(e.message, true);
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
}

$("#login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = $("#token").value.trim();
  sessionStorage.setItem("omadm-token", token);
  loadDevices();
  stream();
});

$("#refresh-devices").addEventListener("click", loadDevices);

$("#add-device").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const body = Object.fromEntries([...f.entries()].filter(([, v]) => v !== ""));
  try {
    const d = await api("POST", "/devices", body);
    $("#enrol-result").textContent = d.server_password ? "Enrolled. Server password (shown once): " + d.server_password : "Enrolled.";
    ev.target.reset();
    loadDevices();
  } catch (e) {
    $("#enrol-result").textContent = e.message;
  }
});

$("#job").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const command = f.get("command");
  const item = { uri: f.get("uri") };
  if (command === "Replace" || command === "Add" || command === "Exec") {
    if (f.get("data") !== "" || command !== "Exec") item.data = f.get("data");
    if (f.get("format")) item.format = f.get("format");
    else if (command !== "Exec") item.format = command === "Add" && f.get("data") === "" ? "node" : "chr";
    if (item.format === "node") delete item.data;
  }
  try {
    const j = await api("POST", "/devices/" + enc(selected) + "/jobs", { command, items: [item], notify: f.get("notify") === "on" });
    $("#job-result").textContent = "Queued job " + j.id + (j.warning ? " — " + j.warning : "");
    tab = "jobs";
    loadTab();
  } catch (e) {
    $("#job-result").textContent = e.message;
  }
});

$("#notify").addEventListener("click", async () => {
  try {
    const r = await api("POST", "/devices/" + enc(selected) + "/notify");
    $("#job-result").textContent = "Notification sent to " + r.addr;
  } catch (e) {
    $("#job-result").textContent = e.message;
  }
});

for (const b of document.querySelectorAll("nav button")) {
  b.addEventListener("click", () => {
    for (const o of document.querySelectorAll("nav button")) o.classList.toggle("active", o === b);
    tab = b.dataset.tab;
    loadTab();
  });
}

if (token) {
  $("#token").value = token;
  loadDevices();
  stream();
}
