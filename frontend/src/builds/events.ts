/**
 * BinderHub's build event stream (`text/event-stream`): the same parser the build panel will
 * use for our broker and for a real BinderHub. Comments (`:keepalive`) are skipped; an event's
 * `data:` lines are joined; phases are lowercased, as binderhub-client does.
 */

export type Phase = "waiting" | "fetching" | "building" | "pushing" | "built" | "ready" | "failed" | "unknown";

export interface BuildEvent {
  phase: Phase | string;
  message: string;
  imageName?: string;
  [key: string]: unknown;
}

const TERMINAL = new Set(["ready", "failed"]);

export function isTerminal(event: BuildEvent): boolean {
  return TERMINAL.has(event.phase);
}

/**
 * An incremental parser: feed it chunks as they arrive (a fetch() body read piece by piece)
 * and get the events completed so far. Lines may be split anywhere across chunks.
 */
export class EventStreamParser {
  private buffer = "";
  private data: string[] = [];

  /** The events completed by `chunk`. */
  feed(chunk: string): BuildEvent[] {
    this.buffer += chunk;
    const events: BuildEvent[] = [];
    let match: RegExpExecArray | null;
    const eol = /\r\n|\r(?!$)|\n/g;
    let start = 0;
    while ((match = eol.exec(this.buffer))) {
      this.line(this.buffer.slice(start, match.index), events);
      start = match.index + match[0].length;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** The stream ended: whatever event is still open. */
  end(): BuildEvent[] {
    const events: BuildEvent[] = [];
    if (this.buffer !== "") this.line(this.buffer, events);
    this.buffer = "";
    this.flush(events);
    return events;
  }

  private line(line: string, events: BuildEvent[]): void {
    if (line === "") this.flush(events);
    else if (line.startsWith("data:")) this.data.push(line.slice(5).replace(/^ /, ""));
    // comments (":keepalive") and other fields (event:, id:) are skipped
  }

  private flush(events: BuildEvent[]): void {
    if (this.data.length === 0) return;
    const event = decode(this.data.join("\n"));
    if (event) events.push(event);
    this.data = [];
  }
}

/** Parse a whole stream (or a complete prefix of one) into events. */
export function parseEventStream(text: string): BuildEvent[] {
  const parser = new EventStreamParser();
  return [...parser.feed(text), ...parser.end()];
}

function decode(text: string): BuildEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { phase: "unknown", message: text };
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  const obj = value as Record<string, unknown>;
  const phase = typeof obj.phase === "string" ? obj.phase.toLowerCase() : "unknown";
  const message = typeof obj.message === "string" ? obj.message : "";
  return { ...obj, phase, message };
}
