/**
 * Entry point for the service home page.
 *
 * The server template renders
 *   <div id="hub-extensions-home" data-service-prefix="..." data-hub-prefix="..."
 *        data-xsrf-token="..."></div>
 * and loads this module; it mounts a status card that calls
 * `{service-prefix}api/health`; for admins, a "Configuration" section lists the
 * warnings from `{service-prefix}api/config-problems` (users see nothing). Styling is Bootstrap 5 classes only (the page
 * already loads JupyterHub's Bootstrap CSS), so data-bs-theme dark mode works.
 */
import { render, type ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { fetchJson } from "./lib/api";
import { joinUrl, readPageConfig, type PageConfig } from "./lib/urls";

export const MOUNT_ID = "hub-extensions-home";

/** JSON returned by GET {service-prefix}api/health. */
export interface HealthResponse {
  status: string;
  version: string;
  hub: { reachable: boolean };
  user: { name: string; admin: boolean } | null;
}

/** JSON returned by GET {service-prefix}api/config-problems (admins only). */
export interface ConfigProblemsResponse {
  available: boolean;
  message?: string;
  started?: string;
  warnings: string[];
  runtime: { message: string; refused: boolean; seen: string }[];
}

type State = { kind: "loading" } | { kind: "error"; message: string } | { kind: "ready"; health: HealthResponse };

function errorText(err: unknown): string {
  return err instanceof Error && err.message ? err.message : String(err);
}

function Card({ children, busy }: { children: ComponentChildren; busy?: boolean }) {
  return (
    <section class="card bg-body text-body" aria-labelledby="hub-extensions-home-title">
      <div class="card-header">
        <h2 id="hub-extensions-home-title" class="h5 mb-0">
          hub-extensions service
        </h2>
      </div>
      <div class="card-body" aria-busy={busy ? "true" : "false"}>
        {children}
      </div>
    </section>
  );
}

function ErrorAlert({ message }: { message: string }) {
  return (
    <div class="alert alert-danger mb-0" role="alert">
      <strong>Could not load the service status.</strong> {message}
    </div>
  );
}

function YesNo({ value }: { value: boolean }) {
  return <span class={`badge ${value ? "text-bg-success" : "text-bg-danger"}`}>{value ? "yes" : "no"}</span>;
}

function HealthDetails({ health, hubPrefix }: { health: HealthResponse; hubPrefix: string }) {
  const ok = health.status === "ok";
  return (
    <>
      <dl class="row mb-0">
        <dt class="col-sm-4">Service status</dt>
        <dd class="col-sm-8">
          <span class={`badge ${ok ? "text-bg-success" : "text-bg-warning"}`}>{health.status || "unknown"}</span>
        </dd>
        <dt class="col-sm-4">Version</dt>
        <dd class="col-sm-8">
          <code class="text-body">{health.version || "unknown"}</code>
        </dd>
        <dt class="col-sm-4">Hub API reachable</dt>
        <dd class="col-sm-8">
          <YesNo value={Boolean(health.hub?.reachable)} />
        </dd>
        <dt class="col-sm-4">Signed in as</dt>
        <dd class="col-sm-8">
          {health.user ? (
            <>
              {health.user.name}
              {health.user.admin ? (
                <>
                  {" "}
                  <span class="badge text-bg-secondary">admin</span>
                </>
              ) : null}
            </>
          ) : (
            "unknown"
          )}
        </dd>
      </dl>
      <a class="card-link d-inline-block mt-3" href={joinUrl(hubPrefix, "home")}>
        Back to the hub home page
      </a>
    </>
  );
}

type ProblemsState =
  { kind: "loading" } | { kind: "error"; message: string } | { kind: "ready"; problems: ConfigProblemsResponse };

function ProblemList({ items }: { items: { text: string; refused?: boolean }[] }) {
  return (
    <ul class="list-group mb-2">
      {items.map((item) => (
        <li class="list-group-item text-body bg-body">
          <span class={`badge me-2 ${item.refused ? "text-bg-danger" : "text-bg-warning"}`}>
            {item.refused ? "withheld" : "warning"}
          </span>
          <code class="text-body text-break">{item.text}</code>
        </li>
      ))}
    </ul>
  );
}

/** The admin's view of the hub's configuration checks (its warnings and spawn-time problems). */
export function ConfigurationSection({ config }: { config: PageConfig }) {
  const [state, setState] = useState<ProblemsState>({ kind: "loading" });
  useEffect(() => {
    const controller = new AbortController();
    fetchJson<ConfigProblemsResponse>(joinUrl(config.servicePrefix, "api/config-problems"), {
      signal: controller.signal,
      xsrfToken: config.xsrfToken,
    }).then(
      (problems) => {
        if (!controller.signal.aborted) setState({ kind: "ready", problems });
      },
      (err: unknown) => {
        if (!controller.signal.aborted) setState({ kind: "error", message: errorText(err) });
      },
    );
    return () => controller.abort();
  }, [config.servicePrefix]);

  let body;
  if (state.kind === "loading") {
    body = <p class="mb-0 text-body-secondary">Loading the configuration checks…</p>;
  } else if (state.kind === "error") {
    body = (
      <div class="alert alert-danger mb-0" role="alert">
        Could not load the configuration checks. {state.message}
      </div>
    );
  } else if (!state.problems.available) {
    body = <p class="mb-0">{state.problems.message}</p>;
  } else {
    const { warnings, runtime } = state.problems;
    body = (
      <>
        {warnings.length === 0 && runtime.length === 0 ? <p class="mb-0">No configuration warnings.</p> : null}
        {warnings.length > 0 ? (
          <>
            <h4 class="h6">Warnings at hub start ({warnings.length})</h4>
            <ProblemList items={warnings.map((text) => ({ text }))} />
          </>
        ) : null}
        {runtime.length > 0 ? (
          <>
            <h4 class="h6">Found when a profile list was evaluated for a user ({runtime.length})</h4>
            <ProblemList items={runtime.map((r) => ({ text: r.message, refused: r.refused }))} />
          </>
        ) : null}
        <p class="small text-body-secondary mb-0">
          Each line names the setting and its fix. <code>hub-extensions check-config --strict</code> fails on warnings.
        </p>
      </>
    );
  }
  return (
    <section class="mt-3" aria-labelledby="hub-extensions-configuration-title">
      <h3 id="hub-extensions-configuration-title" class="h6 text-uppercase text-body-secondary">
        Configuration
      </h3>
      {body}
    </section>
  );
}

/** Status card for the service home page. */
export function ServiceHome({ config }: { config: PageConfig }) {
  const [state, setState] = useState<State>({ kind: "loading" });

  useEffect(() => {
    const controller = new AbortController();
    setState({ kind: "loading" });
    fetchJson<HealthResponse>(joinUrl(config.servicePrefix, "api/health"), {
      signal: controller.signal,
      xsrfToken: config.xsrfToken,
    }).then(
      (health) => {
        if (!controller.signal.aborted) setState({ kind: "ready", health });
      },
      (err: unknown) => {
        if (!controller.signal.aborted) setState({ kind: "error", message: errorText(err) });
      },
    );
    return () => controller.abort();
  }, [config.servicePrefix]);

  switch (state.kind) {
    case "loading":
      return (
        <Card busy>
          <div class="spinner-border spinner-border-sm text-secondary" role="status">
            <span class="visually-hidden">Loading…</span>
          </div>
        </Card>
      );
    case "error":
      return (
        <Card>
          <ErrorAlert message={state.message} />
        </Card>
      );
    case "ready":
      return (
        <Card>
          <HealthDetails health={state.health} hubPrefix={config.hubPrefix} />
          {state.health.user?.admin ? <ConfigurationSection config={config} /> : null}
        </Card>
      );
  }
}

/**
 * Render the service home into `el`, configured from its data-* attributes.
 * A misconfigured page shows the error instead of staying blank.
 */
export function mount(el: HTMLElement): void {
  let config: PageConfig;
  try {
    config = readPageConfig(el);
  } catch (err) {
    render(
      <Card>
        <ErrorAlert message={errorText(err)} />
      </Card>,
      el,
    );
    return;
  }
  render(<ServiceHome config={config} />, el);
}

const target = typeof document !== "undefined" ? document.getElementById(MOUNT_ID) : null;
if (target) {
  mount(target);
}
