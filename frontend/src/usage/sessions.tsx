/**
 * The sessions table: a filter form (user, profile, dates, end reason), pages of 50, and a CSV
 * link carrying the same filters. The server decides whose sessions come back; the form only
 * hides the user field from those who may read nobody else's.
 */
import { useState } from "preact/hooks";
import { apiUrl, formatHours, NO_FILTERS, profileName, shortTime, type Filters, type SessionsResponse } from "./data";
import { useApi, type Loaded } from "../lib/use-api";

export const PAGE_SIZE = 50;

interface Props {
  servicePrefix: string;
  xsrfToken: string;
  canReadAll: boolean;
  reasons: readonly string[];
  timezone: string;
}

export function SessionsPanel({ servicePrefix, xsrfToken, canReadAll, reasons, timezone }: Props) {
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [applied, setApplied] = useState<Filters>(NO_FILTERS);
  const [offset, setOffset] = useState(0);
  const filters = { ...applied };
  if (!canReadAll) filters.user = "";
  const url = apiUrl(servicePrefix, "sessions", { ...filters, limit: PAGE_SIZE, offset });
  const state = useApi<SessionsResponse>(url, xsrfToken);
  const csv = apiUrl(servicePrefix, "sessions.csv", { ...filters });

  const field = (key: keyof Filters) => ({
    id: `usage-filter-${key}`,
    name: key,
    value: draft[key],
    onInput: (e: Event) => {
      const value = (e.target as HTMLInputElement).value;
      setDraft((d) => ({ ...d, [key]: value }));
    },
  });
  const apply = (next: Filters) => {
    setDraft(next);
    setApplied(next);
    setOffset(0);
  };

  return (
    <section class="card bg-body text-body mb-4" aria-labelledby="usage-sessions-title">
      <div class="card-header d-flex align-items-center">
        <h2 id="usage-sessions-title" class="h6 mb-0 me-auto">
          {canReadAll ? "Sessions" : "Your sessions"}
        </h2>
        <a class="btn btn-sm btn-outline-contrast" href={csv} download id="usage-csv">
          Download CSV
        </a>
      </div>
      <div class="card-body">
        <form
          class="row g-2 align-items-end mb-3"
          aria-label="Filter sessions"
          onSubmit={(e) => {
            e.preventDefault();
            apply(formFilters(e.currentTarget));
          }}
        >
          {canReadAll ? (
            <div class="col-sm-6 col-lg-2">
              <label class="form-label" for="usage-filter-user">
                User
              </label>
              <input class="form-control form-control-sm" type="text" {...field("user")} />
            </div>
          ) : null}
          <div class="col-sm-6 col-lg-2">
            <label class="form-label" for="usage-filter-profile">
              Profile
            </label>
            <input class="form-control form-control-sm" type="text" {...field("profile")} />
          </div>
          <div class="col-sm-6 col-lg-2">
            <label class="form-label" for="usage-filter-start">
              From
            </label>
            <input class="form-control form-control-sm" type="date" {...field("start")} />
          </div>
          <div class="col-sm-6 col-lg-2">
            <label class="form-label" for="usage-filter-end">
              To
            </label>
            <input class="form-control form-control-sm" type="date" {...field("end")} />
          </div>
          <div class="col-sm-6 col-lg-2">
            <label class="form-label" for="usage-filter-reason">
              End reason
            </label>
            <select class="form-select form-select-sm" {...field("reason")}>
              <option value="">Any</option>
              {reasons.map((r) => (
                <option value={r} key={r}>
                  {r.replace("_", " ")}
                </option>
              ))}
            </select>
          </div>
          <div class="col-auto">
            <button class="btn btn-sm btn-primary me-2" type="submit">
              Apply
            </button>
            <button class="btn btn-sm btn-outline-contrast" type="button" onClick={() => apply(NO_FILTERS)}>
              Reset
            </button>
          </div>
        </form>
        <SessionsTable state={state} timezone={timezone} canReadAll={canReadAll} />
        <nav class="d-flex align-items-center gap-2" aria-label="Sessions pages">
          <button
            class="btn btn-sm btn-outline-contrast"
            type="button"
            disabled={offset === 0}
            onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}
          >
            Previous
          </button>
          <button
            class="btn btn-sm btn-outline-contrast"
            type="button"
            disabled={!(state.kind === "ready" && state.data.has_more)}
            onClick={() => setOffset(offset + PAGE_SIZE)}
          >
            Next
          </button>
          <span class="small text-body-secondary" aria-live="polite" id="usage-page-status">
            {state.kind === "ready" ? pageText(offset, state.data.sessions.length) : ""}
          </span>
        </nav>
      </div>
    </section>
  );
}

/** The filters as the form holds them now (not as last rendered). */
export function formFilters(form: HTMLFormElement): Filters {
  const data = new FormData(form);
  const get = (key: keyof Filters) => String(data.get(key) ?? "").trim();
  return {
    user: get("user"),
    profile: get("profile"),
    start: get("start"),
    end: get("end"),
    reason: get("reason"),
  };
}

export function pageText(offset: number, count: number): string {
  return count === 0 ? "No sessions" : `Sessions ${offset + 1}–${offset + count}`;
}

function SessionsTable({
  state,
  timezone,
  canReadAll,
}: {
  state: Loaded<SessionsResponse>;
  timezone: string;
  canReadAll: boolean;
}) {
  if (state.kind === "error") {
    return (
      <div class="alert alert-danger" role="alert">
        <strong>Could not load the sessions.</strong> {state.message}
      </div>
    );
  }
  const sessions = state.kind === "ready" ? state.data.sessions : [];
  return (
    <div class="table-responsive" aria-busy={state.kind === "loading" ? "true" : "false"}>
      <table class="table table-sm table-striped align-middle" id="usage-sessions">
        <caption>Newest first; times in {timezone}.</caption>
        <thead>
          <tr>
            <th scope="col">Requested</th>
            {canReadAll ? <th scope="col">User</th> : null}
            <th scope="col">Profile</th>
            <th scope="col">Server</th>
            <th scope="col" class="text-end">
              Hours
            </th>
            <th scope="col">Ended</th>
            <th scope="col">End reason</th>
          </tr>
        </thead>
        <tbody>
          {sessions.map((s) => (
            <tr key={s.id}>
              <td>{shortTime(s.requested_at)}</td>
              {canReadAll ? <td>{s.user}</td> : null}
              <td>{profileName(s.profile)}</td>
              <td>{s.server_name || "(default)"}</td>
              <td class="text-end">{formatHours(s.hours)}</td>
              <td>{shortTime(s.ended_at)}</td>
              <td>{s.ended_at ? (s.end_reason ?? "").replace("_", " ") : "running"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
