"""Build the suite's small single-user base image without any registry.

``mmdebstrap`` writes a Debian root filesystem as a tar stream that is imported into the local
Docker engine. The image holds a venv with the host's JupyterHub version and JupyterLab,
runs as ``jovyan`` (uid 1000) under ``tini``, and is cached by a tag derived from its recipe.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import jupyterhub

SUITE = "bookworm"
SUITE_PYTHON = "3.11.2"  # bookworm's python3: wheels are chosen for it, not for the host's Python
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("python3", "python3-venv", "ca-certificates", "tini", "passwd")
DEFAULT_CA_GLOB = "/usr/local/share/ca-certificates/*.crt"
LABEL = "org.hub-extensions.base-image"
DPKG_OPTS = tuple(
    f"--dpkgopt=path-exclude=/usr/share/{d}/*" for d in ("doc", "man", "info", "locale", "lintian")
)
CHANGES = (
    "ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV HOME=/home/jovyan",
    "ENV LANG=C.UTF-8",
    "USER jovyan",
    "WORKDIR /home/jovyan",
    'ENTRYPOINT ["tini", "-g", "--"]',
    'CMD ["jupyterhub-singleuser"]',
)

# Runs as root on the host, with the new root filesystem in $1 and the staging directory (CA
# certificates, requirements, optional wheels) in $HUBEXT_STAGE. Constant text: every variable
# input reaches it as a file in the staging directory.
HOOK = r"""set -eu
root="$1"
stage="$HUBEXT_STAGE"
cp -R "$stage/certs/." "$root/usr/local/share/ca-certificates/"
chroot "$root" update-ca-certificates >/dev/null
chroot "$root" useradd --uid 1000 --gid 100 --create-home --home-dir /home/jovyan \
  --shell /bin/bash jovyan
chroot "$root" python3 -m venv /opt/venv
mkdir -p "$root/tmp/hubext"
cp "$stage/requirements.txt" "$root/tmp/hubext/"
i=0
while [ ! -e "$stage/ready" ] && [ $i -lt 3000 ]; do sleep 0.2; i=$((i + 1)); done
if [ -d "$stage/wheels" ]; then
  cp -r "$stage/wheels" "$root/tmp/hubext/wheels"
  set -- --no-index --find-links /tmp/hubext/wheels
else
  set --
fi
chroot "$root" env PIP_CERT=/etc/ssl/certs/ca-certificates.crt /opt/venv/bin/pip install \
  --no-cache-dir --disable-pip-version-check -q "$@" -r /tmp/hubext/requirements.txt
chroot "$root" chown -R 1000:100 /opt/venv
rm -rf "$root/tmp/hubext" "$root/root/.cache" "$root/var/cache/apt/"* "$root/var/lib/apt/lists/"*
"""


class BaseImageUnavailable(RuntimeError):
    """The base image cannot be built here (not root, no mmdebstrap, no Docker engine)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def requirements() -> list[str]:
    """What the image's venv installs: the host's JupyterHub version and JupyterLab."""
    return [f"jupyterhub=={jupyterhub.__version__}", "jupyter_server", "jupyterlab"]


def recipe_hash() -> str:
    """sha256 over everything that shapes the image, so a recipe change gives a new tag."""
    recipe = repr((SUITE, SUITE_PYTHON, PACKAGES, requirements(), HOOK, DPKG_OPTS, CHANGES))
    return hashlib.sha256(recipe.encode()).hexdigest()


def default_tag() -> str:
    version = re.sub(r"[^\w.-]", "-", jupyterhub.__version__)  # e.g. a local "+g1234" part
    return f"hub-extensions/singleuser:jh{version}-{recipe_hash()[:10]}"


def _client(timeout: int = 60) -> Any:
    try:
        import docker
    except ImportError as e:
        raise BaseImageUnavailable("the docker Python SDK is missing (pip install docker)") from e
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as e:
        raise BaseImageUnavailable(f"no Docker engine answers: {e}") from e
    return client


