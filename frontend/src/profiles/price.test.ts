// @vitest-environment node
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { hourlyRate, merge, money, type Footprint, type Pricing } from "./price";

// Written by tests/test_cost_prices.py from the hub's own formula (hub_extensions.cost).
interface Case {
  pricing: Pricing;
  footprint: Footprint;
  profile: string;
  rate: number;
  text: string;
}
const { cases } = JSON.parse(readFileSync(join(process.cwd(), "..", "tests", "data", "price-cases.json"), "utf8")) as {
  cases: Case[];
};

describe("the form's rate formula, against the hub's", () => {
  it("has cases for both modes", () => {
    expect(new Set(cases.map((c) => c.pricing.mode))).toEqual(new Set(["resources", "share_of_node"]));
  });

  it.each(cases.map((c) => [`${c.pricing.mode} ${c.profile} ${JSON.stringify(c.footprint)}`, c] as const))(
    "%s",
    (_name, c) => {
      const rate = hourlyRate(c.pricing, c.footprint, c.profile);
      expect(rate).toBeCloseTo(c.rate, 10);
      expect(money(rate, "USD")).toBe(c.text);
    },
  );

  it("lets a choice override only what it sets", () => {
    expect(merge({ cpu: 1, memory_bytes: 5 }, { cpu: 4 }, undefined)).toEqual({ cpu: 4, memory_bytes: 5 });
  });

  it("rounds halves up, as the server's text does", () => {
    expect(money(0.125, "EUR")).toBe("0.13 EUR");
    expect(money(0.0125, "EUR")).toBe("0.013 EUR");
  });
});
