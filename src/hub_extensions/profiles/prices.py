"""Hourly prices in the spawn form: per profile, per choice, and the data to total them live.

A profile's footprint (what it is billed for) comes from its overrides as the spawner would
apply them (`cpu_guarantee`/`cpu_limit`, `mem_guarantee`/`mem_limit`, GPUs in
`extra_resource_limits`), falling back to its displayed `resources`, then to the spawner's own
settings. A choice changes only what its overrides set. Unlisted values and built images change
the image, not the resources, so they cost what the profile costs. The browser gets the price
version in force today and the footprints, and totals them with the same formula
(frontend/src/profiles/price.ts, tested against cases written by this module).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from ..cost.config import HubExtensionsCost
from ..cost.prices import Footprint, PriceVersion, hourly_rate, parse_memory, version_on
from .model import Profile, Resources

GPU_KEYS = ("nvidia.com/gpu", "amd.com/gpu", "gpu")


def _memory(value: Any) -> int | None:
    if value in (None, "", 0):
        return None
    try:
        return parse_memory(value, "memory")
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    return float(value)


def partial_footprint(
    override: dict[str, Any], resources: Resources | None, basis: str
) -> dict[str, Any]:
    """The billed resources an override (and its displayed resources) sets; others absent."""
    first, second = ("guarantee", "limit") if basis == "requests" else ("limit", "guarantee")
    out: dict[str, Any] = {}
    cpu = _number(override.get(f"cpu_{first}")) or _number(override.get(f"cpu_{second}"))
    mem = _memory(override.get(f"mem_{first}")) or _memory(override.get(f"mem_{second}"))
    limits = override.get("extra_resource_limits") or {}
    gpu_key = next((k for k in GPU_KEYS if isinstance(limits, dict) and k in limits), None)
    gpu = limits[gpu_key] if gpu_key else None
    if cpu is None and resources is not None and resources.cpu:
        cpu = float(resources.cpu)
    if mem is None and resources is not None and resources.memory_bytes:
        mem = resources.memory_bytes
    if gpu is None and resources is not None and resources.gpu is not None:
        gpu = resources.gpu
    if cpu is not None:
        out["cpu"] = cpu
    if mem is not None:
        out["memory_bytes"] = int(mem)
    if gpu is not None:
        try:
            out["gpu"] = int(gpu)
        except (TypeError, ValueError):
            pass
    if gpu_key is not None:
        # priced by the extended resource's name, as the ledger records it
        # (HubExtensionsCost.prices)
        out["gpu_type"] = gpu_key
    return out


def spawner_footprint(spawner: Any, basis: str) -> dict[str, Any]:
    """The footprint the spawner's own settings give a server (before any profile)."""
    override = {
        key: getattr(spawner, key, None)
        for key in ("cpu_guarantee", "cpu_limit", "mem_guarantee", "mem_limit")
    }
    override["extra_resource_limits"] = getattr(spawner, "extra_resource_limits", None)
    return partial_footprint(override, None, basis)


def footprint(*parts: dict[str, Any]) -> Footprint:
    merged: dict[str, Any] = {}
    for part in parts:
        merged.update(part)
    return Footprint(
        cpu=float(merged.get("cpu", 0.0)),
        memory_bytes=int(merged.get("memory_bytes", 0)),
        gpu=int(merged.get("gpu", 0)),
        gpu_type=merged.get("gpu_type"),
    )


def version_payload(version: PriceVersion | None) -> dict[str, Any] | None:
    """The version as the browser's formula reads it."""
    if version is None:
        return None
    return {
        "cpu_hour": version.cpu_hour,
        "memory_gib_hour": version.memory_gib_hour,
        "gpu_hour": dict(version.gpu_hour),
        "node_types": {
            name: {"hour": n.hour, "cpu": n.cpu, "memory_bytes": n.memory_bytes, "gpu": n.gpu}
            for name, n in version.node_types.items()
        },
        "default_node_type": version.default_node_type,
        "profiles": {
            slug: {"hour": p.hour, "node_type": p.node_type} for slug, p in version.profiles.items()
        },
    }


def add_prices(
    data: dict[str, Any],
    profiles: list[Profile],
    spawner: Any,
    cost: HubExtensionsCost,
    tz_name: str,
    now: datetime | None = None,
) -> None:
    """Add `pricing` and each profile's and choice's `price` to the form's page data."""
    now = now or datetime.now(timezone.utc)
    today = now.astimezone(ZoneInfo(tz_name)).date()
    version = version_on(cost.versions(), today)
    base = spawner_footprint(spawner, cost.basis)
    data["pricing"] = {
        "currency": cost.currency,
        "mode": cost.mode,
        "overhead": cost.overhead_factor,
        "version": version_payload(version),
    }

    def rate(slug: str, *parts: dict[str, Any]) -> float:
        used = footprint(base, *parts)
        return round(
            hourly_rate(version, used, slug, mode=cost.mode, overhead=cost.overhead_factor), 6
        )

    by_slug = {p.slug: p for p in profiles}
    for shown in data["profiles"]:
        profile = by_slug[shown["slug"]]
        own = partial_footprint(profile.kubespawner_override, profile.resources, cost.basis)
        defaults = []
        for option in profile.options:
            chosen = option.default_choice
            if chosen is not None:
                defaults.append(
                    partial_footprint(chosen.kubespawner_override, chosen.resources, cost.basis)
                )
        shown["price"] = {"footprint": {**base, **own}, "hour": rate(profile.slug, own, *defaults)}
        for option_data, option in zip(shown["options"], profile.options, strict=True):
            others = [
                partial_footprint(o.default_choice.kubespawner_override,
                                  o.default_choice.resources, cost.basis)
                for o in profile.options
                if o is not option and o.default_choice is not None
            ]  # fmt: skip
            for choice_data in option_data["choices"]:
                choice = option.choice(choice_data["key"])
                assert choice is not None  # the data lists the option's own choices
                part = partial_footprint(choice.kubespawner_override, choice.resources, cost.basis)
                choice_data["price"] = {
                    "footprint": part,
                    "hour": rate(profile.slug, own, *others, part),
                }
