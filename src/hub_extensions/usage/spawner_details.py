"""What a session records about its server, read from the spawner (any spawner class).

Resources come from the spawner's traits (`cpu_limit`, `mem_limit`, `cpu_guarantee`,
`mem_guarantee`; KubeSpawner's `extra_resource_limits` for GPUs); for a KubeSpawner whose pod
runs, from the pod spec the cluster holds, which is what the server really got.
"""

from __future__ import annotations

import re
from typing import Any

from ..builds.providers import is_full_sha
from ..fields import FORM_PROFILE, SIGNATURE_SUFFIX, UNLISTED_SUFFIX

#: Kubernetes quantity suffixes (kubernetes.io: "Quantity", common definitions)
_SUFFIXES = {
    "": 1, "m": 1e-3, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}  # fmt: skip
_QUANTITY_RE = re.compile(
    r"\A([0-9]+(?:\.[0-9]*)?(?:[eE][0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[mkKMGTPE])?\Z"
)
#: Notebook container name KubeSpawner gives the server's container in its pod.
NOTEBOOK_CONTAINER = "notebook"


def quantity(value: Any) -> float | None:
    """A Kubernetes quantity ('500m', '2', '4Gi', 1.5) as a number, or None if it is not one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    m = _QUANTITY_RE.match(str(value).strip())
    if not m:
        return None
    return float(m.group(1)) * _SUFFIXES[m.group(2) or ""]


def _bytes(value: Any) -> int | None:
    number = quantity(value)
    return int(number) if number is not None else None


def gpus(limits: dict[str, Any]) -> tuple[int, str | None]:
    """GPU count and resource name from extended resources such as `nvidia.com/gpu`."""
    count, kind = 0, None
    for name, value in sorted((limits or {}).items()):
        if str(name).endswith("/gpu"):
            number = quantity(value)
            if number:
                count += int(number)
                kind = kind or str(name)
    return count, kind


def resources_from_traits(spawner: Any) -> dict[str, Any]:
    """Requests and limits as the spawner's options say (what it will ask for)."""
    count, kind = gpus(getattr(spawner, "extra_resource_limits", None) or {})
    return {
        "cpu_request": quantity(getattr(spawner, "cpu_guarantee", None)),
        "cpu_limit": quantity(getattr(spawner, "cpu_limit", None)),
        "mem_request_bytes": _bytes(getattr(spawner, "mem_guarantee", None)),
        "mem_limit_bytes": _bytes(getattr(spawner, "mem_limit", None)),
        "gpu_count": count,
        "gpu_type": kind,
    }


def resources_from_pod(pod: dict[str, Any]) -> dict[str, Any] | None:
    """Requests and limits of the notebook container of a pod (a manifest or a reflected pod)."""
    containers = (pod.get("spec") or {}).get("containers") or []
    container = next((c for c in containers if c.get("name") == NOTEBOOK_CONTAINER), None)
    if container is None and containers:
        container = containers[0]
    if container is None:
        return None
    res = container.get("resources") or {}
    limits, requests = res.get("limits") or {}, res.get("requests") or {}
    count, kind = gpus(limits)
    return {
        "cpu_request": quantity(requests.get("cpu")),
        "cpu_limit": quantity(limits.get("cpu")),
        "mem_request_bytes": _bytes(requests.get("memory")),
        "mem_limit_bytes": _bytes(limits.get("memory")),
        "gpu_count": count,
        "gpu_type": kind,
    }


def running_pod(spawner: Any) -> dict[str, Any] | None:
    """The pod KubeSpawner's reflector holds for this spawner, or None (not a KubeSpawner)."""
    if not hasattr(spawner, "pod_name") or not hasattr(spawner, "pod_reflector"):
        return None
    try:
        reflector = spawner.pod_reflector
        pods = getattr(reflector, "pods", None) or {}
        pod = pods.get(f"{spawner.namespace}/{spawner.pod_name}")
    except Exception:  # the reflector is not running (no cluster): fall back to traits
        return None
    return pod if isinstance(pod, dict) else None


def build_info(options: dict[str, Any], image: str | None) -> tuple[str | None, str | None]:
    """(build_repo, build_ref) of a built image, else (None, None).

    A signed build (an option `KEY--build-signature`) means the image was built on this hub;
    its tag is the commit it was built from. The source repository is not in the image name
    in a reversible form; it is found from the build cache by the image name when needed.
    """
    keys = [k for k in options if isinstance(k, str) and k.endswith(SIGNATURE_SUFFIX)]
    if not keys:
        return None, None
    built = image or options.get(keys[0].removesuffix(SIGNATURE_SUFFIX) + UNLISTED_SUFFIX)
    if not isinstance(built, str) or ":" not in built.rsplit("/", 1)[-1]:
        return None, None
    tag = built.rsplit(":", 1)[1]
    return None, tag if is_full_sha(tag) else None


def recorded_options(user_options: Any) -> dict[str, Any]:
    """The user's options as recorded: signatures left out (they prove, they do not describe)."""
    if not isinstance(user_options, dict):
        return {}
    return {
        str(k): v
        for k, v in user_options.items()
        if not (isinstance(k, str) and k.endswith(SIGNATURE_SUFFIX))
    }


def image_of(spawner: Any) -> str | None:
    image = getattr(spawner, "image", None)
    return image if isinstance(image, str) and image else None


def chosen_profile(spawner: Any) -> str:
    """The slug of the profile this spawn uses: the one asked for, else the one the profiles
    spawner chose (`hx_chosen_profile`, set when it applied the user's options), else ''."""
    options = spawner.user_options if isinstance(spawner.user_options, dict) else {}
    slug = options.get(FORM_PROFILE)
    if isinstance(slug, str) and slug:
        return slug
    chosen = getattr(spawner, "hx_chosen_profile", "")
    return chosen if isinstance(chosen, str) else ""


def session_fields(spawner: Any) -> dict[str, Any]:
    """The ledger fields of a spawn request (see Ledger.session_row), without the times."""
    options = spawner.user_options if isinstance(spawner.user_options, dict) else {}
    image = image_of(spawner)
    repo, ref = build_info(options, image)
    profile = options.get(FORM_PROFILE)
    return {
        "user": spawner.user.name,
        "server_name": spawner.name or "",
        "profile_slug": profile if isinstance(profile, str) else "",
        "options": recorded_options(options),
        "image": image,
        "build_repo": repo,
        "build_ref": ref,
        **resources_from_traits(spawner),
        "groups": sorted(g.name for g in spawner.user.groups),
        "spawner_class": type(spawner).__name__,
    }


def ready_details(spawner: Any) -> dict[str, Any]:
    """Fields final only once the server runs: image and resources (pod spec when there is one)."""
    pod = running_pod(spawner)
    resources = resources_from_pod(pod) if pod else None
    details: dict[str, Any] = dict(resources or resources_from_traits(spawner))
    image = image_of(spawner)
    if pod:
        containers = (pod.get("spec") or {}).get("containers") or []
        main = next((c for c in containers if c.get("name") == NOTEBOOK_CONTAINER), None)
        image = (main or {}).get("image") or image
    if image:
        details["image"] = image
        options = spawner.user_options if isinstance(spawner.user_options, dict) else {}
        _, ref = build_info(options, image)
        if ref:
            details["build_ref"] = ref
    return details
