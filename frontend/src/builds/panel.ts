/**
 * The build panel of one profile option ("Build from a repository"), loaded on demand.
 *
 * Provider picker, repository and ref fields, Build and Cancel, an aria-live status line with
 * the phase, the resolved commit, and the plain-text log (shown while building; not for a
 * cache hit). Once the build is ready, two hidden inputs carry the built image and its
 * signature into the spawn form, under the option's unlisted-choice field name, so that
 * JupyterHub's Start launches exactly the signed image.
 */
import type { BuildEvent } from "./events";
import {
  BuildClient,
  BuildError,
  check,
  normalizeRepo,
  REPO_HINTS,
  type BuildRequest,
  type FieldProblem,
  type Provider,
  type TokenSource,
} from "./client";

export interface PanelOptions {
  /** The option's select name, e.g. `profile-option-medium--image`. */
  field: string;
  providers: Provider[];
  client: BuildClient | null;
  /** Why builds cannot be used from this page, when they cannot. */
  unavailable: string | null;
  /** Called when a build the user started with "Build and start" is ready: start the server. */
  onReady?: () => void;
  /** Called with the build's id once the service has accepted it (for re-attaching). */
  onStarted?: (id: string, request: BuildRequest) => void;
}

export interface Ready {
  image: string;
  signature: string;
  cacheHit: boolean;
}

const PHASES: Record<string, string> = {
  waiting: "Waiting to build",
  fetching: "Fetching the repository",
  building: "Building the image",
  pushing: "Pushing the image",
};

/** Most log lines kept on the page: a long build must not grow the page without bound. */
export const MAX_LOG_LINES = 5000;

function el<K extends keyof HTMLElementTagNameMap>(
  doc: Document,
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> & { className?: string } = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node = Object.assign(doc.createElement(tag), props);
  node.append(...children);
  return node;
}

export class BuildPanel {
  readonly el: HTMLElement;
  readonly provider: HTMLSelectElement;
  readonly repo: HTMLInputElement;
  readonly ref: HTMLInputElement;
  readonly buildButton: HTMLButtonElement;
  readonly cancelButton: HTMLButtonElement;
  readonly status: HTMLElement;
  readonly commit: HTMLElement;
  readonly log: HTMLDetailsElement;
  private readonly logText: HTMLPreElement;
  private readonly hint: HTMLElement;
  private readonly imageInput: HTMLInputElement;
  private readonly signatureInput: HTMLInputElement;
  private readonly errors = new Map<string, HTMLElement>();
  private lines = 0;
  private running: AbortController | null = null;
  private buildId: string | null = null;
  private phase = "";
  private active = false;
  /** Set by a link that asks to start: the Build button reads "Build and start", and the
   * user's press on it builds, then starts. Nothing happens without that press. */
  private startAfterBuild = false;
  ready: Ready | null = null;

