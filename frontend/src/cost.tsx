/**
 * Entry point of the cost page (`{service-prefix}cost`).
 *
 * The server template renders
 *   <div id="hub-extensions-cost" data-service-prefix data-hub-prefix data-xsrf-token
 *        data-can-read-all data-currency data-today></div>
 * Holders of the usage scope (hub admins) get the month's report: total, top spenders, groups,
 * the daily trend and a CSV export. Others get their own month. The server enforces it.
 */
import { useState } from "preact/hooks";
import { joinUrl, readPageConfig, type PageConfig } from "./lib/urls";
import { ChartFigure, StackedBars } from "./components/charts";
import { chartSummary } from "./components/chart-data";
import { mountPage, Status } from "./components/status";
import { query } from "./lib/query";
import { useApi } from "./lib/use-api";

/** "12.34 EUR", as profiles/price.ts writes it; kept here, not imported, so that the spawn
 * form's script stays one file (a shared module would become a chunk it must also fetch). */
export function money(amount: number, currency: string): string {
  return `${amount.toFixed(amount >= 0.1 || amount === 0 ? 2 : 3)} ${currency}`;
}

export const MOUNT_ID = "hub-extensions-cost";

export interface CostConfig extends PageConfig {
  canReadAll: boolean;
  currency: string;
  today: string;
}

interface UserCost {
  user: string;
  cost: number;
  hours: number;
  profiles: Record<string, number>;
}
interface Report {
  currency: string;
  month: string;
  total: number;
  users: UserCost[];
  top: UserCost[];
  groups: Array<{ group: string; cost: number; hours: number }>;
  daily: Array<[string, number]>;
}
interface Mine {
  currency: string;
  month: string;
  spent: number;
  daily: Array<[string, number]>;
  budgets: Array<{ kind: string; name: string; limit: number; spent: number; over: boolean; resets: string }>;
}

export function readCostConfig(el: HTMLElement): CostConfig {
  const today = el.getAttribute("data-today") ?? "";
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) throw new Error(`Missing or invalid attribute data-today on #${MOUNT_ID}`);
  return {
    ...readPageConfig(el),
    canReadAll: el.getAttribute("data-can-read-all") === "true",
    currency: el.getAttribute("data-currency") || "",
    today,
  };
}

/** An axis label: enough decimals that small amounts do not all read "0.00". */
export function axisAmount(v: number): string {
  if (v === 0) return "0";
  const digits = Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(Math.abs(v)))));
  return v.toFixed(digits);
}

function Trend({ daily, currency, title }: { daily: Array<[string, number]>; currency: string; title: string }) {
  const days = daily.map(([d]) => d);
  const values = daily.map(([, c]) => c);
  const fmt = (v: number) => money(v, currency);
  return (
    <ChartFigure
      id="cost-chart-trend"
      title={title}
      summary={chartSummary(title, days, values, fmt)}
      columns={["Day", `Cost (${currency})`]}
      rows={daily.map(([d, c]) => [d, c.toFixed(2)])}
    >
      <StackedBars days={days} series={[{ name: "HubExtensionsCost", values }]} format={(v) => axisAmount(v)} />
    </ChartFigure>
  );
}

function MonthPicker({ month, today, onChange }: { month: string; today: string; onChange: (m: string) => void }) {
  return (
    <div class="d-flex align-items-center gap-2 mb-3">
      <label class="form-label mb-0" for="cost-month">
        Month
      </label>
      <input
        id="cost-month"
        type="month"
        class="form-control form-control-sm w-auto"
        value={month}
        max={today.slice(0, 7)}
        onChange={(e) => {
          const value = (e.target as HTMLInputElement).value;
          if (/^\d{4}-\d{2}$/.test(value)) onChange(value);
        }}
      />
    </div>
  );
}

