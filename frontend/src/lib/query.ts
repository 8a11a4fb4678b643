// Not in api.ts: pages that send no query (service-home) then do not load it.
/** A query string of the non-empty values, in a stable order; "" when there is none. */
export function query(params: Record<string, string | number>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    const text = String(value).trim();
    if (text !== "") search.set(key, text);
  }
  const out = search.toString();
  return out ? `?${out}` : "";
}
