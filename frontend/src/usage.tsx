/**
 * Entry point of the usage page (`{service-prefix}usage`).
 *
 * The server template renders
 *   <div id="hub-extensions-usage" data-service-prefix data-hub-prefix data-xsrf-token
 *        data-user data-can-read-all data-timezone data-today data-reasons></div>
 * Holders of the usage scope get three charts and everyone's sessions; others get their own
 * sessions only. The server enforces this on every API call; the page follows it.
 */
import { Fragment } from "preact";
import { useState } from "preact/hooks";
import { readPageConfig, type PageConfig } from "./lib/urls";
import { chartSummary, stackTotals } from "./components/chart-data";
import { ChartFigure, Line, StackedBars } from "./components/charts";
import {
  addDays,
  apiUrl,
  formatDuration,
  partialDay,
  profileName,
  WINDOWS,
  type ActiveUsersResponse,
  type DailyResponse,
  type Window,
} from "./usage/data";
import { hoursAxis } from "./components/ticks";
import { SessionsPanel } from "./usage/sessions";
import { mountPage, Status } from "./components/status";
import { useApi } from "./lib/use-api";

export const MOUNT_ID = "hub-extensions-usage";
const PERIODS = [30, 90, 365];

export interface UsageConfig extends PageConfig {
  user: string;
  canReadAll: boolean;
  timezone: string;
  today: string;
  reasons: string[];
}

export function readUsageConfig(el: HTMLElement): UsageConfig {
  const today = el.getAttribute("data-today") ?? "";
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) {
    throw new Error(`Missing or invalid attribute data-today on #${MOUNT_ID}`);
  }
  return {
    ...readPageConfig(el),
    user: el.getAttribute("data-user") ?? "",
    canReadAll: el.getAttribute("data-can-read-all") === "true",
    timezone: el.getAttribute("data-timezone") || "UTC",
    today,
    reasons: (el.getAttribute("data-reasons") ?? "").split(" ").filter(Boolean),
  };
}

function ActiveUsersChart({ config, start }: { config: UsageConfig; start: string }) {
  const [span, setSpan] = useState<Window>("daily");
  const params = { start, end: config.today, window: span };
  const url = apiUrl(config.servicePrefix, "active-users", params);
  const state = useApi<ActiveUsersResponse>(url, config.xsrfToken);
  const controls = (
    <div class="btn-group btn-group-sm mb-2" role="group" aria-label="Active users window">
      {WINDOWS.map((w) => (
        <Fragment key={w}>
          <input
            type="radio"
            class="btn-check"
            name="usage-window"
            id={`usage-window-${w}`}
            checked={span === w}
            onChange={() => setSpan(w)}
          />
          <label class="btn btn-outline-contrast" for={`usage-window-${w}`}>
            {w}
          </label>
        </Fragment>
      ))}
    </div>
  );
  if (state.kind !== "ready") return <Status state={state} what="active users" />;
  const { days, counts } = state.data;
  const title = `Active users (${span})`;
  const today = partialDay(days, config.today);
  return (
    <ChartFigure
      id="usage-chart-active"
      title={title}
      summary={today.summary(chartSummary(title, days, counts, (v) => `${v} users`, false))}
      columns={["Day", "Active users"]}
      rows={days.map((d, i) => [today.label(d), counts[i] ?? 0])}
      controls={controls}
      partial={today.index !== undefined}
    >
      <Line days={days} values={counts} partial={today.index} />
    </ChartFigure>
  );
}

function DailyCharts({ config, start }: { config: UsageConfig; start: string }) {
  const url = apiUrl(config.servicePrefix, "daily", { start, end: config.today });
  const state = useApi<DailyResponse>(url, config.xsrfToken);
  if (state.kind !== "ready") return <Status state={state} what="daily usage" />;
  const { days, sessions, hours } = state.data;
  const series = Object.entries(hours).map(([slug, values]) => ({
    name: profileName(slug),
    values,
  }));
  const names = series.map((s) => s.name);
  const totals = stackTotals(series, days.length);
  const h = formatDuration;
  const today = partialDay(days, config.today);
  const partial = today.index !== undefined;
  return (
    <>
      <ChartFigure
        id="usage-chart-hours"
        title="Hours by profile"
        summary={today.summary(chartSummary("Hours by profile", days, totals, h))}
        columns={["Day", ...names]}
        rows={days.map((d, i) => [today.label(d), ...series.map((s) => formatDuration(s.values[i] ?? 0))])}
        legend={names}
        partial={partial}
      >
        <StackedBars days={days} series={series} scale={hoursAxis} partial={today.index} />
      </ChartFigure>
      <ChartFigure
        id="usage-chart-sessions"
        title="Sessions per day"
        summary={today.summary(chartSummary("Sessions per day", days, sessions, (v) => `${v} sessions`))}
        columns={["Day", "Sessions"]}
        rows={days.map((d, i) => [today.label(d), sessions[i] ?? 0])}
        partial={partial}
      >
        <StackedBars days={days} series={[{ name: "Sessions", values: sessions }]} partial={today.index} />
      </ChartFigure>
    </>
  );
}

function Charts({ config }: { config: UsageConfig }) {
  const [period, setPeriod] = useState(30);
  const start = addDays(config.today, -(period - 1));
  return (
    <section aria-label="Charts">
      <div class="d-flex align-items-center gap-2 mb-3">
        <label class="form-label mb-0" for="usage-period">
          Period
        </label>
        <select
          id="usage-period"
          class="form-select form-select-sm w-auto"
          value={String(period)}
          onChange={(e) => setPeriod(Number((e.target as HTMLSelectElement).value))}
        >
          {PERIODS.map((p) => (
            <option value={String(p)} key={p}>
              Last {p} days
            </option>
          ))}
        </select>
      </div>
      <ActiveUsersChart config={config} start={start} />
      <DailyCharts config={config} start={start} />
    </section>
  );
}

export function UsagePage({ config }: { config: UsageConfig }) {
  return (
    <>
      {config.canReadAll ? <Charts config={config} /> : null}
      <SessionsPanel
        servicePrefix={config.servicePrefix}
        xsrfToken={config.xsrfToken}
        canReadAll={config.canReadAll}
        reasons={config.reasons}
        timezone={config.timezone}
      />
    </>
  );
}

/** Render the usage page into `el`; a misconfigured page shows the error, not a blank. */
export function mount(el: HTMLElement): void {
  mountPage(el, () => <UsagePage config={readUsageConfig(el)} />);
}

const target = typeof document !== "undefined" ? document.getElementById(MOUNT_ID) : null;
if (target) {
  mount(target);
}
