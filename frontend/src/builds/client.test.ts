// @vitest-environment node
/**
 * BuildClient.stream over BinderHub-shaped answers: the body is served in small chunks by a
 * real Response/ReadableStream; only `fetch` itself is replaced (there is no server here; the
 * browser tier, tests/test_builds_browser.py, runs the panel against the real service).
 */
import { afterEach, describe, expect, it, vi } from "vitest";

import { BuildClient, BuildError, idleTimeoutMs, refusal } from "./client";
import type { BuildEvent } from "./events";
import { failure } from "./panel";

function serve(body: string, status = 200, contentType = "text/event-stream") {
  const bytes = new TextEncoder().encode(body);
  const stream = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.slice(i, i + 7));
        controller.close();
      },
    });
  const fetch = vi.fn(
    async (..._args: unknown[]) => new Response(stream(), { status, headers: { "Content-Type": contentType } }),
  );
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

const data = (event: object): string => `data: ${JSON.stringify(event)}\n\n`;
const request = { provider: "git", repo: "git://127.0.0.1/r.git", ref: "HEAD" };
const token = { get: vi.fn(async () => "t0ken"), forget: vi.fn() };
const client = new BuildClient("/services/hub-extensions/", token);

afterEach(() => {
  vi.unstubAllGlobals();
  token.forget.mockClear();
});

describe("BuildClient.stream", () => {
  it("follows a build through keepalives and phase-less events to its ready event", async () => {
    serve(
      data({ phase: "waiting", message: "Waiting for build to start...\n", buildId: "b1", sha: "a".repeat(40) }) +
        data({ message: "Picked Git content provider.\n" }) +
        ":keepalive\n\n:keepalive\n\n" +
        data({ phase: "building", message: "#1 DONE 0.0s\n" }) +
        ":keepalive\n\n" +
        data({ phase: "ready", message: "Done! Image built\n", imageName: "x:1", signature: "s", buildId: "b1" }),
    );
    const seen: BuildEvent[] = [];
    const last = await client.stream(request, (e) => seen.push(e));
    expect(seen.map((e) => e.phase)).toEqual(["waiting", "unknown", "building", "ready"]);
    expect(last.imageName).toBe("x:1");
    expect(last.message).toBe("Done! Image built\n");
  });

  it("reads a lone ready as a cache hit", async () => {
    serve(
      data({ phase: "ready", imageName: "x:1", message: "Done! Found built image\n", cacheHit: true, buildId: "b2" }),
    );
    const last = await client.stream(request, () => {});
    expect(last.cacheHit).toBe(true);
  });

  it("turns an error sent as HTTP 200 + failed into a BuildError naming the field", async () => {
    const message =
      "Could not resolve ref for git:x/no-such-branch. Double check your URL and that your repo is public.\n";
    serve(data({ phase: "failed", message, field: "ref" }));
    const onEvent = vi.fn();
    const err = await client.stream(request, onEvent).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).field).toBe("ref");
    expect((err as BuildError).message).toBe(message.trim());
    expect(onEvent).not.toHaveBeenCalled();
  });

  it("drops a token the service refuses (BinderHub's status_code 403), tries a new one once, then asks for a reload", async () => {
    const fetch = serve(data({ phase: "failed", status_code: 403, message: "Not authenticated\n" }));
    const err = (await client.stream(request, () => {}).catch((e: unknown) => e)) as BuildError;
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(token.forget).toHaveBeenCalledTimes(1);
    expect(new Headers((fetch.mock.calls[0]![1] as RequestInit).headers).get("Authorization")).toBe("token t0ken");
    expect((fetch.mock.calls[0]![1] as RequestInit).credentials).toBe("omit"); // never the cookie
    expect(err.status).toBe(403);
    expect(err.message).toContain("Reload the page");
  });

  it("gives a failed build's last event to the caller, not an error", async () => {
    const failed = {
      phase: "failed",
      message: "Error during build: Command '['docker', 'buildx', 'build']' returned non-zero exit status 1.",
      exc_info: "Traceback (most recent call last):\n",
      logTail: ["#5 0.177 about to fail", "executor failed running [/bin/sh -c exit 3]: exit code: 3"],
      buildId: "b3",
    };
    serve(data({ phase: "waiting", message: "Waiting for build to start...\n", buildId: "b3" }) + data(failed));
    const last = await client.stream(request, () => {});
    expect(last.phase).toBe("failed");
    expect(failure(last)).toBe("executor failed running [/bin/sh -c exit 3]: exit code: 3");
  });

  it("still reads an HTTP error from something in between (a proxy) as a BuildError", async () => {
    serve(JSON.stringify({ message: "Bad gateway" }), 502, "application/json");
    const err = (await client.stream(request, () => {}).catch((e: unknown) => e)) as BuildError;
    expect(err.status).toBe(502);
  });
});

describe("refusal", () => {
  it("is only a lone first failed event without a build id", () => {
    const failed = { phase: "failed", message: "No provider found for prefix gh\n", field: "provider" };
    expect(refusal(failed, true)?.field).toBe("provider");
    expect(refusal(failed, false)).toBeNull();
    expect(refusal({ ...failed, buildId: "b4" }, true)).toBeNull();
    expect(refusal({ phase: "ready", message: "" }, true)).toBeNull();
  });
});

describe("BuildClient.stream when keepalives stop", () => {
  /** Serves `chunks` (each after `gapMs`), then stays open, sending nothing more. */
  function serveThenHang(chunks: string[], gapMs: number, keepaliveSeconds: string | null) {
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (const chunk of chunks) {
          await new Promise((resolve) => setTimeout(resolve, gapMs));
          controller.enqueue(encoder.encode(chunk));
        }
      },
    });
    const headers: Record<string, string> = { "Content-Type": "text/event-stream" };
    if (keepaliveSeconds !== null) headers["X-Keepalive-Interval"] = keepaliveSeconds;
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response(stream, { headers })),
    );
  }

  it("ends a stream after three announced keepalive intervals without a chunk", async () => {
    const waiting = data({ phase: "waiting", message: "Waiting for build to start...\n", buildId: "b9" });
    // keepalives every 40 ms keep it open past 3 x 20 ms, then nothing comes
    serveThenHang([waiting, ":keepalive\n\n", ":keepalive\n\n", ":keepalive\n\n"], 40, "0.02");
    const seen: BuildEvent[] = [];
    const started = Date.now();
    const err = await client.stream(request, (e) => seen.push(e)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).message).toMatch(/stopped answering .* Press Build to attach again/);
    expect(seen.map((e) => e.phase)).toEqual(["waiting"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * 40 + 60 - 15);
  });

  it("waits three of BinderHub's 25 s intervals when the server announces none", () => {
    expect(idleTimeoutMs(new Response(""))).toBe(75_000);
    expect(idleTimeoutMs(new Response("", { headers: { "X-Keepalive-Interval": "0.5" } }))).toBe(1500);
    expect(idleTimeoutMs(new Response("", { headers: { "X-Keepalive-Interval": "nonsense" } }))).toBe(75_000);
  });
});
