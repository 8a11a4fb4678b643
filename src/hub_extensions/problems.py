"""Configuration findings shared by the hub process with the admin's page in the service.

A core module: the start-time checks, the profiles spawner (a callable `profile_list`'s
findings) and the service's home page use it.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from .store.db import default_db_url

log = logging.getLogger("hub_extensions")


#: Where the hub leaves its configuration findings for the service (next to the default ledger).
PROBLEMS_FILENAME = "hub-extensions-config-problems.json"
#: At most this many distinct findings at spawn time are kept (a callable could vary forever).
MAX_RUNTIME_PROBLEMS = 200


def problems_path(hub_db_url: str = "") -> Path:
    """The findings file: next to the hub's SQLite database, else in its working directory."""
    return Path(make_url(default_db_url(hub_db_url)).database or PROBLEMS_FILENAME).with_name(
        PROBLEMS_FILENAME
    )


class ConfigProblems:
    """Configuration findings, from the hub process to the admin's page in the service.

    The hub writes them, the service reads them, through one small JSON file that the hub
    replaces atomically: the warnings of the start check, then each distinct problem found
    when a callable `profile_list` is evaluated for a user. A managed service always runs on
    the hub's machine, so the file needs no network, no token and no schema migration, and
    it outlives a restart of either process (the hub starts it afresh at each start).
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.started = ""
        self.warnings: list[str] = []
        self.runtime: list[dict] = []
        self._seen: set[str] = set()

    def start(self, path: Path | None, warnings: list[str]) -> None:
        self.path, self.warnings = path, list(warnings)
        self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.runtime, self._seen = [], set()
        self._write()

    def report(self, problems: list[Any], context: str) -> None:
        """Log and share each problem (a `profiles.Problem`) the first time it is seen."""
        new = [p for p in problems if str(p) not in self._seen]
        for p in new:
            self._seen.add(str(p))
            if p.refusal:
                log.error("hub-extensions: %s: withheld from users: %s", context, p)
            else:
                log.warning("hub-extensions: %s: %s", context, p)
            if len(self.runtime) < MAX_RUNTIME_PROBLEMS:
                self.runtime.append({
                    "message": str(p),
                    "refused": bool(p.refusal),
                    "seen": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                })  # fmt: skip
        if new:
            self._write()

    def as_dict(self) -> dict:
        return {"started": self.started, "warnings": self.warnings, "runtime": self.runtime}

    def _write(self) -> None:
        if self.path is None:
            return
        try:
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            tmp.write_text(json.dumps(self.as_dict()))
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except OSError as err:
            log.error("hub-extensions: cannot write %s for the admin's page: %s", self.path, err)

    @staticmethod
    def load(path: Path) -> dict | None:
        """What the hub wrote, or None when there is nothing (yet) or it cannot be read."""
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


#: The hub process's findings; `wiring.finalize` points it at the file.
CONFIG_PROBLEMS = ConfigProblems()
