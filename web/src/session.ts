// The operator's API token, kept for this browser tab only.

const key = "omadm-token";

export const session = {
  token(): string {
    return sessionStorage.getItem(key) ?? "";
  },
  set(token: string): void {
    sessionStorage.setItem(key, token);
  },
  clear(): void {
    sessionStorage.removeItem(key);
  },
  loggedIn(): boolean {
    return this.token() !== "";
  },
};
