/**
 * Value axes of the charts (usage and cost pages): round steps, and labels that read at any magnitude.
 * Pure functions (no DOM), tested on their own.
 */

/** An axis: its top, tick values (in the data's unit) and one distinct label per tick. */
export interface Axis {
  max: number;
  ticks: number[];
  labels: string[];
}

const TICKS = 5; // at most about this many steps

/** The smallest of `factors` x 10^k that is at least `rough` (rough > 0). */
export function niceStep(rough: number, factors: readonly number[] = [1, 2, 5, 10]): number {
  const power = 10 ** Math.floor(Math.log10(rough));
  return factors.map((f) => f * power).find((s) => s >= rough * (1 - 1e-9)) ?? 10 * power;
}

function stepsTo(max: number, step: number): number[] {
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; i * step <= top + step / 2; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** `v` with as many decimals as `step` needs (so labels one step apart differ), k above 10,000. */
export function formatTick(v: number, step: number): string {
  if (v === 0) return "0";
  if (Math.abs(v) >= 10_000 || (Math.abs(v) >= 1000 && step >= 100)) {
    return `${trim(v / 1000, step / 1000)}k`;
  }
  return trim(v, step);
}

function trim(v: number, step: number): string {
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  // a step of 0.25 or 2.5 needs one more decimal than its power of ten says
  const exact = Number(step.toFixed(decimals)) === step ? decimals : decimals + 1;
  return String(Number(v.toFixed(exact)));
}

/** Any amount: steps of 1, 2 or 5 x 10^k; labels by `format` (default: `formatTick`). */
export function valueAxis(max: number, format?: (v: number) => string): Axis {
  if (!(max > 0)) return { max: 1, ticks: [0, 1], labels: ["0", format ? format(1) : "1"] };
  const step = niceStep(max / TICKS);
  const ticks = stepsTo(max, step);
  const label = format ?? ((v: number) => formatTick(v, step));
  return { max: ticks[ticks.length - 1]!, ticks, labels: ticks.map(label) };
}

/** Whole counts (users, sessions): whole-number ticks only. */
export function countAxis(max: number): Axis {
  if (!(max > 0)) return { max: 1, ticks: [0, 1], labels: ["0", "1"] };
  const step = Math.max(1, niceStep(max / TICKS));
  const ticks = stepsTo(max, step);
  return { max: ticks[ticks.length - 1]!, ticks, labels: ticks.map((t) => formatTick(t, step)) };
}

/** Minutes steps that read on a clock. */
const MINUTE_STEPS = [1, 2, 5, 10, 15, 20, 30];

/**
 * A duration axis for values in hours: in minutes while the top is under 2 hours ("0",
 * "15 min", "30 min"), else in hours ("0", "0.5 h", "1 h", ..., "5k h"). Ticks stay in hours.
 */
export function hoursAxis(maxHours: number): Axis & { unit: "min" | "h" } {
  if (!(maxHours > 0)) return { max: 1, ticks: [0, 1], labels: ["0", "1 h"], unit: "h" };
  if (maxHours < 2) {
    const minutes = maxHours * 60;
    const rough = minutes / TICKS;
    const step = MINUTE_STEPS.find((s) => s >= rough) ?? 30;
    const ticks = stepsTo(minutes, step);
    return {
      max: ticks[ticks.length - 1]! / 60,
      ticks: ticks.map((m) => m / 60),
      labels: ticks.map((m) => (m === 0 ? "0" : `${m} min`)),
      unit: "min",
    };
  }
  const step = niceStep(maxHours / TICKS);
  const ticks = stepsTo(maxHours, step);
  return {
    max: ticks[ticks.length - 1]!,
    ticks,
    labels: ticks.map((h) => (h === 0 ? "0" : `${formatTick(h, step)} h`)),
    unit: "h",
  };
}