def image_exists(tag: str, client: Any = None) -> bool:
    import docker

    client = client or _client()
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def _prefetch_wheels(stage: Path, log: Callable[[str], Any]) -> threading.Thread:
    """Download the venv's wheels with the host's pip (for bookworm's Python and glibc 2.36)
    while mmdebstrap installs packages; the hook waits for ``ready`` and uses them if present."""
    cmd = [sys.executable, "-m", "pip", "download", "-q", "-d", str(stage / "wheels.part")]
    cmd += ["--only-binary=:all:", "--python-version", SUITE_PYTHON, "--implementation", "cp"]
    cmd += [f"--platform=manylinux_2_{minor}_{platform.machine()}" for minor in range(36, 4, -1)]

    def run() -> None:
        start = time.monotonic()
        try:
            res = subprocess.run([*cmd, *requirements()], capture_output=True, text=True)
            if res.returncode == 0:
                (stage / "wheels.part").rename(stage / "wheels")
                log(f"downloaded wheels on the host in {time.monotonic() - start:.0f}s")
            else:
                log(f"host pip download failed, the image installs from the index:\n{res.stderr}")
        finally:
            (stage / "ready").touch()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def build_base_image(
    tag: str | None = None,
    *,
    extra_ca_certs: Sequence[str | os.PathLike[str]] | None = None,
    log: Callable[[str], Any] = print,
    force: bool = False,
) -> str:
    """Return ``tag`` (default: ``default_tag()``), building the image first unless it exists."""
    tag = tag or default_tag()
    client = _client(timeout=900)
    from docker.utils import parse_repository_tag

    if not force and image_exists(tag, client):
        log(f"using cached base image {tag}")
        return tag
    if os.geteuid() != 0:
        raise BaseImageUnavailable("building the base image needs root (mmdebstrap, chroot)")
    mmdebstrap = shutil.which("mmdebstrap")
    if not mmdebstrap:
        raise BaseImageUnavailable("mmdebstrap is missing (apt-get install mmdebstrap)")
    if extra_ca_certs is None:
        extra_ca_certs = sorted(glob.glob(DEFAULT_CA_GLOB))
    old = client.images.get(tag).id if image_exists(tag, client) else None
    start = time.monotonic()
    log(f"building base image {tag} with {len(extra_ca_certs)} extra CA certificate(s)")
    with tempfile.TemporaryDirectory(prefix="hubext-base-") as tmp:
        stage = Path(tmp)
        (stage / "certs").mkdir()
        for i, crt in enumerate(extra_ca_certs):
            shutil.copyfile(crt, stage / "certs" / f"extra-ca-{i}.crt")
        (stage / "requirements.txt").write_text("\n".join(requirements()) + "\n")
        fetcher = _prefetch_wheels(stage, log)
        cmd = [mmdebstrap, "--variant=apt", "--format=tar", "--include=" + ",".join(PACKAGES)]
        cmd += [*DPKG_OPTS, "--customize-hook=" + HOOK, SUITE, "-", MIRROR]
        # the host's pip settings (find-links, cert paths) mean nothing inside the image
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        env["HUBEXT_STAGE"] = str(stage)
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        stdout, stderr = proc.stdout, proc.stderr
        assert stdout is not None  # a PIPE
        assert stderr is not None
        tail: deque[str] = deque(maxlen=40)
        reader = threading.Thread(target=_follow, args=(stderr, tail, log), daemon=True)
        reader.start()
        repo, tag_part = parse_repository_tag(tag)
        changes = [*CHANGES, f"LABEL {LABEL}={recipe_hash()[:10]}"]
        error = None
        try:
            result = client.api.import_image(
                src=iter(lambda: stdout.read(1 << 20), b""),  # chunked upload
                repository=repo,
                tag=tag_part,
                changes=changes,
                stream_src=True,
            )
            if "errorDetail" in str(result):
                error = str(result)
        except Exception as e:  # the engine refused the stream
            error = f"docker import: {e}"
        finally:
            stdout.close()
            rc = proc.wait()
            reader.join(5)
            fetcher.join()
    if rc != 0 or error:
        if image_exists(tag, client) and client.images.get(tag).id != old:
            client.images.remove(tag, force=True)
        detail = "\n".join(tail) + ("\n" + error if error else "")
        raise RuntimeError(f"building {tag} failed (mmdebstrap exit {rc}):\n{detail}")
    image = client.images.get(tag)
    if old and old != image.id:
        try:
            client.images.remove(old)
        except Exception as e:  # still used by a container or another tag
            log(f"kept the previous image {old[:19]}: {e}")
    elapsed = time.monotonic() - start
    log(f"built base image {tag} ({image.attrs['Size'] / 1e6:.0f} MB) in {elapsed:.0f}s")
    return tag


def _follow(stream: IO[bytes], tail: deque[str], log: Callable[[str], Any]) -> None:
    for raw in stream:
        line = raw.decode(errors="replace").rstrip()
        tail.append(line)
        if line.startswith("I: "):  # mmdebstrap's progress lines
            log(f"  mmdebstrap: {line[3:]}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hub_extensions.images.base_image", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--tag", help="image tag (default: %(default)s)", default=default_tag())
    parser.add_argument("--force", action="store_true", help="rebuild even if the tag exists")
    parser.add_argument(
        "--extra-ca-cert", action="append", metavar="FILE", dest="certs",
        help=f"CA certificate to trust inside the image (default: {DEFAULT_CA_GLOB})",
    )  # fmt: skip
    args = parser.parse_args(argv)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    try:
        tag = build_base_image(args.tag, extra_ca_certs=args.certs, log=log, force=args.force)
    except BaseImageUnavailable as e:
        print(f"base image unavailable: {e.reason}", file=sys.stderr)
        raise SystemExit(2) from None
    print(tag)


if __name__ == "__main__":
    main()
