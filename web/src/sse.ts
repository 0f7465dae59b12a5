// A reader of the API's server-sent-event stream. EventSource cannot send
// the Authorization header, so the stream is read with fetch; reconnects
// resume with Last-Event-ID so no stored event is missed.

import { Api, Update } from "./api/gen";
import { session } from "./session";

export type StreamStatus = "connecting" | "live" | "offline";

export interface StreamHandlers {
  update(u: Update): void;
  /** lagged: the server dropped the stream (too far behind) or the client
   * reconnected: live state may have been missed, re-read it. */
  resync(): void;
  status(s: StreamStatus, detail?: string): void;
  unauthorized(): void;
}

/** EventStream keeps one stream open until stop. */
export class EventStream {
  private abort: AbortController | null = null;
  private timer = 0;
  /** lastEventId is the highest stored event ID received. */
  lastEventId = "";

  constructor(private readonly h: StreamHandlers) {}

  start(): void {
    this.stop();
    const ctl = new AbortController();
    this.abort = ctl;
    void this.run(ctl.signal);
  }

  stop(): void {
    this.abort?.abort();
    this.abort = null;
    clearTimeout(this.timer);
  }

  private async run(signal: AbortSignal): Promise<void> {
    let backoff = 1000;
    let first = true;
    while (!signal.aborted) {
      this.h.status("connecting");
      try {
        const headers: Record<string, string> = { Authorization: "Bearer " + session.token() };
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
        backoff = 1000;
        await this.read(resp.body, signal);
      } catch (e) {
        if (signal.aborted) return;
        this.h.status("offline", e instanceof Error ? e.message : String(e));
      }
      if (signal.aborted) return;
      this.h.status("offline");
      await new Promise<void>((r) => {
        this.timer = window.setTimeout(r, backoff);
      });
      backoff = Math.min(backoff * 2, 15000);
    }
  }

  private async read(body: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<void> {
    const reader = body.pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>).getReader();
    let buf = "";
    while (!signal.aborted) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let i: number;
      while ((i = buf.search(/\r?\n\r?\n/)) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i).replace(/^\r?\n\r?\n/, "");
        this.dispatch(block);
      }
    }
  }

  private dispatch(block: string): void {
    let event = "message";
    const data: string[] = [];
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
      this.h.update(JSON.parse(data.join("\n")) as Update);
    } catch {
      // A message that is not an Update is not ours to show.
    }
  }
}
