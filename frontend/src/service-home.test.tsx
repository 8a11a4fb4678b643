import { render } from "preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mount, ServiceHome, type HealthResponse } from "./service-home";
import type { PageConfig } from "./lib/urls";

const CONFIG: PageConfig = {
  servicePrefix: "/prefix/services/hub-extensions/",
  hubPrefix: "/prefix/hub/",
  xsrfToken: "xsrf-123",
};

const HEALTH: HealthResponse = {
  status: "ok",
  version: "0.1.0",
  hub: { reachable: true },
  user: { name: "alice", admin: false },
};

function jsonResponse(body: unknown, status = 200, statusText = "OK"): Response {
  return new Response(JSON.stringify(body), {
    status,
    statusText,
    headers: { "Content-Type": "application/json" },
  });
}

/** What a screen reader user would hear for a <dt> label: the text of its <dd>. */
function field(root: HTMLElement, label: string): string | undefined {
  const dt = [...root.querySelectorAll("dt")].find((el) => el.textContent?.trim() === label);
  return dt?.nextElementSibling?.textContent?.trim();
}

const byRole = (root: HTMLElement, role: string) => root.querySelector<HTMLElement>(`[role="${role}"]`);

let container: HTMLElement;

beforeEach(() => {
  container = document.createElement("div");
  document.body.appendChild(container);
});

afterEach(() => {
  render(null, container);
  container.remove();
  vi.unstubAllGlobals();
});

describe("ServiceHome", () => {
  it("shows a loading status, then the health fields", async () => {
    let resolve!: (r: Response) => void;
    const fetchMock = vi.fn<typeof fetch>(() => new Promise<Response>((r) => (resolve = r)));
    vi.stubGlobal("fetch", fetchMock);

    render(<ServiceHome config={CONFIG} />, container);

    await vi.waitFor(() => expect(byRole(container, "status")?.textContent).toBe("Loading…"));
    expect(container.querySelector("h2")?.textContent).toContain("hub-extensions");
    await vi.waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(1));
    expect(fetchMock.mock.calls[0]?.[0]).toBe("/prefix/services/hub-extensions/api/health");
    expect(byRole(container, "status")?.textContent).toBe("Loading…");

    resolve(jsonResponse(HEALTH));

    await vi.waitFor(() => expect(field(container, "Version")).toBe("0.1.0"));
    expect(field(container, "Service status")).toBe("ok");
    expect(field(container, "Hub API reachable")).toBe("yes");
    expect(field(container, "Signed in as")).toBe("alice");
    expect(byRole(container, "status")).toBeNull();
    expect(byRole(container, "alert")).toBeNull();

    const link = container.querySelector("a");
    expect(link?.textContent).toContain("hub home page");
    expect(link?.getAttribute("href")).toBe("/prefix/hub/home");
  });

  it("says when the hub is unreachable and marks admins", async () => {
    vi.stubGlobal(
      "fetch",
      vi
        .fn<typeof fetch>()
        .mockResolvedValue(jsonResponse({ ...HEALTH, hub: { reachable: false }, user: { name: "bob", admin: true } })),
    );
    render(<ServiceHome config={CONFIG} />, container);

    await vi.waitFor(() => expect(field(container, "Hub API reachable")).toBe("no"));
    expect(field(container, "Signed in as")).toBe("bob admin");
    expect(container.querySelector("dd .badge.text-bg-secondary")?.textContent).toBe("admin");
  });

  it("shows an alert with the server's message when the request fails", async () => {
    vi.stubGlobal(
      "fetch",
      vi
        .fn<typeof fetch>()
        .mockResolvedValue(jsonResponse({ status: 503, message: "Hub API unavailable" }, 503, "Service Unavailable")),
    );
    render(<ServiceHome config={CONFIG} />, container);

    await vi.waitFor(() => expect(byRole(container, "alert")).not.toBeNull());
    const alert = byRole(container, "alert")!;
    expect(alert.classList.contains("alert-danger")).toBe(true);
    expect(alert.textContent).toContain("Hub API unavailable");
    expect(byRole(container, "status")).toBeNull();
    expect(container.querySelector("dl")).toBeNull();
  });

  it("shows an alert when the network request itself fails", async () => {
    vi.stubGlobal("fetch", vi.fn<typeof fetch>().mockRejectedValue(new TypeError("Failed to fetch")));
    render(<ServiceHome config={CONFIG} />, container);

    await vi.waitFor(() => expect(byRole(container, "alert")?.textContent).toContain("Failed to fetch"));
  });
});

