// The console's transport for the generated API: bearer token, JSON bodies,
// server errors as exceptions, 401 sending the operator back to the login.

import { Api, Transport } from "./gen";
import { session } from "../session";

/** ApiError is a non-2xx answer with the server's reason. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

type Query = Record<string, string | number | boolean | string[] | undefined>;

/** FetchTransport sends requests with the session's token. */
export class FetchTransport implements Transport {
  constructor(private readonly onUnauthorized: () => void) {}

  async request<T>(method: string, path: string, query?: Query, body?: unknown): Promise<T> {
    const url = path + queryString(query);
    const headers: Record<string, string> = { Authorization: "Bearer " + session.token() };
    const init: RequestInit = { method, headers };
    if (body instanceof Blob) {
      headers["Content-Type"] = body.type || "application/octet-stream";
      init.body = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const resp = await fetch(url, init);
    if (resp.status === 401) {
      this.onUnauthorized();
      throw new ApiError(401, "the API token was refused");
    }
    if (resp.status === 204) return undefined as T;
    const data: unknown = await resp.json().catch(() => null);
    if (!resp.ok) {
      const msg = data && typeof data === "object" && "error" in data ? String((data as { error: unknown }).error) : resp.statusText;
      throw new ApiError(resp.status, msg || "HTTP " + resp.status);
    }
    return data as T;
  }
}

/** queryString encodes the set values of q ("" when none). */
export function queryString(q?: Query): string {
  if (!q) return "";
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (Array.isArray(v)) v.forEach((x) => p.append(k, x)); // a repeatable parameter
    else if (v !== undefined && v !== "") p.set(k, String(v));
  }
  const s = p.toString();
  return s ? "?" + s : "";
}

export { Api };
