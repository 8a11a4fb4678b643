"""The bundled snapshot of CILogon's public IdP list, and its refresh.

The hub never fetches anything at start: an institution's entity ID missing from the snapshot
is a warning only (the list changes every week, and the hub may have no internet access).
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from .validation import SOCIAL_ENTITY_IDS

BUNDLED = Path(__file__).resolve().parent / "data" / "cilogon-idps.json"
DEFAULT_URL = "https://cilogon.org/idplist/"


class SnapshotError(Exception):
    """The IdP list could not be fetched or read."""


@dataclass(frozen=True)
class Snapshot:
    entity_ids: frozenset[str]
    fetched: str | None
    source: str

    @property
    def fetched_text(self) -> str:
        return self.fetched or "never: a placeholder until refreshed"

    def describe(self) -> str:
        return f"{len(self.entity_ids)} entries, fetched {self.fetched_text}"


@lru_cache(maxsize=4)
def load_snapshot(path: Path = BUNDLED) -> Snapshot:
    """The snapshot at `path` (the bundled one by default)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    ids = frozenset(entry["EntityID"] for entry in data.get("idps", []))
    return Snapshot(entity_ids=ids, fetched=data.get("fetched"), source=data.get("source", ""))


def parse_idp_list(body: bytes) -> list[dict]:
    """CILogon's /idplist/ JSON (an array of objects with EntityID and DisplayName), checked."""
    try:
        items = json.loads(body)
    except ValueError as err:
        raise SnapshotError(f"the IdP list is not JSON ({err})") from None
    if not isinstance(items, list) or not items:
        raise SnapshotError("the IdP list is not a non-empty JSON array")
    idps = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("EntityID"), str):
            raise SnapshotError(f"entry {i} of the IdP list has no EntityID")
        entry = {"EntityID": item["EntityID"], "DisplayName": str(item.get("DisplayName", ""))}
        if item["EntityID"] in SOCIAL_ENTITY_IDS.values():
            entry["social"] = True
        idps.append(entry)
    return sorted(idps, key=lambda e: e["EntityID"])


def refresh(url: str = DEFAULT_URL, output: Path = BUNDLED, timeout: float = 30) -> int:
    """Fetch CILogon's IdP list from `url`, write the snapshot to `output`; the entry count."""
    if not url.startswith(("https://", "http://")):
        raise SnapshotError(f"{url!r} is not an http(s) URL")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read()
    except OSError as err:
        raise SnapshotError(f"cannot fetch {url}: {err}") from None
    idps = parse_idp_list(body)
    snapshot = {
        "source": url,
        "fetched": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "idps": idps,
    }
    try:
        output.write_text(json.dumps(snapshot, indent=1, ensure_ascii=False) + "\n", "utf-8")
    except OSError as err:
        raise SnapshotError(f"cannot write {output}: {err}. Use --output PATH.") from None
    load_snapshot.cache_clear()
    return len(idps)
