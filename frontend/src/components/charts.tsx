/**
 * Hand-drawn SVG charts (no charting library: the page's budget is 10 KiB gzipped).
 *
 * Each chart is a <figure> with a visible title, an SVG whose aria-label summarises it, and the
 * same numbers in a <details> table, so nothing is shown only as a picture. Text and grid lines
 * use currentColor, so the charts follow JupyterHub's light/dark theme.
 */
import type { ComponentChildren } from "preact";
import { colour, labelIndexes, stackTotals, type Series } from "./chart-data";
import { countAxis, valueAxis, type Axis } from "./ticks";

export const WIDTH = 640;
export const HEIGHT = 220;
const M = { top: 10, right: 10, bottom: 28, left: 52 };
/** How a day still under way is drawn: lighter, and named in the legend. */
export const PARTIAL_OPACITY = 0.45;
export const PARTIAL_LABEL = "today (so far)";
const PLOT_W = WIDTH - M.left - M.right;
const PLOT_H = HEIGHT - M.top - M.bottom;

type Cell = string | number;

interface FigureProps {
  id: string;
  title: string;
  summary: string;
  columns: string[];
  rows: Cell[][];
  controls?: ComponentChildren;
  legend?: readonly string[];
  /** the chart's last day is today, still under way: say so in the legend */
  partial?: boolean;
  children: ComponentChildren;
}

