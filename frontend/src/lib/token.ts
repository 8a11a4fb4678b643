/**
 * The spawn form's build token, minted lazily and reused (issue #13).
 *
 * The spawn page carries no token. The first time the build panel needs one, it asks the hub
 * for a token of the user who opened the page (JupyterHub's `jhdata.user`, not the server's
 * owner): `POST {hub}/api/users/{user}/tokens` with the page's own cookie and JupyterHub's XSRF
 * token (`jhdata.xsrf_token`, sent as `X-XSRFToken`, which JupyterHub requires of a cookie on
 * its REST API, so another site cannot mint one). The token reaches only the suite's service
 * (`access:services!service=...`) and expires after `HubExtensionsBuilds.form_token_lifetime`.
 *
 * It is kept in this tab's sessionStorage, under the hub and user it belongs to, and reused
 * while it has at least MIN_LEFT_MS to live: reloads and later visits in the tab mint nothing.
 * sessionStorage is readable by any script of the hub's origin, which (without subdomains)
 * includes users' servers; such a script can already mint tokens with the same cookie and XSRF
 * token, and this one can do less than the cookie can (docs/builds.md, "The form's token").
 */

import type { HubPage } from "./hubpage";

/** What the hub is asked for (rendered by the server into the page data). */
export interface TokenRequest {
  scopes: string[];
  expires_in: number;
  note: string;
}

/** Reuse a stored token only while it has this long left: a build must start before it ends. */
export const MIN_LEFT_MS = 5 * 60 * 1000;
const STORE = "hub-extensions:form-token:";

interface Stored {
  token: string;
  /** Milliseconds since the epoch. */
  expires: number;
}

/** An error answer of the hub's token API, with its message. */
export class TokenError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "TokenError";
  }
}

export class FormToken {
  private pending: Promise<string> | null = null;
  private memory: Stored | null = null;

  constructor(
    private readonly page: HubPage,
    private readonly request: TokenRequest,
    private readonly storage: () => Storage | null,
    private readonly now: () => number = Date.now,
  ) {}

  private get key(): string {
    return `${STORE}${this.page.base_url}${this.page.user}`;
  }

  private stored(): string | null {
    let saved: Partial<Stored> | null = this.memory;
    try {
      const raw = this.storage()?.getItem(this.key);
      if (raw) saved = JSON.parse(raw) as Partial<Stored>;
    } catch {
      // storage blocked or a broken entry: what this page holds, if anything
    }
    if (saved && typeof saved.token === "string" && typeof saved.expires === "number") {
      if (saved.expires - this.now() > MIN_LEFT_MS) return saved.token;
    }
    return null;
  }

  /** A token of the page's user for the service: the stored one, or one minted now (once). */
  get(): Promise<string> {
    const kept = this.stored();
    if (kept) return Promise.resolve(kept);
    this.pending ??= this.mint().finally(() => (this.pending = null));
    return this.pending;
  }

  /** Drop the stored token (the service refused it: revoked, or expired early). */
  forget(): void {
    this.memory = null;
    try {
      this.storage()?.removeItem(this.key);
    } catch {
      // nothing stored
    }
  }

  private async mint(): Promise<string> {
    const url = `${this.page.base_url.replace(/\/*$/, "/")}api/users/${encodeURIComponent(this.page.user)}/tokens`;
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-XSRFToken": this.page.xsrf_token },
      body: JSON.stringify(this.request),
    });
    let body: Record<string, unknown> = {};
    try {
      body = (await response.json()) as Record<string, unknown>;
    } catch {
      // not JSON: the status says enough
    }
    if (!response.ok || typeof body.token !== "string") {
      const message =
        typeof body.message === "string" ? body.message : response.statusText || `HTTP ${response.status}`;
      throw new TokenError(
        response.status,
        `The hub gave no build token (${message}). Reload the page, or ask the hub's admin.`,
      );
    }
    const expiresAt = typeof body.expires_at === "string" ? Date.parse(body.expires_at) : NaN;
    const expires = Number.isFinite(expiresAt) ? expiresAt : this.now() + this.request.expires_in * 1000;
    this.memory = { token: body.token, expires };
    try {
      this.storage()?.setItem(this.key, JSON.stringify(this.memory));
    } catch {
      // storage blocked: this page keeps it in memory only
    }
    return body.token;
  }
}
