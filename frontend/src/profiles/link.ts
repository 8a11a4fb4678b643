/**
 * Links that reproduce a selection, with KubeSpawner's field names:
 * `profile=slug&profile-option-slug--key=choice` (or `...--key--unlisted-choice=typed`).
 *
 * In the fragment (`#...`) the link only pre-selects the form; in the query string
 * (`?...`) JupyterHub starts the server right away, because /hub/spawn with query
 * arguments spawns without showing the form.
 */

/** The form fields of one selection, in order, as [name, value] pairs. */
export type Fields = Array<[string, string]>;

/** An absolute link to `spawnUrl` (resolved against `base`) carrying `fields`. */
export function selectionLink(spawnUrl: string, base: string, fields: Fields, start: boolean): string {
  const url = new URL(spawnUrl, base);
  const params = new URLSearchParams(fields).toString();
  url.hash = "";
  if (start) url.search = params;
  else url.hash = params;
  return url.href;
}

/** The fields carried by a fragment such as `location.hash` ("" when there are none). */
export function fragmentFields(hash: string): URLSearchParams {
  return new URLSearchParams(hash.replace(/^#/, ""));
}
