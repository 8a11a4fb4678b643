// @vitest-environment node
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { EventStreamParser, isTerminal, parseEventStream } from "./events";

// The same recorded stream the Python side parses (tests/data/binderhub-events.txt).
// npm runs the tests from frontend/
const STREAM = readFileSync(join(process.cwd(), "..", "tests", "data", "binderhub-events.txt"), "utf8");

describe("parseEventStream on BinderHub's protocol", () => {
  const events = parseEventStream(STREAM);
  const responses: (typeof events)[] = [];
  let current: typeof events = [];
  for (const event of events) {
    current.push(event);
    if (isTerminal(event)) {
      responses.push(current);
      current = [];
    }
  }

  it("splits the recording into its four responses, each ending ready or failed", () => {
    expect(responses.map((r) => r[r.length - 1]!.phase)).toEqual(["ready", "ready", "failed", "failed"]);
  });

  it("keeps the phase order of a full build and the launch fields", () => {
    const phases = responses[0]!.map((e) => e.phase).filter((p) => p !== "unknown");
    const order = ["waiting", "fetching", "building", "pushing", "built", "ready"];
    const firstSeen = order.map((p) => phases.indexOf(p));
    expect(firstSeen.every((i) => i >= 0)).toBe(true);
    expect([...firstSeen].sort((a, b) => a - b)).toEqual(firstSeen);
    const ready = responses[0]![responses[0]!.length - 1]!;
    expect(ready).toHaveProperty("url");
    expect(ready).toHaveProperty("token");
  });

  it("reads a cache hit as a ready event carrying the image name", () => {
    const ready = responses[1]![responses[1]!.length - 1]!;
    expect(typeof ready.imageName).toBe("string");
    expect(ready.imageName).toContain(":");
  });

  it("skips keep-alive comments and survives lines that are not JSON", () => {
    expect(events.some((e) => e.message.startsWith(":keepalive"))).toBe(false);
    expect(parseEventStream(":keepalive\n\ndata: not json\n\n")).toEqual([{ phase: "unknown", message: "not json" }]);
    expect(parseEventStream('data: {"phase": "READY", "imageName": "x:1"}\n\n')[0]!.phase).toBe("ready");
  });
});

describe("EventStreamParser fed in pieces", () => {
  it("gives the same events as the whole stream, however the chunks are cut", () => {
    const whole = parseEventStream(STREAM);
    for (const size of [1, 3, 7, 64, 1000]) {
      const parser = new EventStreamParser();
      const got = [];
      for (let i = 0; i < STREAM.length; i += size) got.push(...parser.feed(STREAM.slice(i, i + size)));
      got.push(...parser.end());
      expect(got).toEqual(whole);
    }
  });

  it("keeps a CR LF split across two chunks as one line end", () => {
    const parser = new EventStreamParser();
    expect(parser.feed('data: {"phase": "building", "message": "a"}\r')).toEqual([]);
    expect(parser.feed("\n\r\n")).toEqual([{ phase: "building", message: "a" }]);
  });
});
