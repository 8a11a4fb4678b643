/**
 * Talking to the service's build endpoints from the spawn page.
 *
 * Authentication is a short-lived token that reaches only this service, minted for the page's
 * user when first needed and reused (../lib/token.ts), sent as `Authorization`. A token the
 * service refuses (403: revoked or expired) is dropped and a new one asked for, once.
 * The event stream is read with fetch() (EventSource cannot send the header).
 */
import { joinUrl } from "../lib/urls";
import { EventStreamParser, isTerminal, type BuildEvent } from "./events";

export interface Provider {
  id: string;
  displayName: string;
}

/** What the user asks to build; `repo` is as typed (e.g. `org/repo` or a URL). */
export interface BuildRequest {
  provider: string;
  repo: string;
  ref: string;
}

/** A problem with one field of a request: "repo" or "ref" (or "provider"). */
export interface FieldProblem {
  field: "provider" | "repo" | "ref";
  message: string;
}

const GH_REPO = /^([A-Za-z0-9][A-Za-z0-9-]{0,38})\/([A-Za-z0-9._][A-Za-z0-9._-]{0,99})$/;
const GL_PATH = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)+$/;
const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/]+/;

export const REPO_HINTS: Record<string, string> = {
  gh: "ORG/REPO, e.g. jupyterhub/jupyterhub, or its github.com URL",
  gl: "GROUP/PROJECT, e.g. gitlab-org/gitlab-docs, or its gitlab.com URL",
  git: "a git URL, e.g. https://git.example.org/group/repo.git",
};

/** `repo` as the provider wants it: full github.com / gitlab.com URLs become paths. */
export function normalizeRepo(provider: string, repo: string): string {
  let value = repo.trim();
  const host = provider === "gh" ? "github.com" : provider === "gl" ? "gitlab.com" : null;
  if (host) {
    value = value.replace(new RegExp(`^(?:https?://)?(?:www\\.)?${host.replace(".", "\\.")}/`, "i"), "");
    value = value.replace(/\/+$/, "").replace(/\.git$/, "");
  }
  return value;
}

/** What is wrong with `request`, field by field, before it is sent (the server checks again). */
export function check(request: BuildRequest): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const repo = normalizeRepo(request.provider, request.repo);
  const hint = REPO_HINTS[request.provider] ?? "a repository";
  if (!repo) problems.push({ field: "repo", message: `Repository: required. Enter ${hint}.` });
  else if (repo.startsWith("-") || /\s/.test(repo)) {
    problems.push({ field: "repo", message: `Repository: no spaces, and no leading "-". Enter ${hint}.` });
  } else if (
    (request.provider === "gh" && !GH_REPO.test(repo)) ||
    (request.provider === "gl" && !GL_PATH.test(repo)) ||
    (request.provider === "git" && !URL_SCHEME.test(repo))
  ) {
    problems.push({ field: "repo", message: `Repository: "${repo.slice(0, 80)}" is not ${hint}.` });
  }
  const ref = request.ref.trim();
  if (!ref) problems.push({ field: "ref", message: 'Ref: required, e.g. "HEAD" or a branch, tag or commit.' });
  else if (ref.startsWith("-") || /[\s~^:?*[\\]|\.\.|@\{/.test(ref)) {
    problems.push({
      field: "ref",
      message: `Ref: "${ref.slice(0, 80)}" is not a git branch, tag or commit. Use e.g. "HEAD" or "main".`,
    });
  }
  return problems;
}

/** The BinderHub spec of `request`: `gh/ORG/REPO/REF`, `gl/PATH/REF`, `git/URL/REF` (encoded). */
export function specFor(request: BuildRequest): string {
  const repo = normalizeRepo(request.provider, request.repo);
  const ref = encodeURIComponent(request.ref.trim());
  if (request.provider === "gh") return `gh/${repo}/${ref}`;
  return `${request.provider}/${encodeURIComponent(repo)}/${ref}`;
}

const FIELDS = new Set(["provider", "repo", "ref"]);

/** An error answer from the service, with its HTTP status (or BinderHub's `status_code`). */
export class BuildError extends Error {
  constructor(
    readonly status: number,
    message: string,
    private readonly named: string | null = null,
  ) {
    super(message);
    this.name = "BuildError";
  }

  /** The field the error is about: the event's `field`, or a "repo: ..." message prefix. */
  get field(): FieldProblem["field"] | null {
    if (this.named && FIELDS.has(this.named)) return this.named as FieldProblem["field"];
    const m = /^(provider|repo|ref): /.exec(this.message);
    return m ? (m[1] as FieldProblem["field"]) : null;
  }
}

/** A stream with nothing (no event, no `:keepalive`) for this many keepalive intervals is dead:
 * the service or a proxy went away without closing it. The service announces its interval in
 * `X-Keepalive-Interval` (seconds); BinderHub's is 25 s. */
export const IDLE_INTERVALS = 3;
export const DEFAULT_KEEPALIVE_SECONDS = 25;

export function idleTimeoutMs(response: Response): number {
  const announced = Number(response.headers.get("X-Keepalive-Interval") ?? "");
  const interval = Number.isFinite(announced) && announced > 0 ? announced : DEFAULT_KEEPALIVE_SECONDS;
  return interval * IDLE_INTERVALS * 1000;
}

/** The reader's next chunk, or a BuildError when none comes within `ms` (the stream is cancelled). */
async function readWithin<T>(reader: ReadableStreamDefaultReader<T>, ms: number): Promise<ReadableStreamReadResult<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const idle = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // rejected before the cancel, which ends the pending read() as a normal end of stream
      reject(
        new BuildError(
          0,
          `The build service stopped answering (nothing for ${Math.round(ms / 1000)} s). Press Build to attach again.`,
        ),
      );
      void reader.cancel().catch(() => undefined);
    }, ms);
  });
  try {
    return await Promise.race([reader.read(), idle]);
  } finally {
    clearTimeout(timer);
  }
}