function AdminReport({ config }: { config: CostConfig }) {
  const [month, setMonth] = useState(config.today.slice(0, 7));
  const url = joinUrl(config.servicePrefix, "api/cost/report") + query({ month });
  const state = useApi<Report>(url, config.xsrfToken);
  const csv = joinUrl(config.servicePrefix, "api/cost/report.csv") + query({ month });
  return (
    <>
      <MonthPicker month={month} today={config.today} onChange={setMonth} />
      {state.kind !== "ready" ? (
        <Status state={state} what="the cost report" />
      ) : (
        <ReportBody report={state.data} csv={csv} />
      )}
    </>
  );
}

function ReportBody({ report, csv }: { report: Report; csv: string }) {
  const cur = report.currency;
  return (
    <>
      <p class="lead">
        {report.month}: <strong>{money(report.total, cur)}</strong> across {report.users.length}{" "}
        {report.users.length === 1 ? "user" : "users"}.{" "}
        <a class="btn btn-sm btn-outline-contrast" href={csv} download>
          Export CSV
        </a>
      </p>
      <div class="row">
        <section class="col-lg-6" aria-labelledby="cost-top-title">
          <h2 class="h6" id="cost-top-title">
            Top spenders
          </h2>
          <table class="table table-sm">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col" class="text-end">
                  Hours
                </th>
                <th scope="col" class="text-end">
                  Cost
                </th>
              </tr>
            </thead>
            <tbody>
              {report.top.map((u) => (
                <tr key={u.user}>
                  <td>{u.user}</td>
                  <td class="text-end">{u.hours.toFixed(1)}</td>
                  <td class="text-end">{money(u.cost, cur)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section class="col-lg-6" aria-labelledby="cost-groups-title">
          <h2 class="h6" id="cost-groups-title">
            By group
          </h2>
          {report.groups.length === 0 ? (
            <p class="text-body-secondary">No group had sessions this month.</p>
          ) : (
            <table class="table table-sm">
              <thead>
                <tr>
                  <th scope="col">Group</th>
                  <th scope="col" class="text-end">
                    Hours
                  </th>
                  <th scope="col" class="text-end">
                    Cost
                  </th>
                </tr>
              </thead>
              <tbody>
                {report.groups.map((g) => (
                  <tr key={g.group}>
                    <td>{g.group}</td>
                    <td class="text-end">{g.hours.toFixed(1)}</td>
                    <td class="text-end">{money(g.cost, cur)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
      <Trend daily={report.daily} currency={cur} title="Cost per day (all users)" />
    </>
  );
}

function MyCost({ config }: { config: CostConfig }) {
  const [month, setMonth] = useState(config.today.slice(0, 7));
  const url = joinUrl(config.servicePrefix, "api/cost/me") + query({ month });
  const state = useApi<Mine>(url, config.xsrfToken);
  return (
    <>
      <MonthPicker month={month} today={config.today} onChange={setMonth} />
      {state.kind !== "ready" ? (
        <Status state={state} what="your cost" />
      ) : (
        <>
          <p class="lead">
            {state.data.month}: <strong>{money(state.data.spent, state.data.currency)}</strong>
          </p>
          {state.data.budgets.map((b) => (
            <p key={`${b.kind}-${b.name}`} class={b.over ? "alert alert-danger" : "text-body-secondary"}>
              {b.kind === "user" ? "Your budget" : `Group ${b.name}'s pooled budget`}:{" "}
              {money(b.spent, state.data.currency)} of {money(b.limit, state.data.currency)}, resets on {b.resets}.
            </p>
          ))}
          <Trend daily={state.data.daily} currency={state.data.currency} title="Your cost per day" />
        </>
      )}
    </>
  );
}

export function mount(el: HTMLElement): void {
  mountPage(el, () => {
    const config = readCostConfig(el);
    return config.canReadAll ? <AdminReport config={config} /> : <MyCost config={config} />;
  });
}

const target = typeof document !== "undefined" ? document.getElementById(MOUNT_ID) : null;
if (target) mount(target);
