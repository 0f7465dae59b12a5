// <omadm-operations>: start an operation on any device and follow the
// operations of this session as they progress.

import { h } from "../dom";

export class OperationsView extends HTMLElement {
  connectedCallback(): void {
    this.replaceChildren(
      h("div", { class: "view-head" }, h("h1", null, "Operations")),
      h("p", { class: "muted" }, "Forms come from the management objects the server describes (GET /api/v1/mos). A device's full history is on its Operations tab."),
      h("omadm-op-form"), h("omadm-op-list"));
  }
}
