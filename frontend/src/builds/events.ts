/**
 * BinderHub's build event stream (`text/event-stream`): the same parser the build panel will
 * use for our broker and for a real BinderHub. Comments (`:keepalive`) are skipped; an event's
 * `data:` lines are joined; phases are lowercased, as binderhub-client does.
 */

export type Phase =
  | "waiting"
  | "fetching"
  | "building"
  | "pushing"
  | "built"
  | "ready"
  | "failed"
  | "unknown";

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

/** Parse a whole stream (or a complete prefix of one) into events. */
export function parseEventStream(text: string): BuildEvent[] {
  const events: BuildEvent[] = [];
  let data: string[] = [];
  const flush = () => {
    if (data.length === 0) return;
    const event = decode(data.join("\n"));
    if (event) events.push(event);
    data = [];
  };
  for (const rawLine of text.split(/\r\n|\r|\n/)) {
    if (rawLine === "") {
      flush();
    } else if (rawLine.startsWith(":")) {
      continue; // a comment, e.g. a keep-alive
    } else if (rawLine.startsWith("data:")) {
      data.push(rawLine.slice(5).replace(/^ /, ""));
    }
  }
  flush();
  return events;
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
