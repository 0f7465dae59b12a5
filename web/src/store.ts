// The console's live state: the stream's status and the updates it brought,
// handed to whichever views subscribed to them.

import { Update } from "./api/gen";
import { EventStream, StreamStatus } from "./sse";

export interface Filter {
  device?: string;
  kinds?: string[];
}

type Listener = (u: Update) => void;

/** Store is fed by the event stream and feeds the views. */
export class Store extends EventTarget {
  status: StreamStatus = "offline";
  statusDetail = "";
  /** recent holds the latest updates, newest first. */
  readonly recent: Update[] = [];
  private readonly subs = new Set<{ f: Filter; fn: Listener }>();
  private readonly resyncs = new Set<() => void>();
  private readonly stream: EventStream;

  constructor(onUnauthorized: () => void) {
    super();
    this.stream = new EventStream({
      update: (u) => this.publish(u),
      resync: () => this.resyncs.forEach((fn) => fn()),
      status: (s, d) => {
        this.status = s;
        this.statusDetail = d ?? "";
        this.dispatchEvent(new Event("status"));
      },
      unauthorized: onUnauthorized,
    });
  }

  connect(): void {
    this.stream.start();
  }

  disconnect(): void {
    this.stream.stop();
    this.status = "offline";
    this.dispatchEvent(new Event("status"));
  }

  get lastEventId(): string {
    return this.stream.lastEventId;
  }

  /** subscribe calls fn with each update f matches; it returns the unsubscribe. */
  subscribe(f: Filter, fn: Listener): () => void {
    const s = { f, fn };
    this.subs.add(s);
    return () => this.subs.delete(s);
  }

  /** onResync calls fn when live updates may have been missed. */
  onResync(fn: () => void): () => void {
    this.resyncs.add(fn);
    return () => this.resyncs.delete(fn);
  }

  publish(u: Update): void {
    this.recent.unshift(u);
    if (this.recent.length > 500) this.recent.length = 500;
    for (const { f, fn } of [...this.subs]) {
      if (f.device && u.device !== f.device) continue;
      if (f.kinds && !f.kinds.includes(u.kind)) continue;
      fn(u);
    }
  }
}
