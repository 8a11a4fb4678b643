"""BinderHub's build event stream: `data: {json}` events and `:keepalive` comments.

The wire format is BinderHub's `BuildHandler.emit()` and `keep_alive()` (binderhub/builder.py);
the fields are those of its API documentation (docs/source/api.rst) and of repo2docker's JSON
logs (`message`, `phase`, and `progress`/`layers` while pushing).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

#: Phases of BinderHub's build-only streams (`built` and `launching` belong to launches, which
#: the broker never does); repo2docker's log events may carry no phase at all, and are sent so.
PHASES = ("waiting", "fetching", "building", "pushing", "ready", "failed")
TERMINAL_PHASES = ("ready", "failed")
#: What BinderHub writes every 25 s so that proxies keep the stream open (the broker's interval
#: is `HubExtensionsBuilds.keepalive_interval`). Its API docs mention ':heartbeat' every 30 s; the
#: code sends
#: this.
KEEPALIVE = b":keepalive\n\n"
UNKNOWN = "unknown"  # BinderHub's phase for output lines that are not JSON
#: BinderHub's texts (binderhub/builder.py), which its clients show as they are.
WAITING_MESSAGE = "Waiting for build to start...\n"
BUILT_MESSAGE = "Done! Image built\n"
CACHE_HIT_MESSAGE = "Done! Found built image\n"


@dataclass
class BuildEvent:
    """One event: phase and message, plus imageName, progress and any other keys as sent."""

    phase: str
    message: str = ""
    image_name: str | None = None
    progress: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuildEvent:
        """From the JSON object of an event; phase lowercased as binderhub-client does."""
        rest = dict(data)
        phase = rest.pop("phase", None)
        message = rest.pop("message", "")
        image_name = rest.pop("imageName", None)
        progress = rest.pop("progress", None)
        return cls(
            phase=phase.lower() if isinstance(phase, str) and phase else UNKNOWN,
            message=message if isinstance(message, str) else str(message),
            image_name=image_name if isinstance(image_name, str) else None,
            progress=progress if isinstance(progress, dict) else None,
            extra=rest,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object BinderHub clients read; extra keys never override the named ones."""
        data: dict[str, Any] = {"phase": self.phase, "message": self.message}
        if self.image_name is not None:
            data["imageName"] = self.image_name
        if self.progress is not None:
            data["progress"] = self.progress
        for key, value in self.extra.items():
            data.setdefault(key, value)
        return data

    @property
    def terminal(self) -> bool:
        """Whether a client should close the stream after this event."""
        return self.phase in TERMINAL_PHASES


def format_sse(event: BuildEvent | dict[str, Any]) -> bytes:
    """`data: {json}\\n\\n`; json.dumps escapes newlines, so the data is always one line."""
    data = event.to_dict() if isinstance(event, BuildEvent) else event
    return f"data: {json.dumps(data)}\n\n".encode()


def _lines(chunks: Iterable[str | bytes]) -> Iterator[str]:
    for chunk in chunks:
        text = chunk.decode("utf-8", "replace") if isinstance(chunk, bytes) else chunk
        # Items may be lines or whole-line blocks; \r\n, \r and \n all end a line (SSE spec).
        parts = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if parts and parts[-1] == "" and len(parts) > 1:
            parts.pop()  # the line terminator of the item, not an empty line
        yield from parts


def parse_sse(lines: Iterable[str | bytes]) -> Iterator[BuildEvent]:
    """BuildEvents from event-stream lines (see `parse_sse_data`); a missing phase is UNKNOWN."""
    for data in parse_sse_data(lines):
        yield BuildEvent.from_dict(data)


def parse_sse_data(lines: Iterable[str | bytes]) -> Iterator[dict[str, Any]]:
    """The JSON objects of event-stream lines, as sent, following the EventSource rules.

    Comments (`:keepalive`) and fields other than `data` are skipped; several `data:` lines make
    one event joined by newlines; an empty line ends an event; data that is not a JSON object is
    skipped; an event not ended by an empty line at the end of input is dropped, as browsers do.
    """
    data: list[str] = []
    for line in _lines(lines):
        if line == "":
            if data:
                event = _decode("\n".join(data))
                data = []
                if event is not None:
                    yield event
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)


def _decode(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