const RELOAD = "The build service did not accept this page's session (it may have expired). Reload the page.";

/**
 * A request refused before any build, as BinderHub answers it: HTTP 200 and a lone `failed`
 * event, with the field it is about (ours) or BinderHub's `status_code`. Null for a build's
 * own `failed` (a failed or cancelled build), which the caller gets as the last event.
 */
export function refusal(event: BuildEvent, first: boolean): BuildError | null {
  if (!first || event.phase !== "failed" || typeof event.buildId === "string") return null;
  const status = typeof event.status_code === "number" ? event.status_code : 400;
  const message = status === 403 ? RELOAD : event.message.trim() || "The build was refused.";
  return new BuildError(status, message, typeof event.field === "string" ? event.field : null);
}

async function failure(response: Response): Promise<BuildError> {
  let message = response.statusText || `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { message?: unknown };
    if (typeof body?.message === "string" && body.message) message = body.message;
  } catch {
    // not JSON: keep the status text
  }
  if (response.status === 403) message = RELOAD;
  return new BuildError(response.status, message);
}

/** Where the client gets its token (../lib/token.ts: FormToken). */
export interface TokenSource {
  get(): Promise<string>;
  forget(): void;
}

export class BuildClient {
  constructor(
    readonly servicePrefix: string,
    private readonly token: TokenSource,
  ) {}

  private async headers(accept: string): Promise<Headers> {
    return new Headers({ Accept: accept, Authorization: `token ${await this.token.get()}` });
  }

  /** fetch() with the token; a 403 (a token the service no longer accepts) is retried once
   * with a new token. (A 403 sent as BinderHub sends errors, HTTP 200 + failed, is retried
   * in `stream`.) */
  private async send(url: string, init: RequestInit, accept: string, retry = true): Promise<Response> {
    const response = await fetch(url, { ...init, headers: await this.headers(accept), credentials: "omit" });
    if (response.status === 403 && retry) {
      this.token.forget();
      return this.send(url, init, accept, false);
    }
    return response;
  }

  /**
   * Request the build of `request` and call `onEvent` for every event until it is ready or
   * failed (resolves with the last event). Throws BuildError for a refused request (a lone
   * `failed` event, as BinderHub sends errors, or an HTTP error from a proxy), or the
   * AbortError when `signal` aborts.
   */
  async stream(
    request: BuildRequest,
    onEvent: (e: BuildEvent) => void,
    signal?: AbortSignal,
    retry = true,
  ): Promise<BuildEvent> {
    const url = joinUrl(this.servicePrefix, "build", specFor(request));
    const response = await this.send(url, { signal: signal ?? null }, "text/event-stream");
    if (!response.ok || !response.body) throw await failure(response);
    const parser = new EventStreamParser();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const idleMs = idleTimeoutMs(response); // every chunk, keepalives included, restarts it
    let last: BuildEvent | null = null;
    let refused: BuildError | null = null;
    const handle = (events: BuildEvent[]): boolean => {
      for (const event of events) {
        refused = refusal(event, last === null);
        if (refused) return true;
        last = event;
        onEvent(event);
        if (isTerminal(event)) return true;
      }
      return false;
    };
    for (;;) {
      const { value, done } = await readWithin(reader, idleMs);
      if (done ? handle(parser.end()) : handle(parser.feed(value))) {
        if (!done) await reader.cancel();
        if (refused && (refused as BuildError).status === 403 && retry) {
          this.token.forget(); // the service refused the token itself: ask for a new one, once
          return this.stream(request, onEvent, signal, false);
        }
        if (refused) throw refused;
        return last!;
      }
      if (done) break;
    }
    throw new BuildError(0, "The build's log stopped before it ended. Press Build to attach again.");
  }

  /** Cancel build `id` (only its starter or an admin may). */
  async cancel(id: string): Promise<void> {
    const url = joinUrl(this.servicePrefix, "api/builds", encodeURIComponent(id));
    const response = await this.send(url, { method: "DELETE" }, "application/json");
    if (!response.ok && response.status !== 409) throw await failure(response);
  }

  /** My builds, newest first, as the service lists them. */
  async mine(): Promise<Array<{ id: string; repository: string; ref: string; status: string }>> {
    const response = await this.send(joinUrl(this.servicePrefix, "api/builds"), {}, "application/json");
    if (!response.ok) throw await failure(response);
    const body = (await response.json()) as { builds?: unknown };
    return Array.isArray(body.builds) ? body.builds : [];
  }
}
