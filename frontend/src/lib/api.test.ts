import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, fetchJson } from "./api";

function jsonResponse(body: unknown, status = 200, statusText = "OK"): Response {
  return new Response(JSON.stringify(body), {
    status,
    statusText,
    headers: { "Content-Type": "application/json" },
  });
}

function mockFetch(response: Response) {
  const fn = vi.fn<typeof fetch>().mockResolvedValue(response);
  vi.stubGlobal("fetch", fn);
  return fn;
}

function sentHeaders(fn: ReturnType<typeof mockFetch>): Headers {
  const init = fn.mock.calls[0]?.[1];
  return new Headers(init?.headers);
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("fetchJson", () => {
  it("GETs JSON with same-origin credentials and the XSRF header", async () => {
    const fn = mockFetch(jsonResponse({ status: "ok" }));
    const data = await fetchJson("/prefix/services/x/api/health", { xsrfToken: "tok" });

    expect(data).toEqual({ status: "ok" });
    expect(fn).toHaveBeenCalledTimes(1);
    const [url, init] = fn.mock.calls[0]!;
    expect(url).toBe("/prefix/services/x/api/health");
    expect(init?.credentials).toBe("same-origin");
    expect(init?.method).toBe("GET");
    const headers = sentHeaders(fn);
    expect(headers.get("Accept")).toBe("application/json");
    expect(headers.get("X-XSRFToken")).toBe("tok");
  });

  it("sends the XSRF token and a JSON body on POST", async () => {
    const fn = mockFetch(jsonResponse({ created: true }, 201, "Created"));
    await fetchJson("/api/things", { method: "post", xsrfToken: "tok", json: { a: 1 } });

    const [, init] = fn.mock.calls[0]!;
    expect(init?.method).toBe("POST");
    expect(init?.body).toBe('{"a":1}');
    const headers = sentHeaders(fn);
    expect(headers.get("X-XSRFToken")).toBe("tok");
    expect(headers.get("Content-Type")).toBe("application/json");
    expect(headers.get("Accept")).toBe("application/json");
  });

  it("throws ApiError with the server's JSON message", async () => {
    mockFetch(jsonResponse({ status: 403, message: "Not allowed to see this" }, 403, "Forbidden"));
    const err = await fetchJson("/api/x").catch((e: unknown) => e);

    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(403);
    expect((err as ApiError).message).toBe("Not allowed to see this");
  });

  it("falls back to the status text when the error body is not JSON", async () => {
    mockFetch(new Response("<html>Bad Gateway</html>", { status: 502, statusText: "Bad Gateway" }));
    await expect(fetchJson("/api/x")).rejects.toMatchObject({
      name: "ApiError",
      status: 502,
      message: "Bad Gateway",
    });
  });

  it("falls back to 'HTTP <status>' when there is no status text either", async () => {
    mockFetch(jsonResponse({ status: 500 }, 500, ""));
    await expect(fetchJson("/api/x")).rejects.toMatchObject({ status: 500, message: "HTTP 500" });
  });

  it("resolves to undefined on 204 No Content", async () => {
    mockFetch(new Response(null, { status: 204 }));
    await expect(fetchJson("/api/x", { method: "DELETE", xsrfToken: "t" })).resolves.toBeUndefined();
  });

  it("never touches web storage", async () => {
    const setLocal = vi.spyOn(Storage.prototype, "setItem");
    mockFetch(jsonResponse({ ok: true }));
    await fetchJson("/api/x", { method: "POST", xsrfToken: "secret" });
    expect(setLocal).not.toHaveBeenCalled();
  });
});
