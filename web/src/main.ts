// omadm console: native Web Components, one per view and component, a hash
// router, the generated API client and a store fed by the live stream.

import { router, store } from "./app";
import { AppShell } from "./components/app-shell";
import { EnrolForm } from "./components/enrol";
import { EventLog } from "./components/events";
import { JobForm, JobTable } from "./components/jobs";
import { OpForm, OpList } from "./components/operations";
import { TraceList } from "./components/traces";
import { TreeBrowser } from "./components/tree-browser";
import { h } from "./dom";
import { session } from "./session";
import { CampaignsView } from "./views/campaigns-view";
import { DeviceView } from "./views/device-view";
import { FleetView } from "./views/fleet-view";
import { LoginView } from "./views/login-view";
import { OperationsView } from "./views/operations-view";
import { SettingsView } from "./views/settings-view";

const elements: [string, CustomElementConstructor][] = [
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
  ["omadm-enrol-form", EnrolForm],
];
for (const [name, ctor] of elements) customElements.define(name, ctor);

router.define([
  { path: "/login", title: "Sign in", public: true, render: () => h("omadm-login") },
  { path: "/fleet", title: "Fleet", render: () => h("omadm-fleet") },
  { path: "/devices/:id/:tab?", title: "Device", render: (p) => h("omadm-device", { device: p.id, tab: p.tab ?? "overview" }) },
  { path: "/operations", title: "Operations", render: () => h("omadm-operations") },
  { path: "/campaigns", title: "Campaigns", render: () => h("omadm-campaigns") },
  { path: "/settings", title: "Settings", render: () => h("omadm-settings") },
]);

declare global {
  interface HTMLElementTagNameMap {
    "omadm-app": AppShell;
    "omadm-login": LoginView;
    "omadm-fleet": FleetView;
    "omadm-device": DeviceView;
    "omadm-operations": OperationsView;
    "omadm-campaigns": CampaignsView;
    "omadm-settings": SettingsView;
    "omadm-tree-browser": TreeBrowser;
    "omadm-job-form": JobForm;
    "omadm-job-table": JobTable;
    "omadm-op-form": OpForm;
    "omadm-op-list": OpList;
    "omadm-trace-list": TraceList;
    "omadm-event-log": EventLog;
    "omadm-enrol-form": EnrolForm;
  }
}

if (session.loggedIn()) store.connect();
customElements.define("omadm-app", AppShell);
