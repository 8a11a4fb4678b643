import { describe, expect, it } from "vitest";
import { joinUrl, readPageConfig } from "./urls";

describe("joinUrl", () => {
  it.each([
    // base with and without a trailing slash give the same result
    ["/services/hub-extensions/", ["api/health"], "/services/hub-extensions/api/health"],
    ["/services/hub-extensions", ["api/health"], "/services/hub-extensions/api/health"],
    // JupyterHub base_url prefix is kept as given
    ["/prefix/services/hub-extensions/", ["api", "health"], "/prefix/services/hub-extensions/api/health"],
    ["/prefix/hub/", ["home"], "/prefix/hub/home"],
    // root base_url
    ["/", ["hub/"], "/hub/"],
    ["/", ["api"], "/api"],
    // exactly one slash at every joint
    ["/prefix//", ["/api/", "//health"], "/prefix/api/health"],
    // trailing slash only if the last part has one
    ["/prefix/hub", ["home/"], "/prefix/hub/home/"],
    ["/prefix/hub/", ["api", "users/"], "/prefix/hub/api/users/"],
    ["/prefix/hub/", ["api/", "users"], "/prefix/hub/api/users"],
    // empty parts are ignored
    ["/prefix/", ["", "api", ""], "/prefix/api"],
    // a relative base stays relative
    ["", ["api", "health"], "api/health"],
    ["services/x/", ["api"], "services/x/api"],
    // scheme and host survive
    ["https://hub.example.org/prefix/", ["hub", "home"], "https://hub.example.org/prefix/hub/home"],
  ])("joinUrl(%j, ...%j) === %j", (base, parts, expected) => {
    expect(joinUrl(base, ...parts)).toBe(expected);
  });

  it("returns the base unchanged when there is nothing to join", () => {
    expect(joinUrl("/prefix/hub/")).toBe("/prefix/hub/");
    expect(joinUrl("/prefix/hub")).toBe("/prefix/hub");
    expect(joinUrl("/prefix/hub/", "")).toBe("/prefix/hub/");
  });

  it("does not re-encode or touch query strings inside a part", () => {
    expect(joinUrl("/prefix/", "api/users?state=active")).toBe("/prefix/api/users?state=active");
    expect(joinUrl("/prefix/", encodeURIComponent("a b/c"))).toBe("/prefix/a%20b%2Fc");
  });
});

function element(attrs: Record<string, string>): HTMLElement {
  const el = document.createElement("div");
  el.id = "hub-extensions-home";
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

const FULL = {
  "data-service-prefix": "/prefix/services/hub-extensions/",
  "data-hub-prefix": "/prefix/hub/",
  "data-xsrf-token": "2|abc|def|123",
};

describe("readPageConfig", () => {
  it("reads the prefixes and the XSRF token", () => {
    expect(readPageConfig(element(FULL))).toEqual({
      servicePrefix: "/prefix/services/hub-extensions/",
      hubPrefix: "/prefix/hub/",
      xsrfToken: "2|abc|def|123",
    });
  });

  it.each(Object.keys(FULL))("throws an error naming %s when it is missing", (attribute) => {
    const attrs: Record<string, string> = { ...FULL };
    delete attrs[attribute];
    expect(() => readPageConfig(element(attrs))).toThrow(
      `Missing required attribute ${attribute} on #hub-extensions-home`,
    );
  });

  it("treats an empty attribute as missing", () => {
    expect(() => readPageConfig(element({ ...FULL, "data-hub-prefix": "  " }))).toThrow(/data-hub-prefix/);
  });
});
