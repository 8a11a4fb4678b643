import { describe, expect, it, vi } from "vitest";
import { fullMatch, problem, type Rule } from "./validate";

const rule = (pattern: string | null, message: string | null = null): Rule => ({
  name: "Image",
  pattern,
  re: fullMatch(pattern),
  message,
});

describe("fullMatch", () => {
  it("matches the whole value only, like the server's ^(?:pattern)$", () => {
    const re = fullMatch("a+:b")!;
    expect(re.source).toBe("^(?:a+:b)$");
    expect(re.flags).toBe("");
    expect(re.test("aa:b")).toBe(true);
    for (const partial of ["aa:bb", "xaa:b", "aa:b\n", ""]) expect(re.test(partial)).toBe(false);
  });

  it("keeps an alternation inside the anchors", () => {
    const re = fullMatch("x|y")!;
    expect(re.test("x")).toBe(true);
    expect(re.test("xz")).toBe(false);
    expect(re.test("zy")).toBe(false);
  });

  it("is case-sensitive (no flags)", () => {
    expect(fullMatch("abc")!.test("ABC")).toBe(false);
  });

  it("gives no rule for no pattern, and warns (leaving it to the server) for one it cannot compile", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(fullMatch(null)).toBeNull();
    expect(fullMatch("")).toBeNull();
    expect(warn).not.toHaveBeenCalled();
    expect(fullMatch("(")).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
  });
});

describe("problem", () => {
  it("names the field, the value and the fix", () => {
    expect(problem(rule("a+:b"), "evil")).toBe('Image: "evil" is not allowed. Enter a value matching a+:b');
    expect(problem(rule("a+:b", "Ask for help."), "evil")).toBe('Image: "evil" is not allowed. Ask for help.');
    expect(problem(rule("a+:b"), "aa:b")).toBe("");
  });

  it("asks for a value when empty, even without a pattern", () => {
    expect(problem(rule(null), "")).toBe("Image: a value is required. Enter a value");
    expect(problem(rule(null), "anything")).toBe("");
    expect(problem(rule("a+:b"), "")).toBe("Image: a value is required. Enter a value matching a+:b");
  });

  it("shortens a long value in the message", () => {
    const message = problem(rule("a"), "x".repeat(100));
    expect(message).toContain(`"${"x".repeat(57)}..."`);
    expect(message).not.toContain("x".repeat(58));
  });
});
