import { render } from "preact";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChartFigure, HEIGHT, Line, StackedBars } from "./charts";
import { PALETTE } from "./data";

let container: HTMLElement;

beforeEach(() => {
  container = document.createElement("div");
  document.body.appendChild(container);
});

afterEach(() => {
  render(null, container);
  container.remove();
});

const DAYS = ["2026-03-01", "2026-03-02", "2026-03-03"];

function figure(children: preact.ComponentChildren, legend?: string[]) {
  render(
    <ChartFigure
      id="c"
      title="Hours by profile"
      summary="Hours by profile from 2026-03-01 to 2026-03-03: 6 h in total."
      columns={["Day", "gpu", "cpu"]}
      rows={DAYS.map((d, i) => [d, i, 2])}
      {...(legend ? { legend } : {})}
    >
      {children}
    </ChartFigure>,
    container,
  );
  return container;
}

describe("ChartFigure", () => {
  it("has a title, an SVG image with a summary, and the numbers in a table", () => {
    const root = figure(<g />, ["gpu", "cpu"]);
    const fig = root.querySelector("figure")!;
    expect(fig.getAttribute("aria-labelledby")).toBe("c-title");
    expect(root.querySelector("#c-title")!.textContent).toBe("Hours by profile");
    const svg = root.querySelector("svg")!;
    expect(svg.getAttribute("role")).toBe("img");
    expect(svg.getAttribute("aria-label")).toContain("6 h in total");
    const table = root.querySelector("details table")!;
    expect(table.querySelector("caption")!.textContent).toBe("Hours by profile");
    expect([...table.querySelectorAll("thead th")].map((th) => th.textContent)).toEqual([
      "Day",
      "gpu",
      "cpu",
    ]);
    const firstRow = table.querySelector("tbody tr")!;
    expect(firstRow.querySelector("th")!.getAttribute("scope")).toBe("row");
    expect(firstRow.textContent).toBe("2026-03-0102");
    expect(root.querySelectorAll("ul li").length).toBe(2);
  });
});

describe("StackedBars", () => {
  it("stacks each day's series and leaves empty values out", () => {
    const root = figure(
      <StackedBars
        days={DAYS}
        series={[
          { name: "gpu", values: [2, 0, 1] },
          { name: "cpu", values: [2, 1, 0] },
        ]}
        format={String}
      />,
    );
    const groups = [...root.querySelectorAll("svg > g[fill]")].filter((g) =>
      PALETTE.includes(g.getAttribute("fill") ?? ""),
    );
    expect(groups.map((g) => g.querySelectorAll("rect").length)).toEqual([2, 2]);
    const [gpuDay1] = groups[0]!.querySelectorAll("rect");
    const [cpuDay1] = groups[1]!.querySelectorAll("rect");
    // the second series sits on top of the first on the same day, with the same height (2 and 2)
    const cpuBottom = Number(cpuDay1!.getAttribute("y")) + Number(cpuDay1!.getAttribute("height"));
    expect(cpuBottom).toBeCloseTo(Number(gpuDay1!.getAttribute("y")));
    expect(cpuDay1!.getAttribute("height")).toBe(gpuDay1!.getAttribute("height"));
    // axis labels: a y tick up to the total (4) and the days as MM-DD
    const labels = [...root.querySelectorAll("text")].map((t) => t.textContent);
    expect(labels).toContain("4");
    expect(labels).toEqual(expect.arrayContaining(["03-01", "03-02", "03-03"]));
  });
});

describe("Line", () => {
  it("draws one point per day inside the chart", () => {
    const root = figure(<Line days={DAYS} values={[1, 3, 2]} />);
    const points = root.querySelector("polyline")!.getAttribute("points")!.split(" ");
    expect(points).toHaveLength(3);
    const ys = points.map((p) => Number(p.split(",")[1]));
    expect(Math.min(...ys)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...ys)).toBeLessThanOrEqual(HEIGHT);
    expect(ys[1]).toBeLessThan(ys[0]!); // 3 is drawn higher than 1
  });
});
