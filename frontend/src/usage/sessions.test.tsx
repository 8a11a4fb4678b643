import { render } from "preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mount, readUsageConfig, UsagePage, type UsageConfig } from "../usage";
import type { Session } from "./data";

const PREFIX = "/jh/services/hub-extensions/";
const BASE: UsageConfig = {
  servicePrefix: PREFIX,
  hubPrefix: "/jh/hub/",
  xsrfToken: "xsrf-1",
  user: "ada",
  canReadAll: false,
  timezone: "Europe/Paris",
  today: "2026-03-03",
  reasons: ["user_stop", "cull", "running"],
};

const SESSION: Session = {
  id: 1,
  user: "ada",
  server_name: "",
  profile: "gpu",
  requested_at: "2026-03-01T10:05:00+01:00",
  ended_at: null,
  end_reason: null,
  hours: 1.5,
};

function respond(url: string): unknown {
  const path = new URL(url, "http://hub").pathname;
  if (path.endsWith("/sessions")) {
    return { sessions: [SESSION], limit: 50, offset: 0, has_more: true };
  }
  if (path.endsWith("/daily"))
    return { days: ["2026-03-02", "2026-03-03"], sessions: [1, 2], hours: { gpu: [1, 0.5] } };
  return { window: "daily", days: ["2026-03-02", "2026-03-03"], counts: [1, 2] };
}

let container: HTMLElement;
let fetchMock: ReturnType<typeof vi.fn<typeof fetch>>;

beforeEach(() => {
  container = document.createElement("div");
  document.body.appendChild(container);
  fetchMock = vi.fn<typeof fetch>(
    async (input) =>
      new Response(JSON.stringify(respond(String(input))), {
        status: 200,
        headers: { "Content-Type": "application/json" },
      }),
  );
  vi.stubGlobal("fetch", fetchMock);
});

afterEach(() => {
  render(null, container);
  container.remove();
  vi.unstubAllGlobals();
});

const urls = () => fetchMock.mock.calls.map(([u]) => String(u));
const settle = () => vi.waitFor(() => expect(container.querySelector("#usage-sessions tbody tr")).not.toBeNull());

describe("the usage page", () => {
  it("shows a plain user their own sessions, without charts or a user filter", async () => {
    render(<UsagePage config={BASE} />, container);
    await settle();
    expect(container.querySelector("figure")).toBeNull();
    expect(container.querySelector("#usage-filter-user")).toBeNull();
    expect(container.querySelector("#usage-sessions-title")!.textContent).toBe("Your sessions");
    expect(urls()).toEqual([`${PREFIX}api/usage/sessions?limit=50&offset=0`]);
    const row = container.querySelector("#usage-sessions tbody tr")!;
    expect([...row.querySelectorAll("td")].map((td) => td.textContent)).toEqual([
      "2026-03-01 10:05",
      "gpu",
      "(default)",
      "1.5",
      "",
      "running",
    ]);
    // the XSRF header goes with every call; the cookie does the rest
    const init = fetchMock.mock.calls[0]![1]!;
    expect(new Headers(init.headers).get("X-XSRFToken")).toBe("xsrf-1");
  });

  it("draws three charts for scope holders and filters the table, CSV link included", async () => {
    render(<UsagePage config={{ ...BASE, canReadAll: true }} />, container);
    await settle();
    await vi.waitFor(() => expect(container.querySelectorAll("figure svg")).toHaveLength(3));
    expect([...container.querySelectorAll("figure h2")].map((h) => h.textContent)).toEqual([
      "Active users (daily)",
      "Hours by profile",
      "Sessions per day",
    ]);
    expect(urls()).toContain(`${PREFIX}api/usage/daily?start=2026-02-02&end=2026-03-03`);

    const set = (id: string, value: string) => {
      const el = container.querySelector<HTMLInputElement>(`#usage-filter-${id}`)!;
      el.value = value;
      el.dispatchEvent(new Event("input", { bubbles: true }));
    };
    set("user", "bob");
    set("start", "2026-03-01");
    set("reason", "cull");
    container.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }));
    const filtered = `${PREFIX}api/usage/sessions?user=bob&start=2026-03-01&reason=cull&limit=50&offset=0`;
    await vi.waitFor(() => expect(urls()).toContain(filtered));
    expect(container.querySelector("#usage-csv")!.getAttribute("href")).toBe(
      `${PREFIX}api/usage/sessions.csv?user=bob&start=2026-03-01&reason=cull`,
    );

    // has_more: Next asks for the following page
    const buttons = [...container.querySelectorAll<HTMLButtonElement>("nav button")];
    const next = buttons.find((b) => b.textContent === "Next")!;
    await vi.waitFor(() => expect(next.disabled).toBe(false));
    next.click();
    await vi.waitFor(() => expect(urls().some((u) => u.endsWith("offset=50"))).toBe(true));
  });

  it("switches the active-users window", async () => {
    render(<UsagePage config={{ ...BASE, canReadAll: true }} />, container);
    await vi.waitFor(() => expect(container.querySelector("#usage-window-weekly")).not.toBeNull());
    container.querySelector<HTMLInputElement>("#usage-window-weekly")!.click();
    await vi.waitFor(() => expect(urls().some((u) => u.includes("window=weekly"))).toBe(true));
  });
});

describe("readUsageConfig and mount", () => {
  function element(attrs: Record<string, string>): HTMLElement {
    const el = document.createElement("div");
    el.id = "hub-extensions-usage";
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    return el;
  }
  const ATTRS = {
    "data-service-prefix": PREFIX,
    "data-hub-prefix": "/jh/hub/",
    "data-xsrf-token": "x",
    "data-user": "ada",
    "data-can-read-all": "true",
    "data-timezone": "UTC",
    "data-today": "2026-03-03",
    "data-reasons": "cull running",
  };

  it("reads the page's attributes", () => {
    expect(readUsageConfig(element(ATTRS))).toMatchObject({
      canReadAll: true,
      today: "2026-03-03",
      reasons: ["cull", "running"],
    });
  });

  it("shows what is missing instead of a blank page", () => {
    const el = element({ ...ATTRS, "data-today": "" });
    mount(el);
    expect(el.querySelector('[role="alert"]')!.textContent).toContain("data-today");
  });
});
