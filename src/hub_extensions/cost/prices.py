"""The price table: versions with an effective date, parsed and validated, and hourly rates.

A version prices resources per hour (CPU, GiB of memory, GPU by type), node types (for the
share-of-node mode), and may give some profiles a flat hourly rate. The version in force on a
(local) day prices every second of that day, so a later version never changes past costs.

Everything here is pure (no I/O): the hub checks the table at start, the ledger prices the
time it accrues, and the spawn form shows the rates, all with these functions.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

VERSION_KEYS = (
    "effective", "cpu_hour", "memory_gib_hour", "gpu_hour", "node_types", "default_node_type",
    "profiles",
)  # fmt: skip
NODE_KEYS = ("hour", "cpu", "memory", "gpu")
PROFILE_KEYS = ("hour", "node_type")
MEMORY_RE = re.compile(r"(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>[KMGT]i?)?B?", re.IGNORECASE)
UNITS = {None: 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
GIB = 2**30
DATE_RE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")


class PriceError(ValueError):
    """A bad entry of the price table; `path` names it, e.g.
    `HubExtensionsCost.prices[1].gpu_hour.T4`."""

    def __init__(self, path: str, problem: str, fix: str) -> None:
        super().__init__(f"{path}: {problem} {fix}")
        self.path = path


@dataclass(frozen=True)
class NodeType:
    hour: float
    cpu: float
    memory_bytes: int
    gpu: int = 0


@dataclass(frozen=True)
class ProfilePrice:
    hour: float | None = None  # a flat rate, overriding the computed one
    node_type: str | None = None  # the node type the profile runs on (share-of-node mode)


@dataclass(frozen=True)
class PriceVersion:
    effective: date
    cpu_hour: float = 0.0
    memory_gib_hour: float = 0.0
    gpu_hour: dict[str, float] = field(default_factory=dict)
    node_types: dict[str, NodeType] = field(default_factory=dict)
    default_node_type: str | None = None
    profiles: dict[str, ProfilePrice] = field(default_factory=dict)


@dataclass(frozen=True)
class Footprint:
    """What a server is billed for: CPUs, bytes of memory, GPUs (by type)."""

    cpu: float = 0.0
    memory_bytes: int = 0
    gpu: int = 0
    gpu_type: str | None = None


def _price(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise PriceError(path, f"{value!r} is not a price.", "Use a number, e.g. 0.04.")
    if value < 0:
        raise PriceError(path, f"{value!r} is negative.", "Use 0 or more.")
    return float(value)


def parse_memory(value: Any, path: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    m = MEMORY_RE.fullmatch(str(value).strip()) if isinstance(value, str) else None
    if not m or float(m["num"]) <= 0:
        raise PriceError(path, f"{value!r} is not a memory size.", "Use bytes or e.g. '16G'.")
    unit = m["unit"][0].upper() if m["unit"] else None
    return int(float(m["num"]) * UNITS[unit])


def _mapping(value: Any, path: str, keys: tuple[str, ...] | None, what: str) -> dict:
    if not isinstance(value, dict):
        raise PriceError(path, f"is {type(value).__name__}, not {what}.", f"Give {what}.")
    if keys is not None:
        for key in value:
            if key not in keys:
                close = difflib.get_close_matches(str(key), keys, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise PriceError(
                    f"{path}.{key}", f"unknown key.{hint}", f"Known keys: {', '.join(keys)}."
                )
    return value


def _node(value: Any, path: str) -> NodeType:
    d = _mapping(value, path, NODE_KEYS, "a dict of hour, cpu, memory, gpu")
    for key in ("hour", "cpu", "memory"):
        if key not in d:
            raise PriceError(f"{path}.{key}", "missing.", "A node type needs hour, cpu, memory.")
    cpu = _price(d["cpu"], f"{path}.cpu")
    if cpu <= 0:
        raise PriceError(f"{path}.cpu", "must be more than 0.", "Give the node's CPUs.")
    gpu = d.get("gpu", 0)
    if isinstance(gpu, bool) or not isinstance(gpu, int) or gpu < 0:
        raise PriceError(f"{path}.gpu", f"{gpu!r} is not a GPU count.", "Use 0 or more.")
    return NodeType(
        _price(d["hour"], f"{path}.hour"), cpu, parse_memory(d["memory"], f"{path}.memory"), gpu
    )


def _version(value: Any, path: str) -> PriceVersion:
    d = _mapping(value, path, VERSION_KEYS, "a dict (a price version)")
    effective = d.get("effective")
    if not isinstance(effective, str) or not DATE_RE.match(effective):
        raise PriceError(f"{path}.effective", f"{effective!r} is not a date.", "Use 'YYYY-MM-DD'.")
    try:
        day = date.fromisoformat(effective)
    except ValueError:
        raise PriceError(f"{path}.effective", f"{effective!r} is not a date.", "") from None
    gpus = _mapping(d.get("gpu_hour", {}), f"{path}.gpu_hour", None, "a dict GPU type -> price")
    nodes = _mapping(d.get("node_types", {}), f"{path}.node_types", None, "a dict of node types")
    profiles = _mapping(d.get("profiles", {}), f"{path}.profiles", None, "a dict slug -> price")
    node_types = {str(k): _node(v, f"{path}.node_types.{k}") for k, v in nodes.items()}
    default_node = d.get("default_node_type")
    if default_node is not None and default_node not in node_types:
        raise PriceError(
            f"{path}.default_node_type",
            f"{default_node!r} is not one of node_types.",
            f"Use one of: {', '.join(node_types) or '(none defined)'}.",
        )
    parsed_profiles = {}
    for slug, entry in profiles.items():
        ppath = f"{path}.profiles.{slug}"
        p = _mapping(entry, ppath, PROFILE_KEYS, "a dict with hour or node_type")
        if ("hour" in p) == ("node_type" in p):
            raise PriceError(ppath, "needs exactly one of hour, node_type.", "Give one.")
        if "node_type" in p and p["node_type"] not in node_types:
            raise PriceError(
                f"{ppath}.node_type",
                f"{p['node_type']!r} is not one of node_types.",
                f"Use one of: {', '.join(node_types) or '(none defined)'}.",
            )
        hour = _price(p["hour"], f"{ppath}.hour") if "hour" in p else None
        parsed_profiles[str(slug)] = ProfilePrice(hour, p.get("node_type"))
    return PriceVersion(
        effective=day,
        cpu_hour=_price(d.get("cpu_hour", 0), f"{path}.cpu_hour"),
        memory_gib_hour=_price(d.get("memory_gib_hour", 0), f"{path}.memory_gib_hour"),
        gpu_hour={str(k): _price(v, f"{path}.gpu_hour.{k}") for k, v in gpus.items()},
        node_types=node_types,
        default_node_type=default_node,
        profiles=parsed_profiles,
    )


def parse_prices(
    value: Any, mode: str = "resources", path: str = "HubExtensionsCost.prices"
) -> list[PriceVersion]:
    """The validated versions, oldest first, or PriceError naming the bad entry."""
    if not isinstance(value, list):
        raise PriceError(
            path, f"is {type(value).__name__}, not a list.", "Give a list of versions."
        )
    versions = [_version(v, f"{path}[{i}]") for i, v in enumerate(value)]
    seen: dict[date, int] = {}
    for i, v in enumerate(versions):
        if v.effective in seen:
            raise PriceError(
                f"{path}[{i}].effective",
                f"{v.effective} is also the date of {path}[{seen[v.effective]}].",
                "Give each version its own effective date.",
            )
        seen[v.effective] = i
        if mode == "share_of_node" and not v.node_types:
            raise PriceError(
                f"{path}[{i}].node_types",
                "empty, but HubExtensionsCost.mode is 'share_of_node'.",
                "Define the node types and their hourly prices.",
            )
    return sorted(versions, key=lambda v: v.effective)


def version_on(versions: list[PriceVersion], day: date) -> PriceVersion | None:
    """The version in force on `day` (the latest effective on or before it), or None."""
    current = None
    for v in versions:
        if v.effective <= day:
            current = v
    return current


def hourly_rate(
    version: PriceVersion | None,
    usage: Footprint,
    profile: str | None = None,
    *,
    mode: str = "resources",
    overhead: float = 1.0,
) -> float:
    """The hourly price of a server using `usage` under `version` (0 without a version).

    A profile's flat rate wins as it is (no overhead: it is already the admin's price).
    Otherwise: resources mode prices CPUs, GiB and GPUs; share-of-node mode charges the
    node's price times the largest share of the node the server takes (capped at a node).
    """
    if version is None:
        return 0.0
    pp = version.profiles.get(profile or "")
    if pp is not None and pp.hour is not None:
        return pp.hour
    if mode == "share_of_node":
        name = (pp.node_type if pp else None) or version.default_node_type
        node = version.node_types.get(name or "")
        if node is None:
            return 0.0
        shares = [usage.cpu / node.cpu, usage.memory_bytes / node.memory_bytes]
        if node.gpu:
            shares.append(usage.gpu / node.gpu)
        return node.hour * min(1.0, max(shares)) * overhead
    gpu_price = version.gpu_hour.get(usage.gpu_type or "", version.gpu_hour.get("default", 0.0))
    rate = (
        usage.cpu * version.cpu_hour
        + usage.memory_bytes / GIB * version.memory_gib_hour
        + usage.gpu * gpu_price
    )
    return rate * overhead


def money(amount: float, currency: str) -> str:
    """'0.12 USD': 2 decimals (3 under 0.1), halves rounded up as the script's toFixed does.

    The cases every copy must pass, here and in the browser: tests/data/money_cases.json.
    """
    digits = 2 if amount >= 0.1 or amount == 0 else 3
    # + 0.0: a negative zero is written "0.00", as the script's toFixed writes it
    exact = Decimal(amount + 0.0).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{exact} {currency}"
