"""Build history in the suite's database (the ledger's, table `builds`), so "my builds" and a
build's log outlive the service. The service writes a build when it starts and when it ends,
and reads the history for the builds API; the hub applies the migration that creates the table.

A build is written when it is queued (`waiting`), when it starts (`building`) and when it
ends. One still `building` or `waiting` in the database that this process did not start was
running or queued when an earlier service process died: its repo2docker died with it (the
executor's supervisor), and a queued one never ran. The first use of the history in a process
marks such builds failed, saying why and to build again, so users see what happened and
nobody waits for them.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import Table, Text, or_, select
from sqlalchemy.engine import Engine

from ..store.models import BuildRecord
from .broker import last_line

BUILDS = cast(Table, BuildRecord.__table__)
PROCESS_START = datetime.now(timezone.utc)  # builds created before it are an earlier run's
UNFINISHED = ("waiting", "building")
INTERRUPTED = "The build service restarted during this build, which was stopped. Build again.\n"
INTERRUPTED_WAITING = (
    "The build service restarted while this build waited for a slot; it never started. "
    "Build again.\n"
)
_swept: set[int] = set()  # engines whose leftovers this process has marked
_sweep_lock = threading.Lock()
MAX_LOG_CHARS = 1_000_000  # the end of a longer log is kept: that is where failures are


def log_text(events: list[dict]) -> str:
    text = "".join(str(e.get("message", "")) for e in events)
    return text[-MAX_LOG_CHARS:]


def record(engine: Engine, build: Any) -> None:
    """Insert or replace the row of a build (when it starts, and again when it ends)."""
    sweep_once(engine)
    row = {
        "id": build.id,
        "user": build.user,
        "requesters": sorted(build.requesters),
        "repository": build.repo_url,
        "ref": build.ref,
        "sha": build.sha,
        "image": getattr(build, "built_image", None) or build.image,
        "status": build.status,
        "cache_hit": bool(build.cache_hit),
        "created_at": datetime.fromtimestamp(build.created, timezone.utc),
        "duration": (build.finished - build.started) if build.finished and build.started else None,
        "log": log_text(build.events),
    }
    with engine.begin() as conn:
        conn.execute(BUILDS.delete().where(BUILDS.c.id == build.id))
        conn.execute(BUILDS.insert(), row)


def summary(row: Any, *, with_log: bool = False) -> dict[str, Any]:
    """A row as the builds API shows it (the same fields as a build in memory)."""
    out = {
        "id": row.id,
        "user": row.user,
        "repository": row.repository,
        "ref": row.ref,
        "sha": row.sha,
        "image": row.image,
        "status": row.status,
        "cacheHit": row.cache_hit,
        "created": row.created_at.timestamp(),
        "duration": row.duration,
        "message": last_line(row.log),
    }
    if with_log:
        out["log"] = row.log.splitlines(keepends=True)
    return out


def fail_interrupted(engine: Engine, before: datetime = PROCESS_START) -> list[str]:
    """Mark builds left running or queued by an earlier service process failed; their ids."""
    query = select(BUILDS.c.id, BUILDS.c.status, BUILDS.c.log).where(
        BUILDS.c.status.in_(UNFINISHED), BUILDS.c.created_at < before
    )
    with engine.begin() as conn:
        rows = conn.execute(query).all()
        for row in rows:
            why = INTERRUPTED_WAITING if row.status == "waiting" else INTERRUPTED
            conn.execute(
                BUILDS.update()
                .where(BUILDS.c.id == row.id)
                .values(status="failed", log=((row.log or "") + why)[-MAX_LOG_CHARS:])
            )
    return [row.id for row in rows]


def sweep_once(engine: Engine) -> None:
    """fail_interrupted() at this process's first use of `engine`, before anything of this
    process is written (records run in a thread pool: the others wait for the sweep, which
    would otherwise take this process's first builds, created before this module was
    imported, for an earlier run's)."""
    if id(engine) in _swept:
        return
    with _sweep_lock:
        if id(engine) in _swept:
            return
        failed = fail_interrupted(engine)
        _swept.add(id(engine))
    if failed:
        logging.getLogger(__name__).warning(
            "builds interrupted by a restart of the service, marked failed: %s", ", ".join(failed)
        )


def recent(engine: Engine, user: str | None, limit: int = 100) -> list[dict[str, Any]]:
    """Builds, newest first: everyone's (user None) or those `user` asked for."""
    sweep_once(engine)
    query = select(BUILDS).order_by(BUILDS.c.created_at.desc()).limit(limit)
    if user is not None:
        # requesters is a JSON list: match the name as json.dumps writes it (the stored text),
        # then check exactly in Python
        as_text = BUILDS.c.requesters.cast(Text())
        query = query.where(
            or_(BUILDS.c.user == user, as_text.contains(json.dumps(user), autoescape=True))
        )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        summary(r) for r in rows if user is None or r.user == user or user in (r.requesters or [])
    ]


def one(engine: Engine, build_id: str) -> Any | None:
    sweep_once(engine)
    with engine.connect() as conn:
        return conn.execute(select(BUILDS).where(BUILDS.c.id == build_id)).first()
