/**
 * Data of the usage page: API shapes, query strings, and the arithmetic the charts draw with.
 * Pure functions only (no DOM), so they are tested on their own.
 */
import { joinUrl } from "../lib/urls";

/** A session as `api/usage/sessions` returns it (times in the hub's time zone, ISO). */
export interface Session {
  id: number;
  user: string;
  server_name: string;
  profile: string;
  requested_at: string;
  ended_at: string | null;
  end_reason: string | null;
  hours: number;
}

export interface SessionsResponse {
  sessions: Session[];
  limit: number;
  offset: number;
  has_more: boolean;
}

/** `api/usage/daily`: one entry per day, no gaps. */
export interface DailyResponse {
  days: string[];
  sessions: number[];
  hours: Record<string, number[]>;
}

/** `api/usage/active-users`. */
export interface ActiveUsersResponse {
  window: Window;
  days: string[];
  counts: number[];
}

export type Window = "daily" | "weekly" | "monthly";
export const WINDOWS: readonly Window[] = ["daily", "weekly", "monthly"];

/** The sessions table's filters, as the form holds them ("" = no filter). */
export interface Filters {
  user: string;
  profile: string;
  start: string;
  end: string;
  reason: string;
}

export const NO_FILTERS: Filters = { user: "", profile: "", start: "", end: "", reason: "" };

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

/** URL of an API endpoint of the service with its query. */
export function apiUrl(servicePrefix: string, endpoint: string, params: Record<string, string | number> = {}): string {
  return joinUrl(servicePrefix, "api/usage", endpoint) + query(params);
}

/** ISO day `n` days after (or before, n < 0) `day`; calendar arithmetic, no time zone. */
export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split("-").map(Number);
  const t = Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1) + n * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** "2026-03-01T10:05:00+01:00" -> "2026-03-01 10:05" (already in the hub's time zone). */
export function shortTime(iso: string | null): string {
  return iso ? iso.slice(0, 16).replace("T", " ") : "";
}

/** Hours with one decimal below 10, whole hours above. */
export function formatHours(hours: number): string {
  return hours < 10 ? hours.toFixed(1) : String(Math.round(hours));
}

/** A duration given in hours, in minutes below one hour ("<1 min", "12 min", "1.5 h", "12 h"). */
export function formatDuration(hours: number): string {
  if (!(hours > 0)) return "0";
  const minutes = hours * 60;
  if (minutes < 0.5) return "<1 min";
  if (minutes < 59.5) return `${Math.round(minutes)} min`;
  return `${formatHours(hours)} h`;
}

/** Display name of a profile slug; the empty slug is the default (no profile list). */
export function profileName(slug: string): string {
  return slug === "" ? "(default)" : slug;
}

/** Today's place in a chart's days (if there), and the words that mark it as still under way. */
export function partialDay(days: readonly string[], today: string) {
  const i = days.indexOf(today);
  const index = i < 0 ? undefined : i;
  return {
    index,
    label: (day: string) => (day === today ? `${day} (today, so far)` : day),
    summary: (text: string) => (index === undefined ? text : `${text} Today is so far.`),
  };
}

/** Indexes of at most `count` evenly spread labels, always the first and the last. */
export function labelIndexes(length: number, count = 6): number[] {
  if (length <= count) return Array.from({ length }, (_, i) => i);
  const step = (length - 1) / (count - 1);
  return Array.from({ length: count }, (_, i) => Math.round(i * step));
}

export interface Series {
  name: string;
  values: number[];
}

/** Per-day totals of stacked series. */
export function stackTotals(series: readonly Series[], length: number): number[] {
  const totals = new Array<number>(length).fill(0);
  for (const s of series) s.values.forEach((v, i) => (totals[i] = (totals[i] ?? 0) + v));
  return totals;
}

/**
 * One sentence a screen reader announces for a chart: the range, the total (when it adds up)
 * and the highest day. `format` renders a value with its unit.
 */
export function chartSummary(
  title: string,
  days: readonly string[],
  values: readonly number[],
  format: (v: number) => string,
  additive = true,
): string {
  const first = days[0];
  const last = days[days.length - 1];
  if (first === undefined || last === undefined) return `${title}: no data.`;
  let top = 0;
  values.forEach((v, i) => {
    if (v > (values[top] ?? 0)) top = i;
  });
  const peak = values[top] ?? 0;
  const total = values.reduce((a, b) => a + b, 0);
  const facts: string[] = [];
  if (additive) facts.push(`${format(total)} in total`);
  facts.push(peak > 0 ? `highest ${format(peak)} on ${days[top]}` : "none on any day");
  return `${title} from ${first} to ${last}: ${facts.join(", ")}.`;
}

/** Categorical colours that read on light and dark backgrounds (Okabe-Ito). */
export const PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#999999"];

export function colour(index: number): string {
  return PALETTE[index % PALETTE.length] ?? "#999999";
}
