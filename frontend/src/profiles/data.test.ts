import { afterEach, describe, expect, it } from "vitest";
import { readPageData } from "./data";

function page(json: string | null): Document {
  document.body.innerHTML =
    json === null ? "" : `<script type="application/json" id="hub-extensions-profiles-data">${json}</script>`;
  return document;
}

afterEach(() => {
  document.body.innerHTML = "";
});

describe("readPageData", () => {
  it("reads profiles, options, choices and the unlisted entry", () => {
    const data = readPageData(
      page(
        JSON.stringify({
          profiles: [
            {
              slug: "m",
              display_name: "M",
              options: [
                {
                  key: "image",
                  display_name: "Image",
                  choices: [{ key: "base", display_name: "Base", description_html: "<em>x</em>" }],
                  unlisted: { enabled: true, display_name: "Custom", pattern: "a+", message: null },
                },
              ],
            },
          ],
          selected: { profile: "m", options: {} },
        }),
      ),
    );
    expect(data.profiles[0]?.options[0]?.choices[0]?.description_html).toBe("<em>x</em>");
    expect(data.profiles[0]?.options[0]?.unlisted?.pattern).toBe("a+");
  });

  it("drops malformed entries instead of failing", () => {
    const data = readPageData(
      page(
        '{"profiles": [null, {"display_name": "no slug"}, {"slug": "s", "options": [1, {"key": "k", "unlisted": null}]}]}',
      ),
    );
    expect(data.profiles.map((p) => p.slug)).toEqual(["s"]);
    expect(data.profiles[0]?.options).toEqual([{ key: "k", choices: [], unlisted: null }]);
  });

  it("throws, saying why, when the data is missing or not page data", () => {
    expect(() => readPageData(page(null))).toThrow(/missing/);
    expect(() => readPageData(page("{oops"))).toThrow(SyntaxError);
    expect(() => readPageData(page("[]"))).toThrow(/profiles/);
  });
});
