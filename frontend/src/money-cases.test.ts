// @vitest-environment node
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { money as costPageMoney } from "./cost";
import { money as spawnFormMoney } from "./profiles/price";

// Shared with tests/test_money_cases.py (the hub's own money(), the reference users see).
interface Case {
  amount: number;
  currency: string;
  text: string;
}
const { cases } = JSON.parse(readFileSync(join(process.cwd(), "..", "tests", "data", "money_cases.json"), "utf8")) as {
  cases: Case[];
};

// Two copies on purpose: the spawn form's script is one file with no shared chunk (see cost.tsx).
const copies = { "spawn form (profiles/price.ts)": spawnFormMoney, "cost page (cost.tsx)": costPageMoney };

describe.each(Object.entries(copies))("money() of the %s, against the hub's cases", (_name, money) => {
  it.each(cases.map((c) => [`${Object.is(c.amount, -0) ? "-0" : c.amount} ${c.currency}`, c] as const))(
    "%s",
    (_case, c) => {
      expect(money(c.amount, c.currency)).toBe(c.text);
    },
  );
});

it("reads negative zero from the cases file as negative zero", () => {
  expect(cases.some((c) => Object.is(c.amount, -0))).toBe(true);
});
