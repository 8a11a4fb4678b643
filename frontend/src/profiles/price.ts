/**
 * Hourly rates in the spawn form: the same formula as hub_extensions.cost.prices.hourly_rate,
 * over the price version and footprints the server puts in the page data. Display only: what
 * a session costs is computed by the hub from what the server really ran with.
 */

export interface Footprint {
  cpu?: number;
  memory_bytes?: number;
  gpu?: number;
  gpu_type?: string | null;
}

export interface NodeType {
  hour: number;
  cpu: number;
  memory_bytes: number;
  gpu: number;
}

export interface PriceVersion {
  cpu_hour: number;
  memory_gib_hour: number;
  gpu_hour: Record<string, number>;
  node_types: Record<string, NodeType>;
  default_node_type: string | null;
  profiles: Record<string, { hour: number | null; node_type: string | null }>;
}

export interface Pricing {
  currency: string;
  mode: "resources" | "share_of_node";
  overhead: number;
  version: PriceVersion | null;
}

const GIB = 2 ** 30;

/** Later footprints override earlier ones, key by key (profile, then its chosen choices). */
export function merge(...parts: Array<Footprint | undefined>): Footprint {
  return Object.assign({}, ...parts.filter(Boolean)) as Footprint;
}

export function hourlyRate(pricing: Pricing, fp: Footprint, profile: string): number {
  const v = pricing.version;
  if (!v) return 0;
  const flat = v.profiles[profile];
  if (flat && flat.hour !== null) return flat.hour;
  const cpu = fp.cpu ?? 0;
  const mem = fp.memory_bytes ?? 0;
  const gpu = fp.gpu ?? 0;
  if (pricing.mode === "share_of_node") {
    const node = v.node_types[(flat && flat.node_type) || v.default_node_type || ""];
    if (!node) return 0;
    const shares = [cpu / node.cpu, mem / node.memory_bytes];
    if (node.gpu) shares.push(gpu / node.gpu);
    return node.hour * Math.min(1, Math.max(...shares)) * pricing.overhead;
  }
  const gpuPrice = v.gpu_hour[fp.gpu_type ?? ""] ?? v.gpu_hour["default"] ?? 0;
  return (cpu * v.cpu_hour + (mem / GIB) * v.memory_gib_hour + gpu * gpuPrice) * pricing.overhead;
}

/** "0.12 USD" as the server writes it (hub_extensions.cost.form_prices.money). */
export function money(amount: number, currency: string): string {
  const digits = amount >= 0.1 || amount === 0 ? 2 : 3;
  return `${amount.toFixed(digits)} ${currency}`;
}
