"""A throw-away container registry (Debian ``docker-registry``) on loopback."""

from __future__ import annotations

from pathlib import Path

import requests

from .common import ManagedProcess, Unavailable, free_port, require_binary, wait_for_http

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ]
)

CONFIG = """\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: {addr}
"""


class LocalRegistry:
    """``docker-registry serve`` on 127.0.0.1:PORT, storing blobs under ``tmpdir``.

    127.0.0.0/8 is an insecure registry for dockerd by default, so plain HTTP push/pull work.
    """

    def __init__(self, tmpdir: Path):
        self.binary = require_binary("docker-registry", "apt-get install docker-registry")
        self.tmpdir = Path(tmpdir)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self.process: ManagedProcess | None = None

    def start(self, timeout: float = 30) -> LocalRegistry:
        storage = self.tmpdir / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        config = self.tmpdir / "registry.yml"
        config.write_text(CONFIG.format(root=storage, addr=self.host))
        self.process = ManagedProcess(
            f"registry-{self.port}", [self.binary, "serve", str(config)], self.tmpdir
        )
        try:
            wait_for_http(f"{self.url}/v2/", timeout=timeout)
        except TimeoutError as e:
            tail = self.process.log_text()[-2000:]
            self.stop()
            raise Unavailable(f"docker-registry did not answer on {self.host}:\n{tail}") from e
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def __enter__(self) -> LocalRegistry:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def manifest_exists(host: str, repo: str, tag: str) -> bool:
    """True if ``host`` (e.g. "127.0.0.1:5000") serves a manifest for ``repo:tag``."""
    resp = requests.head(
        f"http://{host}/v2/{repo}/manifests/{tag}",
        headers={"Accept": MANIFEST_TYPES},
        timeout=10,
    )
    if resp.status_code == 404:
        return False
    resp.raise_for_status()
    return True
