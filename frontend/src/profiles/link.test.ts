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
    const link = new URL(
      selectionLink(
        "/hub/spawn",
        BASE,
        [
          ["profile", "a b"],
          ["k", "x:y&z"],
        ],
        false,
      ),
    );
    const params = fragmentFields(link.hash);
    expect(params.get("profile")).toBe("a b");
    expect(params.get("k")).toBe("x:y&z");
  });

  it("is empty for no fragment", () => {
    expect([...fragmentFields("")]).toEqual([]);
    expect([...fragmentFields("#")]).toEqual([]);
  });
});

describe("links made by jupyterhub-fancy-profiles", () => {
  /** A permalink as fancy-profiles 0.5 writes it: `#fancy-forms-config=` + URL-encoded JSON. */
  const fancyHash = (config: unknown): string =>
    "#" + new URLSearchParams([["fancy-forms-config", JSON.stringify(config)]]).toString();
  const fields = (hash: string) => [...fragmentFields(hash)];

  it("turns a listed choice into our field names, dropping the empty unlisted values it writes", () => {
    const hash = fancyHash({
      profile: "gpu",
      image: "geospatial",
      "image:unlisted_choice": "",
      resources: "mem_2_7",
      "resources:unlisted_choice": "",
    });
    expect(fields(hash)).toEqual([
      ["profile", "gpu"],
      ["profile-option-gpu--image", "geospatial"],
      ["profile-option-gpu--resources", "mem_2_7"],
    ]);
  });

  it("carries an Other... value", () => {
    const hash = fancyHash({
      profile: "custom",
      image: "unlisted_choice",
      "image:unlisted_choice": "quay.io/org/img:1",
    });
    expect(fields(hash)).toEqual([
      ["profile", "custom"],
      ["profile-option-custom--image", "unlisted-choice"],
      ["profile-option-custom--image--unlisted-choice", "quay.io/org/img:1"],
    ]);
  });

  it("carries a build's repository and ref, to fill in, never to start", () => {
    const hash = fancyHash({
      profile: "build-custom-environment",
      image: "--extra-selectable-item",
      "image:unlisted_choice": "",
      "image:binderProvider": "gh",
      "image:binderRepo": "org/repo",
      "image:ref": "v1.0",
    });
    expect(fields(hash + "&hx-start=1")).toEqual([
      ["profile", "build-custom-environment"],
      ["profile-option-build-custom-environment--image--build-provider", "gh"],
      ["profile-option-build-custom-environment--image--build-repo", "org/repo"],
      ["profile-option-build-custom-environment--image--build-ref", "v1.0"],
    ]);
  });

  it("gives nothing for broken or foreign JSON, and ignores values that are not text", () => {
    expect(fields("#fancy-forms-config=%7B%22profile%22%3A%22a")).toEqual([]);
    expect(fields("#fancy-forms-config")).toEqual([]);
    expect(fields(fancyHash(["profile", "a"]))).toEqual([]);
    expect(fields(fancyHash({ image: "x" }))).toEqual([]);
    expect(fields(fancyHash({ profile: "a", image: 3, "hx-start": "1" }))).toEqual([
      ["profile", "a"],
      ["profile-option-a--hx-start", "1"],
    ]);
  });

  it("leaves our own fragments alone", () => {
    expect(fields("#profile=a&hx-start=1")).toEqual([
      ["profile", "a"],
      ["hx-start", "1"],
    ]);
  });
});
