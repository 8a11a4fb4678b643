/**
 * Data of the usage page: API shapes, URLs, dates and durations (the charts' own arithmetic is
 * in components/chart-data.ts).
 * Pure functions only (no DOM), so they are tested on their own.
 */
import { query } from "../lib/query";
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