/** A chart's frame: title, optional controls, the SVG, a legend and its data table. */
export function ChartFigure(props: FigureProps) {
  const { id, title, summary, columns, rows, controls, legend, partial, children } = props;
  const names = legend ?? [];
  return (
    <figure class="card bg-body text-body mb-4" aria-labelledby={`${id}-title`}>
      <figcaption class="card-header">
        <h2 id={`${id}-title`} class="h6 mb-0">
          {title}
        </h2>
      </figcaption>
      <div class="card-body">
        {controls}
        <svg
          id={id}
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          width="100%"
          role="img"
          aria-label={summary}
          class="d-block"
          style={{ maxHeight: "16rem" }}
        >
          {children}
        </svg>
        {names.length > 0 || partial ? (
          <ul class="list-inline small mb-2" aria-label={`Legend: ${title}`}>
            {names.map((name, i) => (
              <li class="list-inline-item" key={name}>
                <span
                  aria-hidden="true"
                  class="d-inline-block me-1 align-middle"
                  style={{ width: "0.8em", height: "0.8em", background: colour(i) }}
                />
                {name}
              </li>
            ))}
            {partial ? (
              <li class="list-inline-item" data-partial-legend>
                <span
                  aria-hidden="true"
                  class="d-inline-block me-1 align-middle"
                  style={{
                    width: "0.8em",
                    height: "0.8em",
                    background: colour(0),
                    opacity: PARTIAL_OPACITY,
                  }}
                />
                {PARTIAL_LABEL}
              </li>
            ) : null}
          </ul>
        ) : null}
        <details>
          <summary>Data table</summary>
          {/* focusable: a keyboard user can scroll a long table */}
          <div
            class="table-responsive"
            style={{ maxHeight: "20rem" }}
            tabIndex={0}
            role="region"
            aria-label={`${title}: data`}
          >
            <table class="table table-sm mb-0">
              <caption class="visually-hidden">{title}</caption>
              <thead>
                <tr>
                  {columns.map((c) => (
                    <th scope="col" key={c}>
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={String(row[0])}>
                    {row.map((cell, i) => (i === 0 ? <th scope="row">{cell}</th> : <td>{cell}</td>))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      </div>
    </figure>
  );
}

const y = (v: number, max: number) => M.top + PLOT_H - (v / max) * PLOT_H;

/** Grid lines with value labels, and a few day labels under the plot ("today" if partial). */
function Axes({ days, axis, partial }: AxesProps) {
  const step = PLOT_W / Math.max(days.length, 1);
  return (
    <g fill="currentColor" font-size="11" aria-hidden="true">
      {axis.ticks.map((t, k) => (
        <g key={t} class="usage-axis-tick">
          <line
            x1={M.left}
            x2={WIDTH - M.right}
            y1={y(t, axis.max)}
            y2={y(t, axis.max)}
            stroke="currentColor"
            stroke-opacity={t === 0 ? 0.5 : 0.15}
          />
          <text x={M.left - 6} y={y(t, axis.max) + 4} text-anchor="end">
            {axis.labels[k]}
          </text>
        </g>
      ))}
      {labelIndexes(days.length).map((i) => (
        <text key={i} x={M.left + (i + 0.5) * step} y={HEIGHT - 8} text-anchor="middle">
          {i === partial ? "today" : days[i]?.slice(5)}
        </text>
      ))}
    </g>
  );
}

interface AxesProps {
  days: readonly string[];
  axis: Axis;
  partial?: number | undefined;
}

/** Bars per day, stacked by series (one series gives plain bars); the partial day lighter. */
export function StackedBars({ days, series, scale, format, partial }: BarsProps) {
  const totals = stackTotals(series, days.length);
  const top = Math.max(0, ...totals);
  const axis = scale ? scale(top) : format ? valueAxis(top, format) : countAxis(top);
  const { max } = axis;
  const step = PLOT_W / Math.max(days.length, 1);
  const width = Math.max(step * 0.8, 0.5);
  const base = new Array<number>(days.length).fill(0);
  return (
    <>
      <Axes days={days} axis={axis} partial={partial} />
      {series.map((s, k) => (
        <g key={s.name} fill={colour(k)}>
          {s.values.map((v, i) => {
            const below = base[i] ?? 0;
            base[i] = below + v;
            if (v <= 0) return null;
            const top = y(below + v, max);
            const isPartial = i === partial;
            return (
              <rect
                key={i}
                x={M.left + i * step + (step - width) / 2}
                y={top}
                width={width}
                height={y(below, max) - top}
                {...(isPartial ? { "fill-opacity": PARTIAL_OPACITY, "data-partial": "" } : {})}
              >
                {isPartial ? <title>{`${s.name}, ${PARTIAL_LABEL}`}</title> : null}
              </rect>
            );
          })}
        </g>
      ))}
    </>
  );
}

interface BarsProps {
  days: readonly string[];
  series: readonly Series[];
  /** the value axis for the largest day's total (default: whole counts) */
  scale?: (max: number) => Axis;
  /** or: round steps of any size, each label written by `format` */
  format?: (v: number) => string;
  /** index of a day still under way (today), drawn lighter */
  partial?: number | undefined;
}

/** A line through one value per day; a partial last day is a dashed end and an open dot. */
export function Line({ days, values, partial }: LineProps) {
  const axis = countAxis(Math.max(0, ...values));
  const step = PLOT_W / Math.max(days.length, 1);
  const xy = values.map((v, i) => [M.left + (i + 0.5) * step, y(v, axis.max)] as const);
  const text = (p: readonly [number, number]) => `${p[0].toFixed(1)},${p[1].toFixed(1)}`;
  const lastIsPartial = partial !== undefined && partial === values.length - 1;
  const open = lastIsPartial && values.length > 1;
  const solid = open ? xy.slice(0, -1) : xy;
  const last = xy[xy.length - 1];
  const before = xy[xy.length - 2];
  return (
    <>
      <Axes days={days} axis={axis} partial={partial} />
      <polyline points={solid.map(text).join(" ")} fill="none" stroke={colour(0)} stroke-width="2" />
      {lastIsPartial && last ? (
        <g data-partial="">
          {open && before ? (
            <line
              x1={before[0]}
              y1={before[1]}
              x2={last[0]}
              y2={last[1]}
              stroke={colour(0)}
              stroke-width="2"
              stroke-dasharray="4 3"
            />
          ) : null}
          <circle cx={last[0]} cy={last[1]} r="4" fill="none" stroke={colour(0)} stroke-width="2">
            <title>{`${PARTIAL_LABEL}: ${values[values.length - 1] ?? 0}`}</title>
          </circle>
        </g>
      ) : null}
    </>
  );
}

interface LineProps {
  days: readonly string[];
  values: readonly number[];
  partial?: number | undefined;
}
