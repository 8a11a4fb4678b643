/**
 * JupyterHub's page configuration (`window.jhdata`, rendered by its page.html): who is asking,
 * where the hub is, and the XSRF token its REST API wants with a cookie. Kept apart from
 * ./token so that the spawn form's entry script reads it without loading the token code.
 */
export interface HubPage {
  /** The hub's base URL, e.g. "/jh/hub/". */
  base_url: string;
  /** The logged-in user: the requester. */
  user: string;
  xsrf_token: string;
}

/** `window.jhdata` when it has what a token request needs, else null. */
export function hubPage(win: Window): HubPage | null {
  const data = (win as unknown as { jhdata?: Record<string, unknown> }).jhdata;
  if (!data) return null;
  const { base_url, user, xsrf_token } = data;
  if (typeof base_url !== "string" || typeof user !== "string" || !user || typeof xsrf_token !== "string") {
    return null;
  }
  return { base_url, user, xsrf_token };
}