  constructor(
    private readonly doc: Document,
    private readonly options: PanelOptions,
  ) {
    const id = `${options.field}--build`;
    const d = doc;
    this.provider = el(d, "select", { className: "form-select", id: `${id}-provider` });
    for (const p of options.providers) this.provider.append(el(d, "option", { value: p.id }, p.displayName));
    this.repo = el(d, "input", {
      className: "form-control",
      type: "text",
      id: `${id}-repo`,
      autocomplete: "off",
      spellcheck: false,
    });
    this.ref = el(d, "input", {
      className: "form-control",
      type: "text",
      id: `${id}-ref`,
      value: "HEAD",
      autocomplete: "off",
      spellcheck: false,
    });
    this.hint = el(d, "div", { className: "form-text", id: `${id}-repo-help` });
    this.repo.setAttribute("aria-describedby", this.hint.id);
    this.buildButton = el(d, "button", { type: "button", className: "btn btn-primary btn-sm" }, "Build");
    this.cancelButton = el(
      d,
      "button",
      { type: "button", className: "btn btn-outline-danger btn-sm", hidden: true },
      "Cancel",
    );
    this.status = el(d, "div", { className: "small hx-build-status", id: `${id}-status` });
    this.status.setAttribute("role", "status");
    this.status.setAttribute("aria-live", "polite");
    this.commit = el(d, "div", { className: "small text-body-secondary hx-build-commit", hidden: true });
    this.logText = el(d, "pre", { className: "hx-build-log-text small border rounded p-2 mb-0", tabIndex: 0 });
    this.logText.style.cssText = "max-height:18rem;overflow:auto;white-space:pre-wrap";
    this.logText.setAttribute("aria-label", "Build log");
    this.log = el(
      d,
      "details",
      { className: "mt-2 hx-build-log", hidden: true },
      el(d, "summary", {}, "Build log"),
      this.logText,
    );
    this.imageInput = el(d, "input", { type: "hidden", name: `${options.field}--unlisted-choice`, disabled: true });
    this.signatureInput = el(d, "input", { type: "hidden", name: `${options.field}--build-signature`, disabled: true });

    const col = (size: string, label: string, control: HTMLElement, ...more: Node[]) =>
      el(
        d,
        "div",
        { className: size },
        el(d, "label", { className: "form-label small mb-1", htmlFor: control.id }, label),
        control,
        ...more,
      );
    this.el = el(
      d,
      "div",
      { className: "hx-build border rounded p-2 mt-2", hidden: true },
      el(
        d,
        "div",
        { className: "row g-2" },
        col("col-md-3", "Source", this.provider),
        col("col-md-6", "Repository", this.repo, this.hint),
        col("col-md-3", "Git ref", this.ref),
      ),
      el(
        d,
        "div",
        { className: "d-flex flex-wrap align-items-center gap-2 mt-2" },
        this.buildButton,
        this.cancelButton,
        this.status,
      ),
      this.commit,
      this.log,
      this.imageInput,
      this.signatureInput,
    );
    this.el.dataset.buildFor = options.field;
    this.describe();

    this.provider.addEventListener("change", () => {
      this.describe();
      this.changed();
    });
    for (const input of [this.repo, this.ref]) {
      input.addEventListener("input", () => this.changed());
      // Enter in these fields builds; it must not submit the spawn form (start a server).
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter") {
          e.preventDefault();
          void this.build();
        }
      });
    }
    this.buildButton.addEventListener("click", () => void this.build());
    this.cancelButton.addEventListener("click", () => void this.cancel());
    if (options.unavailable || !options.client || options.providers.length === 0) {
      this.buildButton.disabled = true;
      this.say(options.unavailable ?? "Builds are not available on this hub.");
    }
  }

  /** The request as the fields say now. */
  request(): BuildRequest {
    return { provider: this.provider.value, repo: this.repo.value, ref: this.ref.value };
  }

  fill(request: Partial<BuildRequest>): void {
    if (request.provider && [...this.provider.options].some((o) => o.value === request.provider)) {
      this.provider.value = request.provider;
    }
    if (request.repo !== undefined) this.repo.value = request.repo;
    if (request.ref !== undefined) this.ref.value = request.ref || "HEAD";
    this.describe();
  }

  /**
   * Fill in what a link asks to build and wait for the user: nothing is built until they press
   * Build (or "Build and start", when the link asks to start). The status line says what the
   * link asks for, and focus goes to the button, so that checking it is the next thing.
   */
  offer(request: Partial<BuildRequest>, start: boolean): void {
    this.fill(request);
    if (this.buildButton.disabled) return; // the status line says why builds are unavailable
    this.startAfterBuild = start;
    this.buildButton.textContent = start ? "Build and start" : "Build";
    const r = this.request();
    const source = this.provider.selectedOptions[0]?.textContent ?? r.provider;
    const repo = normalizeRepo(r.provider, r.repo) || "(no repository)";
    this.say(
      `A link filled this in: ${source} ${repo} at ${r.ref.trim() || "HEAD"}. Nothing has been built` +
        (start ? " or started" : "") +
        `. Check the repository, then press ${start ? "Build and start" : "Build"}: it runs with your files and access.`,
    );
    this.el.classList.add("border-warning");
    this.buildButton.focus();
  }

  /** Shown (and its result submitted) only while the option's build entry is chosen. */
  setActive(active: boolean): void {
    this.active = active;
    this.el.hidden = !active;
    this.sync();
  }

  /** Why Start cannot go ahead with this panel's choice yet, or "" once a build is ready. */
  problem(): string {
    if (this.ready) return "";
    if (this.running) return "The build is still running: Start becomes possible when it is ready.";
    return "Build the environment first: enter a repository and press Build.";
  }

  /** Why a link to this choice cannot be made yet ("" when the fields are good). */
  linkProblem(): string {
    const problems = check(this.request());
    this.mark(problems);
    return problems[0]?.message ?? "";
  }

  /** Show `message` in the status line and move focus to what to do next. */
  tell(message: string): void {
    this.say(message);
    (this.repo.value && !this.running ? this.buildButton : this.repo).focus();
  }

  private describe(): void {
    this.hint.textContent = `Enter ${REPO_HINTS[this.provider.value] ?? "a repository"}.`;
  }

  /** Editing the request forgets a finished result (it was for another repository or ref). */
  private changed(): void {
    this.mark([]);
    if (this.ready) {
      this.ready = null;
      this.commit.hidden = true;
      this.say("");
      this.sync();
    }
  }

  private sync(): void {
    const on = this.active && !!this.ready;
    this.imageInput.disabled = this.signatureInput.disabled = !on;
    this.imageInput.value = this.ready?.image ?? "";
    this.signatureInput.value = this.ready?.signature ?? "";
  }

  private say(text: string): void {
    this.status.textContent = text;
  }

  private mark(problems: FieldProblem[]): void {
    for (const [name, input] of [
      ["repo", this.repo],
      ["ref", this.ref],
      ["provider", this.provider],
    ] as const) {
      const message = problems.find((p) => p.field === name)?.message ?? "";
      let error = this.errors.get(name);
      if (message && !error) {
        error = el(this.doc, "div", { className: "invalid-feedback", id: `${input.id}-error` });
        (name === "repo" ? this.hint : input).after(error);
        input.setAttribute("aria-describedby", `${input.getAttribute("aria-describedby") ?? ""} ${error.id}`.trim());
        this.errors.set(name, error);
      }
      input.classList.toggle("is-invalid", !!message);
      if (message) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
      if (error) {
        error.textContent = message;
        error.hidden = !message;
      }
    }
  }

  private append(text: string): void {
    if (!text) return;
    this.logText.append(text.endsWith("\n") ? text : text + "\n");
    this.lines += 1;
    while (this.lines > MAX_LOG_LINES && this.logText.firstChild) {
      this.logText.firstChild.remove();
      this.lines -= 1;
    }
    this.logText.scrollTop = this.logText.scrollHeight;
  }

  private onEvent(event: BuildEvent): void {
    if (typeof event.buildId === "string" && !this.buildId) {
      this.buildId = event.buildId;
      this.options.onStarted?.(event.buildId, this.request());
    }
    if (typeof event.sha === "string") {
      this.commit.hidden = false;
      this.commit.textContent = "";
      this.commit.append("Commit ", el(this.doc, "code", {}, event.sha));
    }
    if (event.phase !== "ready" && event.phase !== "waiting") {
      this.log.hidden = false; // a real build: show its log (a cache hit has none)
      if (!this.log.open && event.phase === "fetching") this.log.open = true;
    }
    if (event.phase !== "ready" || !event.cacheHit) this.append(event.message);
    // the status line follows the phases; repo2docker's phase-less lines only go to the log
    if (!Object.prototype.hasOwnProperty.call(PHASES, event.phase)) return;
    const position = typeof event.position === "number" ? `: ${event.position} in the queue` : "";
    const text = PHASES[event.phase] + position;
    if (text !== this.phase || position) {
      this.phase = text;
      this.say(`${text}…`);
    }
  }

  /** Build (or attach to the build of) the request in the fields. True once ready. */
  async build(): Promise<boolean> {
    const client = this.options.client;
    if (!client || this.running || this.buildButton.disabled) return false;
    const request = this.request();
    const problems = check(request);
    this.mark(problems);
    if (problems.length) {
      const first = problems[0]!;
      (first.field === "ref" ? this.ref : this.repo).focus();
      this.say(first.message);
      return false;
    }
    this.ready = null;
    this.buildId = null;
    this.phase = "";
    this.sync();
    this.logText.textContent = "";
    this.lines = 0;
    this.log.hidden = true;
    this.commit.hidden = true;
    this.running = new AbortController();
    this.buildButton.disabled = true;
    this.cancelButton.hidden = false;
    this.say("Resolving the ref…");
    try {
      const last = await client.stream(request, (e) => this.onEvent(e), this.running.signal);
      if (last.phase === "ready" && typeof last.imageName === "string" && typeof last.signature === "string") {
        this.ready = { image: last.imageName, signature: last.signature, cacheHit: !!last.cacheHit };
        this.say(
          this.ready.cacheHit
            ? "Ready: this commit was built before (cache hit). Press Start to launch it."
            : "Ready: the image is built. Press Start to launch it.",
        );
        this.sync();
        if (this.startAfterBuild) {
          this.startAfterBuild = false;
          this.buildButton.textContent = "Build";
          this.options.onReady?.();
        }
        return true;
      }
      this.log.hidden = false;
      const reason = last.cancelled ? "Build cancelled." : `Build failed: ${failure(last)}`;
      this.say(`${reason} Change the repository or ref, or press Build to try again.`);
      return false;
    } catch (err) {
      if ((err as Error).name === "AbortError") {
        this.say("Build cancelled.");
      } else if (err instanceof BuildError) {
        const field = err.field;
        if (field) this.mark([{ field, message: err.message.replace(/^\w+: /, `${label(field)}: `) }]);
        this.say(field ? `${label(field)}: ${err.message.replace(/^\w+: /, "")}` : err.message);
      } else if ((err as Error).name === "TokenError") {
        this.say((err as Error).message);
      } else {
        this.say(`The build service cannot be reached (${(err as Error).message}). Try again.`);
      }
      return false;
    } finally {
      this.running = null;
      this.buildButton.disabled = false;
      this.cancelButton.hidden = true;
    }
  }

  /** Stop the build (on the server too) and stop following it. */
  async cancel(): Promise<void> {
    const running = this.running;
    if (!running) return;
    const id = this.buildId;
    this.say("Cancelling…");
    try {
      if (id && this.options.client) await this.options.client.cancel(id);
    } catch (err) {
      this.say(`Could not cancel: ${(err as Error).message}`);
    }
    running.abort();
  }
}