describe("mount", () => {
  it("reads the data-* attributes of the mount element", async () => {
    const fetchMock = vi.fn<typeof fetch>().mockResolvedValue(jsonResponse(HEALTH));
    vi.stubGlobal("fetch", fetchMock);
    container.id = "hub-extensions-home";
    container.dataset.servicePrefix = "/other/services/hub-extensions";
    container.dataset.hubPrefix = "/other/hub/";
    container.dataset.xsrfToken = "t";

    mount(container);

    await vi.waitFor(() => expect(field(container, "Signed in as")).toBe("alice"));
    expect(fetchMock.mock.calls[0]?.[0]).toBe("/other/services/hub-extensions/api/health");
    expect(fetchMock.mock.calls[0]?.[1]?.credentials).toBe("same-origin");
    // HubOAuth accepts the cookie on a fetch() only with the page's XSRF token
    expect(new Headers(fetchMock.mock.calls[0]?.[1]?.headers).get("X-XSRFToken")).toBe("t");
  });

  it("shows an alert naming the missing attribute instead of a blank page", () => {
    const fetchMock = vi.fn<typeof fetch>();
    vi.stubGlobal("fetch", fetchMock);
    container.id = "hub-extensions-home";
    container.dataset.hubPrefix = "/hub/";
    container.dataset.xsrfToken = "t";

    mount(container);

    expect(byRole(container, "alert")?.textContent).toContain("data-service-prefix");
    expect(fetchMock).not.toHaveBeenCalled();
  });
});

describe("Configuration section", () => {
  const admin: HealthResponse = { ...HEALTH, user: { name: "root", admin: true } };

  function routes(problems: unknown, health: HealthResponse) {
    return vi.fn<typeof fetch>(async (input) =>
      String(input).endsWith("api/health") ? jsonResponse(health) : jsonResponse(problems),
    );
  }

  it("lists the hub's warnings and withheld profiles for admins", async () => {
    const fetchMock = routes(
      {
        available: true,
        started: "2026-01-01T00:00:00+00:00",
        warnings: ["profile_list[0].profile_options.image.choices.py.slug: 'x' is not read. Fix: remove slug."],
        runtime: [{ message: "profile_list (callable f)[1].display_name: missing.", refused: true, seen: "" }],
      },
      admin,
    );
    vi.stubGlobal("fetch", fetchMock);
    render(<ServiceHome config={CONFIG} />, container);

    await vi.waitFor(() => expect(container.querySelectorAll("li").length).toBe(2));
    expect(container.querySelector("h3")?.textContent).toBe("Configuration");
    const items = [...container.querySelectorAll("li")].map((li) => li.textContent);
    expect(items[0]).toContain("warning");
    expect(items[0]).toContain("choices.py.slug");
    expect(items[1]).toContain("withheld");
    expect(fetchMock.mock.calls[1]?.[0]).toBe("/prefix/services/hub-extensions/api/config-problems");
  });

  it("says when there is nothing to fix", async () => {
    vi.stubGlobal("fetch", routes({ available: true, warnings: [], runtime: [] }, admin));
    render(<ServiceHome config={CONFIG} />, container);
    await vi.waitFor(() => expect(container.textContent).toContain("No configuration warnings."));
  });

  it("is not shown to users, nor asked for", async () => {
    const fetchMock = routes({ available: true, warnings: ["secret"], runtime: [] }, HEALTH);
    vi.stubGlobal("fetch", fetchMock);
    render(<ServiceHome config={CONFIG} />, container);
    await vi.waitFor(() => expect(field(container, "Signed in as")).toBe("alice"));
    expect(container.textContent).not.toContain("Configuration");
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});
