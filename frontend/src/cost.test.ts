import { describe, expect, it } from "vitest";
import { axisAmount, money } from "./cost";

describe("cost page amounts", () => {
  it("labels small axis values with enough decimals to tell them apart", () => {
    expect(axisAmount(0)).toBe("0");
    expect(axisAmount(12.5)).toBe("12.50");
    expect(axisAmount(0.004)).toBe("0.0040");
    expect(axisAmount(0.008)).toBe("0.0080");
  });

  it("writes money as the hub's pages do", () => {
    expect(money(0.125, "EUR")).toBe("0.13 EUR");
    expect(money(0.05, "EUR")).toBe("0.050 EUR");
  });
});
