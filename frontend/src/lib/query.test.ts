import { describe, expect, it } from "vitest";
import { query } from "./query";

describe("query", () => {
  it("keeps non-empty values only, encoded", () => {
    expect(query({ user: "ada lovelace", profile: "", start: " ", limit: 50, offset: 0 })).toBe(
      "?user=ada+lovelace&limit=50&offset=0",
    );
    expect(query({ user: "" })).toBe("");
  });

  it("does not let a value inject another parameter", () => {
    expect(query({ user: "a&all=1" })).toBe("?user=a%26all%3D1");
  });
});
