/**
 * Links that reproduce a selection, with KubeSpawner's field names:
 * `profile=slug&profile-option-slug--key=choice` (or `...--key--unlisted-choice=typed`).
 *
 * In the fragment (`#...`) the link only pre-selects the form; in the query string
 * (`?...`) JupyterHub starts the server right away, because /hub/spawn with query
 * arguments spawns without showing the form.
 *
 * Links made by jupyterhub-fancy-profiles (`#fancy-forms-config=<JSON>`) are read too, turned
 * into the same fields: they fill in the form, they never build or start anything.
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
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const fancy = params.get(FANCY);
  return fancy === null ? params : new URLSearchParams(fancyFields(fancy));
}

/** The fragment key of jupyterhub-fancy-profiles' permalinks (0.5: `/hub/spawn#fancy-forms-config=`). */
export const FANCY = "fancy-forms-config";
/** fancy-profiles' select values for "Other..." and for "Build your own image". */
const FANCY_UNLISTED = "unlisted_choice";
const FANCY_BUILD = "--extra-selectable-item";

/**
 * A fancy-profiles permalink's JSON as our fields. Its shape: `{"profile": slug, KEY: choice |
 * "unlisted_choice" | "--extra-selectable-item", "KEY:unlisted_choice": typed,
 * "KEY:binderProvider": "gh", "KEY:binderRepo": "org/repo", "KEY:ref": ref}`. Only what the
 * chosen value needs is carried over (fancy-profiles writes every key for every option);
 * anything else, or JSON that does not parse, gives no fields.
 */
export function fancyFields(json: string): Fields {
  let config: unknown;
  try {
    config = JSON.parse(json);
  } catch {
    return [];
  }
  if (!config || typeof config !== "object" || Array.isArray(config)) return [];
  const values = config as Record<string, unknown>;
  const text = (key: string): string | null => (typeof values[key] === "string" ? (values[key] as string) : null);
  const slug = text("profile");
  if (!slug) return [];
  const fields: Fields = [["profile", slug]];
  for (const key of Object.keys(values)) {
    const value = text(key);
    if (key === "profile" || key.includes(":") || value === null) continue;
    const field = `profile-option-${slug}--${key}`;
    if (value === FANCY_BUILD) {
      fields.push(
        [`${field}--build-provider`, text(`${key}:binderProvider`) ?? "gh"],
        [`${field}--build-repo`, text(`${key}:binderRepo`) ?? ""],
        [`${field}--build-ref`, text(`${key}:ref`) ?? ""],
      );
    } else if (value === FANCY_UNLISTED) {
      fields.push([field, "unlisted-choice"], [`${field}--unlisted-choice`, text(`${key}:${FANCY_UNLISTED}`) ?? ""]);
    } else {
      fields.push([field, value]);
    }
  }
  return fields;
}
