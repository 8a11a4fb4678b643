/**
 * The display data the server embeds in the spawn page as
 * `<script type="application/json" id="hub-extensions-profiles-data">`
 * (hub_extensions.profiles.page_data). Display fields only: no overrides.
 */

import type { Footprint, Pricing } from "./price";

import type { TokenRequest } from "../lib/token";

export const DATA_ID = "hub-extensions-profiles-data";

/** The select value meaning "use the typed value" (KubeSpawner's name). */
export const UNLISTED = "unlisted-choice";

/** A profile's or choice's price: the billed footprint it sets and its hourly rate. */
export interface PriceData {
  footprint: Footprint;
  hour: number;
}

export interface ChoiceData {
  key: string;
  display_name: string;
  price?: PriceData;
  /** Server-sanitised HTML, or null. */
  description_html: string | null;
}

export interface UnlistedData {
  enabled: boolean;
  display_name: string;
  pattern: string | null;
  /** The admin's help text for a wrong value, or null. */
  message: string | null;
}

export interface OptionData {
  key: string;
  display_name: string;
  /** The option takes images built from a repository on this hub (the build panel). */
  dynamic_builds?: boolean;
  choices: ChoiceData[];
  unlisted: UnlistedData | null;
}

export interface ProfileData {
  slug: string;
  display_name: string;
  price?: PriceData;
  options: OptionData[];
}

export interface BuildsData {
  providers: Array<{ id: string; displayName: string }>;
  /** Why builds are not available to this user, if they are not. */
  error?: string;
  /** What to ask the hub for when the panel first needs a token (../lib/token.ts). */
  token?: TokenRequest;
}

export interface PageData {
  profiles: ProfileData[];
  /** Present when some option takes built images. */
  builds: BuildsData | null;
  /** Present when the hub has a price table. */
  pricing: Pricing | null;
  /** True when the server shows a link's choices waiting for the user's Start. */
  link: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const isTokenRequest = (v: unknown): v is TokenRequest =>
  isObject(v) &&
  Array.isArray(v.scopes) &&
  v.scopes.every((x) => typeof x === "string") &&
  typeof v.expires_in === "number" &&
  typeof v.note === "string";

/**
 * Parse the page data out of `doc`. Throws an Error saying what is wrong when the
 * element is missing or its JSON is not page data; malformed entries are dropped.
 */
export function readPageData(doc: Document): PageData {
  const el = doc.getElementById(DATA_ID);
  if (!el) throw new Error(`#${DATA_ID} is missing`);
  const raw: unknown = JSON.parse(el.textContent || "");
  if (!isObject(raw) || !Array.isArray(raw.profiles)) {
    throw new Error(`#${DATA_ID} has no "profiles" list`);
  }
  const profiles = raw.profiles.filter(isObject).filter((p) => typeof p.slug === "string");
  const builds = isObject(raw.builds)
    ? {
        providers: list(raw.builds.providers).filter(isObject) as unknown as BuildsData["providers"],
        ...(typeof raw.builds.error === "string" ? { error: raw.builds.error } : {}),
        ...(isTokenRequest(raw.builds.token) ? { token: raw.builds.token } : {}),
      }
    : null;
  const pricing = isObject(raw.pricing) ? (raw.pricing as unknown as Pricing) : null;
  return {
    builds,
    pricing,
    link: isObject(raw.link),
    profiles: profiles.map((p) => ({
      ...(p as unknown as ProfileData),
      options: list(p.options)
        .filter(isObject)
        .map((o) => ({
          ...(o as unknown as OptionData),
          choices: list(o.choices).filter(isObject) as unknown as ChoiceData[],
          unlisted: isObject(o.unlisted) ? (o.unlisted as unknown as UnlistedData) : null,
        })),
    })),
  };
}
