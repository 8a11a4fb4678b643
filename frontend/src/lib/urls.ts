/**
 * URL helpers. Nothing here knows where JupyterHub is mounted: every path is
 * built from prefixes the server renders into the page (see readPageConfig).
 */

/**
 * Join URL path segments with exactly one "/" between them.
 *
 * - A leading slash on `base` is kept (`/prefix/` stays absolute), and so is a
 *   scheme and host (`https://hub.example.org/prefix/`): only the slashes at
 *   the joints are normalised, never those inside a segment.
 * - Empty-string parts are ignored; with no other parts `base` is returned as is.
 * - The result ends with "/" only if the last (non-empty) part does.
 *
 * No percent-encoding is done: encode user-supplied segments with
 * encodeURIComponent before passing them in.
 */
export function joinUrl(base: string, ...parts: string[]): string {
  const given = parts.filter((p) => p !== "");
  const last = given[given.length - 1];
  if (last === undefined) {
    return base;
  }
  const segments = given.map((p) => p.replace(/^\/+|\/+$/g, "")).filter((p) => p !== "");
  const head = base.replace(/\/+$/, "");
  const pieces = head === "" && !base.startsWith("/") ? segments : [head, ...segments];
  const joined = pieces.join("/");
  return last.endsWith("/") && !joined.endsWith("/") ? `${joined}/` : joined;
}

/** Page configuration rendered by the server as data-* attributes on the mount element. */
export interface PageConfig {
  /** URL prefix of this service, e.g. "/prefix/services/hub-extensions/" (data-service-prefix). */
  servicePrefix: string;
  /** URL prefix of the hub, e.g. "/prefix/hub/" (data-hub-prefix). */
  hubPrefix: string;
  /** XSRF token sent with every API request (data-xsrf-token). */
  xsrfToken: string;
}

const ATTRIBUTES: ReadonlyArray<readonly [keyof PageConfig, string]> = [
  ["servicePrefix", "data-service-prefix"],
  ["hubPrefix", "data-hub-prefix"],
  ["xsrfToken", "data-xsrf-token"],
];

/**
 * Read the page configuration from `el`'s data-* attributes.
 * Throws an Error naming the first attribute that is missing or empty.
 */
export function readPageConfig(el: HTMLElement): PageConfig {
  const config: Partial<PageConfig> = {};
  for (const [key, attribute] of ATTRIBUTES) {
    const value = el.getAttribute(attribute);
    if (value === null || value.trim() === "") {
      const where = el.id ? ` on #${el.id}` : "";
      throw new Error(`Missing required attribute ${attribute}${where}`);
    }
    config[key] = value.trim();
  }
  return config as PageConfig;
}
