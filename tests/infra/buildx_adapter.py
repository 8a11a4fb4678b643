"""TEST-ONLY: a ``docker buildx`` stand-in for Docker engines without the buildx plugin.

repo2docker shells out to ``docker buildx build``. Debian's docker.io ships no buildx plugin,
so the docker tier installs ``buildx_adapter_plugin.py`` as ``$DOCKER_CONFIG/cli-plugins/
docker-buildx`` and runs the executor with the returned environment. Real installations have
buildx; nothing in ``src/`` knows about this adapter.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

PLUGIN_SOURCE = Path(__file__).with_name("buildx_adapter_plugin.py")
DEBIAN_DOCKER = Path("/usr/bin/docker")


def install_buildx_adapter(docker_config_dir: Path) -> dict[str, str]:
    """Write the plugin into ``docker_config_dir`` and return the env for the executor.

    PATH gets /usr/bin first so repo2docker's ``docker`` is Debian's client, which looks for
    plugins in ``$DOCKER_CONFIG/cli-plugins`` (another client on PATH may be a newer one).
    """
    plugins = Path(docker_config_dir) / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    config = Path(docker_config_dir) / "config.json"
    if not config.exists():
        config.write_text(json.dumps({}))
    plugin = plugins / "docker-buildx"
    # The shebang names this interpreter: the plugin needs only the standard library.
    plugin.write_text(f"#!{sys.executable}\n" + PLUGIN_SOURCE.read_text())
    plugin.chmod(0o755)
    path = os.environ.get("PATH", "")
    return {
        "DOCKER_CONFIG": str(docker_config_dir),
        "PATH": f"{DEBIAN_DOCKER.parent}:{path}" if path else str(DEBIAN_DOCKER.parent),
    }
