/** The arithmetic the charts draw with: labels, stacked totals, the screen reader summary, colours. */

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
