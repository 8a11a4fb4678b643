"""Is an image there already: in the local Docker engine, or in a registry (a cache hit)."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Mapping
from typing import Any

from tornado.httpclient import AsyncHTTPClient


def _docker_client(env: Mapping[str, str] | None = None) -> Any:
    import docker  # the [docker] extra; imported late so the module loads without it

    return docker.from_env(environment={**os.environ, **(env or {})}, timeout=60)


MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ]
)


def split_image(image_name: str) -> tuple[str, str, str]:
    """``host:port/path/name:tag`` -> (host or "", repository path, tag or @digest)."""
    name, _, digest = image_name.partition("@")
    host, _, rest = name.partition("/")
    if not rest or not ("." in host or ":" in host or host == "localhost"):
        host, rest = "", name
    repo, _, tag = rest.rpartition(":") if ":" in rest else (rest, "", "latest")
    return host, repo, digest or tag


async def image_exists(
    image_name: str, registry: str | None = None, headers: Mapping[str, str] | None = None
) -> bool:
    """True if the image is in the local engine, or (with ``registry``) has a manifest there.

    ``registry`` is a base URL ("http://127.0.0.1:5000") or a host ("127.0.0.1:5000", https
    is assumed unless it is on loopback); ``headers`` may carry an Authorization header.
    """
    if registry is None:
        return await asyncio.to_thread(_local_image_exists, image_name)
    base = registry.rstrip("/")
    if "://" not in base:
        loopback = base.startswith(("127.", "localhost"))
        base = f"{'http' if loopback else 'https'}://{base}"
    _, repo, reference = split_image(image_name)
    resp = await AsyncHTTPClient().fetch(
        f"{base}/v2/{repo}/manifests/{reference}",
        method="HEAD",
        headers={"Accept": MANIFEST_TYPES, **(headers or {})},
        raise_error=False,
        request_timeout=10,
    )
    if resp.code == 404:
        return False
    if resp.code != 200:
        raise RuntimeError(f"registry {base} answered {resp.code} for {repo}:{reference}")
    return True


_clients = threading.local()  # one Docker client per worker thread: a cache hit costs one request


def _local_image_exists(image_name: str) -> bool:
    """Is `image_name` in the local engine? A new client would first ask the engine for its API
    version (about 7 ms per cache hit here), so each worker thread keeps one, dropped on error."""
    import docker

    client = getattr(_clients, "client", None)
    if client is None:
        client = _clients.client = _docker_client()
    try:
        client.images.get(image_name)
    except docker.errors.ImageNotFound:
        return False
    except Exception:
        _clients.client = None
        client.close()
        raise
    return True
