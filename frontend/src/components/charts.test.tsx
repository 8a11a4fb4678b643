import { render } from "preact";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChartFigure, HEIGHT, Line, PARTIAL_LABEL, StackedBars } from "./charts";
import { PALETTE } from "./chart-data";
import { hoursAxis } from "./ticks";

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

function figure(children: preact.ComponentChildren, legend?: string[], partial = false) {
  render(
    <ChartFigure
      id="c"
      title="Hours by profile"
      summary="Hours by profile from 2026-03-01 to 2026-03-03: 6 h in total."
      columns={["Day", "gpu", "cpu"]}
      rows={DAYS.map((d, i) => [d, i, 2])}
      {...(legend ? { legend } : {})}
      partial={partial}
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
    expect([...table.querySelectorAll("thead th")].map((th) => th.textContent)).toEqual(["Day", "gpu", "cpu"]);
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

function tickLabels(root: HTMLElement): string[] {
  return [...root.querySelectorAll(".usage-axis-tick text")].map((t) => t.textContent ?? "");
}

describe("a day still under way", () => {
  it("is a lighter bar, 'today' under the axis and a legend entry", () => {
    const root = figure(
      <StackedBars days={DAYS} series={[{ name: "gpu", values: [0.5, 0.25, 0.05] }]} scale={hoursAxis} partial={2} />,
      ["gpu"],
      true,
    );
    const bars = [...root.querySelectorAll("rect")];
    expect(bars.map((b) => b.hasAttribute("data-partial"))).toEqual([false, false, true]);
    expect(bars[2]!.getAttribute("fill-opacity")).toBe("0.45");
    expect(bars[2]!.querySelector("title")!.textContent).toBe(`gpu, ${PARTIAL_LABEL}`);
    const texts = [...root.querySelectorAll("text")].map((t) => t.textContent);
    expect(texts).toEqual(expect.arrayContaining(["03-01", "03-02", "today"]));
    expect(root.querySelector("[data-partial-legend]")!.textContent).toBe(PARTIAL_LABEL);
    // half an hour at most: an axis in minutes
    expect(tickLabels(root)).toEqual(["0", "10 min", "20 min", "30 min"]);
  });

  it("is a dashed end and an open dot on a line", () => {
    const root = figure(<Line days={DAYS} values={[1, 3, 2]} partial={2} />, undefined, true);
    expect(root.querySelector("polyline")!.getAttribute("points")!.split(" ")).toHaveLength(2);
    const end = root.querySelector("g[data-partial]")!;
    expect(end.querySelector("line")!.getAttribute("stroke-dasharray")).toBe("4 3");
    expect(end.querySelector("circle title")!.textContent).toBe(`${PARTIAL_LABEL}: 2`);
    expect(tickLabels(root)).toEqual(["0", "1", "2", "3"]); // whole users
  });

  it("is not marked when the chart ends before today", () => {
    const root = figure(<Line days={DAYS} values={[1, 3, 2]} />);
    expect(root.querySelector("[data-partial]")).toBeNull();
    expect(root.querySelector("[data-partial-legend]")).toBeNull();
    expect(root.querySelector("polyline")!.getAttribute("points")!.split(" ")).toHaveLength(3);
  });
});
