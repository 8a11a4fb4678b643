/**
 * Minimal JSON client for the hub-extensions service API.
 *
 * Authentication is the browser's own: the service's OAuth cookie is sent
 * with `credentials: "same-origin"`. Nothing is ever written to
 * localStorage/sessionStorage; the XSRF token is passed in per call from the
 * page config (see readPageConfig) and sent on every request: JupyterHub's
 * HubOAuth accepts a cookie on a fetch() (even a GET) only with that header.
 */

/** Error for a non-2xx response, carrying the HTTP status and the server's message. */
export class ApiError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

export interface FetchJsonInit extends RequestInit {
  /** XSRF token from the page, sent as X-XSRFToken (HubOAuth requires it for cookie auth). */
  xsrfToken?: string;
  /** Request body to send as JSON (sets Content-Type: application/json). */
  json?: unknown;
}

/** Pull JupyterHub's `{"status": ..., "message": ...}` message out of an error body. */
async function errorMessage(response: Response): Promise<string> {
  try {
    const body: unknown = await response.json();
    if (body && typeof body === "object" && "message" in body) {
      const message = (body as { message: unknown }).message;
      if (typeof message === "string" && message.trim() !== "") {
        return message;
      }
    }
  } catch {
    // Not JSON (e.g. an HTML error page from a proxy): fall through.
  }
  return response.statusText || `HTTP ${response.status}`;
}

/**
 * fetch() `url` and parse the JSON response.
 * Throws ApiError on a non-2xx status. A 204 resolves to undefined.
 */
export async function fetchJson<T = unknown>(url: string, init: FetchJsonInit = {}): Promise<T> {
  const { xsrfToken, json, headers: extraHeaders, ...rest } = init;
  const method = (rest.method ?? "GET").toUpperCase();
  const headers = new Headers(extraHeaders);
  headers.set("Accept", "application/json");
  if (xsrfToken) {
    headers.set("X-XSRFToken", xsrfToken);
  }
  let body = rest.body;
  if (json !== undefined) {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify(json);
  }

  const response = await fetch(url, {
    ...rest,
    method,
    headers,
    body: body ?? null,
    credentials: "same-origin",
  });

  if (!response.ok) {
    throw new ApiError(response.status, await errorMessage(response));
  }
  if (response.status === 204) {
    return undefined as T;
  }
  try {
    return (await response.json()) as T;
  } catch {
    throw new ApiError(response.status, `Invalid JSON in response from ${url}`);
  }
}