const label = (field: string): string => ({ repo: "Repository", ref: "Ref", provider: "Source" })[field] ?? field;

function lastLine(message: string): string {
  const lines = message.trim().split("\n");
  return lines[lines.length - 1] || "see the log.";
}

/** What went wrong, in a line: for repo2docker's "Error during build: Command [...] returned
 * non-zero exit status 1." the last line of the log says it better (the failing step). */
export function failure(event: BuildEvent): string {
  const tail = Array.isArray(event.logTail) ? event.logTail.filter((l) => typeof l === "string" && l.trim()) : [];
  if (event.message.startsWith("Error during build:") && tail.length) return String(tail[tail.length - 1]).trim();
  return lastLine(event.message);
}

export { FormToken } from "../lib/token"; // in this chunk: the entry script needs it only here

/** Everything the form knows, to make a panel (one import for the lazily loaded chunk). */
export function makePanel(
  doc: Document,
  field: string,
  page: { servicePrefix: string; token: TokenSource | null; providers: Provider[]; error: string | null },
  hooks: Pick<PanelOptions, "onReady" | "onStarted"> = {},
): BuildPanel {
  const client = page.token ? new BuildClient(page.servicePrefix, page.token) : null;
  const unavailable = page.error ?? (client ? null : "Builds are not available from this page. Reload it.");
  return new BuildPanel(doc, { field, providers: page.providers, client, unavailable, ...hooks });
}

/** The status of build `id` among mine, or null when unknown (for re-attaching on reload). */
export async function statusOf(
  page: { servicePrefix: string; token: TokenSource | null },
  id: string,
): Promise<string | null> {
  if (!page.token) return null;
  try {
    const builds = await new BuildClient(page.servicePrefix, page.token).mine();
    return builds.find((b) => b.id === id)?.status ?? null;
  } catch {
    return null;
  }
}
