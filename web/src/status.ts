// Names of the SyncML status codes the console shows most
// (OMA-TS-DM_RepPro-V1_2 §10.3; the full list is in the syncml package).

const names: Record<number, string> = {
  200: "OK", 202: "Accepted for processing", 204: "No content", 213: "Chunked item accepted",
  215: "Not executed", 216: "Atomic roll back OK", 304: "Not modified",
  400: "Bad request", 401: "Invalid credentials", 403: "Forbidden", 404: "Not found",
  405: "Command not allowed", 406: "Optional feature not supported", 407: "Missing credentials",
  412: "Incomplete command", 413: "Request entity too large", 415: "Unsupported media type or format",
  418: "Already exists", 425: "Permission denied", 500: "Command failed", 507: "Atomic failed",
  516: "Atomic roll back failed",
};

/** statusText is "200 OK" for a code, "–" for 0. */
export function statusText(code: number | undefined): string {
  if (!code) return "–";
  return names[code] ? `${code} ${names[code]}` : String(code);
}

/** statusOK reports a success code (2xx). */
export function statusOK(code: number): boolean {
  return code >= 200 && code < 300;
}
