"""CILogon's public IdP list: the cached copy, its refresh, and entity-ID checks against it.

The hub keeps a copy at `CILogonPresetsAuthenticator.idp_list_path` (in its working directory,
next to jupyterhub.sqlite, by default) and refreshes it in the background (`idp_refresh`);
`hub-extensions cilogon refresh-idps` writes the same file. Until a current copy exists, the
bundled placeholder (the four social IdPs) stands in and institutions are not checked
against it; the shape checks here need no list.
"""

from __future__ import annotations

import difflib
import json
import os
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from .validation import SOCIAL_ENTITY_IDS

BUNDLED = Path(__file__).resolve().parent / "data" / "cilogon-idps.json"
DEFAULT_URL = "https://cilogon.org/idplist/"
DEFAULT_LIST_PATH = "cilogon-idps.json"
#: a copy older than this is stale: entity IDs are not judged against it
MAX_AGE = timedelta(days=7)
INCOMMON = "urn:mace:incommon:"
#: top-level domains of InCommon members; near misses of these (".ed") are typos
_TLDS = ("edu", "org", "com", "gov", "net", "mil", "int", "us")
#: real TLDs that are near misses of those
_OTHER_TLDS = frozenset({"co", "ne", "ca", "uk", "de", "io", "in", "mx", "or.jp"})


class SnapshotError(Exception):
    """The IdP list could not be fetched or read."""


@dataclass(frozen=True)
class IdpList:
    entity_ids: frozenset[str]
    fetched: datetime | None
    source: str
    path: Path | None = None
    names: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def fetched_text(self) -> str:
        return self.fetched.strftime("%Y-%m-%d %H:%M UTC") if self.fetched else "never"

    def describe(self) -> str:
        return f"{len(self.entity_ids)} entries, fetched {self.fetched_text}"

    def is_current(self, now: datetime | None = None) -> bool:
        now = now or datetime.now(timezone.utc)
        return self.fetched is not None and now - self.fetched <= MAX_AGE


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


@lru_cache(maxsize=8)
def _load(path: Path, _mtime: int) -> IdpList:
    data = json.loads(path.read_text(encoding="utf-8"))
    idps = data.get("idps", [])
    return IdpList(
        entity_ids=frozenset(e["EntityID"] for e in idps),
        fetched=_parse_time(data.get("fetched")),
        source=str(data.get("source", "")),
        path=path,
        names={e["EntityID"]: e.get("DisplayName") or "" for e in idps if e.get("DisplayName")},
    )


def load_idp_list(path: Path | None) -> IdpList:
    """The copy at `path` if it exists and reads, else the bundled placeholder."""
    for candidate in (path, BUNDLED):
        if candidate is None:
            continue
        try:
            return _load(candidate, candidate.stat().st_mtime_ns)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return IdpList(frozenset(SOCIAL_ENTITY_IDS.values()), None, "built in")


# kept for callers of the previous name
def load_snapshot(path: Path = BUNDLED) -> IdpList:
    return load_idp_list(path)


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


def fetch(url: str, timeout: float) -> list[dict]:
    if not url.startswith(("https://", "http://")):
        raise SnapshotError(f"{url!r} is not an http(s) URL")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read()
    except OSError as err:
        raise SnapshotError(f"cannot fetch {url}: {err}") from None
    return parse_idp_list(body)


def refresh(url: str, output: Path, timeout: float = 30) -> int:
    """Fetch CILogon's IdP list from `url` and write it to `output`; the entry count."""
    idps = fetch(url, timeout)
    snapshot = {
        "source": url,
        "fetched": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "idps": idps,
    }
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(snapshot, indent=1, ensure_ascii=False) + "\n", "utf-8")
        os.replace(tmp, output)  # readers never see half a file
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise SnapshotError(f"cannot write {output}: {err}. Use --output PATH.") from None
    return len(idps)


# ------------------------------------------------------------------ entity-ID checks
def same_idp_key(entity_id: str) -> str:
    """Entity IDs that differ only in http/https, a trailing slash, case or spaces."""
    text = entity_id.strip().lower().rstrip("/")
    for scheme in ("https://", "http://"):
        text = text.removeprefix(scheme)
    return text


def _shape_warning(path: str, eid: str) -> str | None:
    head, _, rest = eid.rpartition(":")
    if eid.lower().startswith("urn:") and not eid.startswith(INCOMMON) and head:
        near = difflib.SequenceMatcher(None, head.lower() + ":", INCOMMON).ratio()
        if near >= 0.8 or (head + ":").lower() == INCOMMON:
            right = INCOMMON + rest
            return f"{path}: {eid!r} looks like a misspelt InCommon ID. Did you mean {right!r}?"
    if eid.startswith(INCOMMON):
        domain = eid[len(INCOMMON) :]
        tld = domain.rpartition(".")[2]
        if tld not in _TLDS and tld not in _OTHER_TLDS:
            close = difflib.get_close_matches(tld, _TLDS, n=1, cutoff=0.6)
            if close:
                right = eid[: len(eid) - len(tld)] + close[0]
                return (
                    f"{path}: {eid!r} ends in '.{tld}', which is not a top-level domain. "
                    f"Did you mean {right!r}?"
                )
    return None


def entity_id_findings(institutions: dict[str, str], idp_list: IdpList) -> tuple[list, list]:
    """(warnings, info lines) for institutions' entity IDs (entity ID -> config path)."""
    warnings: list[str] = []
    info: list[str] = []
    for eid, path in institutions.items():
        if shape := _shape_warning(path, eid):
            warnings.append(shape)
    if not institutions:
        return warnings, info
    if not idp_list.is_current():
        where = idp_list.path or "the bundled placeholder"
        state = "has never been fetched" if idp_list.fetched is None else "is stale"
        info.append(
            f"CILogon's IdP list ({where}) {state} ({idp_list.describe()}): institution "
            "entity IDs are not checked against it until it is refreshed (the hub does so "
            "in the background; or run `hub-extensions cilogon refresh-idps`)."
        )
        return warnings, info
    by_key = {same_idp_key(e): e for e in idp_list.entity_ids}
    for eid, path in institutions.items():
        if eid in idp_list.entity_ids:
            continue
        same = by_key.get(same_idp_key(eid))
        nearest = [same] if same else _nearest(eid, idp_list.entity_ids)
        hint = f" Nearest: {', '.join(map(repr, nearest))}." if nearest else ""
        warnings.append(
            f"{path}.entity_id: {eid!r} is not in CILogon's IdP list ({idp_list.describe()}), "
            f"so nobody can log in with it.{hint} Copy the EntityID from "
            "https://cilogon.org/idplist/."
        )
    return warnings, info


def _nearest(eid: str, known: frozenset[str]) -> list[str]:
    host = urlsplit(eid).hostname or eid.rpartition(":")[2]
    pool = [k for k in known if host and host.split(".")[-2:] == _tail(k)] or list(known)
    return difflib.get_close_matches(eid, pool, n=3, cutoff=0.6)


def _tail(entity_id: str) -> list[str]:
    host = urlsplit(entity_id).hostname or entity_id.rpartition(":")[2]
    return host.split(".")[-2:]
