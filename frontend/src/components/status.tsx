/** What a panel shows while its data loads, or why it could not load. */
import { render, type VNode } from "preact";
import { errorText, type Loaded } from "../lib/use-api";

/** Render a service page into `el`; a misconfigured page shows the error, not a blank. */
export function mountPage(el: HTMLElement, page: () => VNode): void {
  try {
    render(page(), el);
  } catch (err) {
    render(
      <div class="alert alert-danger" role="alert">
        {errorText(err)}
      </div>,
      el,
    );
  }
}

export function Status<T>({ state, what }: { state: Loaded<T>; what: string }) {
  if (state.kind === "error") {
    return (
      <div class="alert alert-danger" role="alert">
        <strong>Could not load {what}.</strong> {state.message}
      </div>
    );
  }
  return (
    <div class="spinner-border spinner-border-sm text-secondary mb-4" role="status">
      <span class="visually-hidden">Loading {what}…</span>
    </div>
  );
}
