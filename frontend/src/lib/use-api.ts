/** Load JSON from the service when `url` changes; the previous request is aborted. */
import { useEffect, useState } from "preact/hooks";
import { fetchJson } from "./api";

export type Loaded<T> = { kind: "loading" } | { kind: "error"; message: string } | { kind: "ready"; data: T };

export function errorText(err: unknown): string {
  return err instanceof Error && err.message ? err.message : String(err);
}

export function useApi<T>(url: string, xsrfToken: string): Loaded<T> {
  const [state, setState] = useState<Loaded<T> & { url?: string }>({ kind: "loading" });
  useEffect(() => {
    const controller = new AbortController();
    setState({ kind: "loading" });
    fetchJson<T>(url, { signal: controller.signal, xsrfToken }).then(
      (data) => {
        if (!controller.signal.aborted) setState({ kind: "ready", data, url });
      },
      (err: unknown) => {
        if (!controller.signal.aborted) setState({ kind: "error", message: errorText(err), url });
      },
    );
    return () => controller.abort();
  }, [url, xsrfToken]);
  // until the effect has run for a new URL, the state still holds the previous URL's answer:
  // show "loading", never the old data under the new title
  return state.url === url ? state : { kind: "loading" };
}
