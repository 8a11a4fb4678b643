/**
 * Hand-drawn SVG charts (no charting library: the page's budget is 10 KiB gzipped).
 *
 * Each chart is a <figure> with a visible title, an SVG whose aria-label summarises it, and the
 * same numbers in a <details> table, so nothing is shown only as a picture. Text and grid lines
 * use currentColor, so the charts follow JupyterHub's light/dark theme.
 */
import type { ComponentChildren } from "preact";
import { colour, labelIndexes, niceScale, stackTotals, type Series } from "./data";

export const WIDTH = 640;
export const HEIGHT = 220;
const M = { top: 10, right: 10, bottom: 28, left: 44 };
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
  children: ComponentChildren;
}

/** A chart's frame: title, optional controls, the SVG, a legend and its data table. */
export function ChartFigure(props: FigureProps) {
  const { id, title, summary, columns, rows, controls, legend, children } = props;
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
        {legend && legend.length > 0 ? (
          <ul class="list-inline small mb-2" aria-label={`Legend: ${title}`}>
            {legend.map((name, i) => (
              <li class="list-inline-item" key={name}>
                <span
                  aria-hidden="true"
                  class="d-inline-block me-1 align-middle"
                  style={{ width: "0.8em", height: "0.8em", background: colour(i) }}
                />
                {name}
              </li>
            ))}
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
                    {row.map((cell, i) =>
                      i === 0 ? <th scope="row">{cell}</th> : <td>{cell}</td>,
                    )}
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

/** Grid lines with value labels, and a few day labels under the plot. */
function Axes({ days, max, ticks, format }: AxesProps) {
  const step = PLOT_W / Math.max(days.length, 1);
  return (
    <g fill="currentColor" font-size="11" aria-hidden="true">
      {ticks.map((t) => (
        <g key={t}>
          <line
            x1={M.left}
            x2={WIDTH - M.right}
            y1={y(t, max)}
            y2={y(t, max)}
            stroke="currentColor"
            stroke-opacity={t === 0 ? 0.5 : 0.15}
          />
          <text x={M.left - 6} y={y(t, max) + 4} text-anchor="end">
            {format(t)}
          </text>
        </g>
      ))}
      {labelIndexes(days.length).map((i) => (
        <text key={i} x={M.left + (i + 0.5) * step} y={HEIGHT - 8} text-anchor="middle">
          {days[i]?.slice(5)}
        </text>
      ))}
    </g>
  );
}

interface AxesProps {
  days: readonly string[];
  max: number;
  ticks: number[];
  format: (v: number) => string;
}

/** Bars per day, stacked by series (one series gives plain bars). */
export function StackedBars({ days, series, format }: BarsProps) {
  const totals = stackTotals(series, days.length);
  const { max, ticks } = niceScale(Math.max(0, ...totals));
  const step = PLOT_W / Math.max(days.length, 1);
  const width = Math.max(step * 0.8, 0.5);
  const base = new Array<number>(days.length).fill(0);
  return (
    <>
      <Axes days={days} max={max} ticks={ticks} format={format} />
      {series.map((s, k) => (
        <g key={s.name} fill={colour(k)}>
          {s.values.map((v, i) => {
            const below = base[i] ?? 0;
            base[i] = below + v;
            if (v <= 0) return null;
            const top = y(below + v, max);
            return (
              <rect
                key={i}
                x={M.left + i * step + (step - width) / 2}
                y={top}
                width={width}
                height={y(below, max) - top}
              />
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
  format: (v: number) => string;
}

/** A line through one value per day. */
export function Line({ days, values }: { days: readonly string[]; values: readonly number[] }) {
  const { max, ticks } = niceScale(Math.max(0, ...values));
  const step = PLOT_W / Math.max(days.length, 1);
  const points = values.map(
    (v, i) => `${(M.left + (i + 0.5) * step).toFixed(1)},${y(v, max).toFixed(1)}`,
  );
  return (
    <>
      <Axes days={days} max={max} ticks={ticks} format={(v) => String(v)} />
      <polyline points={points.join(" ")} fill="none" stroke={colour(0)} stroke-width="2" />
    </>
  );
}
