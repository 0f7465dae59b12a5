// The console's shared services: the API client, the live store and the
// router, created once.

import { Api, FetchTransport } from "./api/client";
import { Job, Operation } from "./api/gen";
import { Router } from "./router";
import { session } from "./session";
import { Store } from "./store";

function unauthorized(): void {
  session.clear();
  store.disconnect();
  // The login view reports a refused token itself.
  if (router.current !== "/login") router.go("/login?expired=1");
}

export const api = new Api(new FetchTransport(unauthorized));
export const store = new Store(unauthorized);
export const router = new Router();

/** jobTerminal reports whether a job's state is final. */
export function jobTerminal(state: string): boolean {
  return state === "done" || state === "failed" || state === "cancelled";
}

/** opTerminal reports whether an operation's state is final. */
export function opTerminal(state: string): boolean {
  return state === "succeeded" || state === "failed" || state === "timed_out" || state === "cancelled";
}

/** waitJob resolves with the job once it is final, following the live
 * stream (and re-reading it when the stream reconnects). */
export function waitJob(id: number, signal?: AbortSignal): Promise<Job> {
  return new Promise<Job>((resolve, reject) => {
    let done = false;
    const finish = (j: Job): void => {
      if (done || !jobTerminal(j.state)) return;
      done = true;
      unsub();
      unresync();
      resolve(j);
    };
    const check = (): void => {
      api.getJob(id).then(finish, (e: unknown) => {
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
        if (jobTerminal(u.job.state)) check(); // the full job carries the results
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

const opRank: Record<Operation["state"], number> = {
  queued: 0, sent: 1, accepted: 2, retry_wait: 3, succeeded: 4, failed: 4, timed_out: 4, cancelled: 4,
};

/** opNewer reports whether a is a later view of its operation than b. An
 * attempt only moves forward (queued → sent → accepted → retry_wait or
 * final), and a later attempt is newer than any state of an earlier one, so
 * a copy that arrives late — the answer to the POST that created it, read
 * after the live stream already brought the device's progress, or a list
 * fetched before an update — never puts an operation back. */
export function opNewer(a: Operation, b: Operation): boolean {
  const aa = a.attempts ?? 0;
  const ab = b.attempts ?? 0;
  if (aa !== ab) return aa > ab;
  const ra = opRank[a.state] ?? 0;
  const rb = opRank[b.state] ?? 0;
  if (ra !== rb) return ra > rb;
  return stamp(a.updated_at) >= stamp(b.updated_at);
}

/** stamp is a server timestamp in milliseconds (RFC 3339 strings do not
 * sort as text: their fraction has no fixed width). */
export function stamp(t: string | undefined): number {
  const n = t ? Date.parse(t) : NaN;
  return isNaN(n) ? 0 : n;
}

/** upsertOperation keeps a list of operations current from an update,
 * ignoring one older than what the list already shows. */
export function upsertOperation(list: Operation[], op: Operation): Operation[] {
  const i = list.findIndex((o) => o.id === op.id);
  if (i < 0) list.unshift(op);
  else if (opNewer(op, list[i])) list[i] = op;
  return list;
}
