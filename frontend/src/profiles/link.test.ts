import { describe, expect, it } from "vitest";
import { fragmentFields, selectionLink } from "./link";

const BASE = "https://hub.example.org/jupyter/hub/spawn-pending/alice";

describe("selectionLink", () => {
  const fields: Array<[string, string]> = [
    ["profile", "medium"],
    ["profile-option-medium--image--unlisted-choice", "quay.io/org/img:1.0 & more"],
  ];

  it("puts the fields in the fragment, resolved against the page", () => {
    expect(selectionLink("/jupyter/hub/spawn", BASE, fields, false)).toBe(
      "https://hub.example.org/jupyter/hub/spawn#profile=medium&profile-option-medium--image--unlisted-choice=quay.io%2Forg%2Fimg%3A1.0+%26+more",
    );
  });

  it("puts them in the query string for the auto-start link", () => {
    expect(selectionLink("/jupyter/hub/spawn/alice/box", BASE, fields, true)).toBe(
      "https://hub.example.org/jupyter/hub/spawn/alice/box?profile=medium&profile-option-medium--image--unlisted-choice=quay.io%2Forg%2Fimg%3A1.0+%26+more",
    );
  });

  it("keeps an absolute spawn URL and drops the page's own fragment", () => {
    expect(selectionLink("https://other.example/hub/spawn", `${BASE}#x`, [["profile", "a"]], true)).toBe(
      "https://other.example/hub/spawn?profile=a",
    );
  });
});

describe("fragmentFields", () => {
  it("reads back what selectionLink wrote", () => {
    const link = new URL(selectionLink("/hub/spawn", BASE, [["profile", "a b"], ["k", "x:y&z"]], false));
    const params = fragmentFields(link.hash);
    expect(params.get("profile")).toBe("a b");
    expect(params.get("k")).toBe("x:y&z");
  });

  it("is empty for no fragment", () => {
    expect([...fragmentFields("")]).toEqual([]);
    expect([...fragmentFields("#")]).toEqual([]);
  });
});
