"""A Python environment whose JupyterHub is another release than .venv's, and all else is .venv's.

A venv without pip, made from .venv's base interpreter, gets one package in its site-packages,
`jupyterhub==<version>` (pip install --no-deps --target, through pip's cache), and a `.pth` file
that adds .venv's site-packages after it (with `site.addsitedir`, so that .venv's own `.pth`
files, such as the editable install of hub-extensions, are read too). The older JupyterHub
shadows .venv's; hub-extensions, the spawners and every other dependency are .venv's. Takes
about 3 s with pip's cache warm (the wheel is 11 MB).

pip's `--target` is used, never `--prefix`: with `--prefix`, pip treats the JupyterHub installed
in the environment it runs from as the one to replace, and uninstalls it from .venv.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from importlib.metadata import version as installed_version
from pathlib import Path

from .common import Unavailable

PROXY = "configurable-http-proxy"


def jupyterhub_overlay(root: Path, jupyterhub_version: str) -> Path:
    """Make the environment at `root`; returns its Python. Unavailable when pip cannot."""
    base_site = Path(sysconfig.get_paths()["purelib"])
    before = installed_version("jupyterhub")
    subprocess.run(
        [sys._base_executable, "-m", "venv", "--without-pip", str(root)],  # type: ignore[attr-defined]
        check=True,
        capture_output=True,
    )
    python = root / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    pip = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-compile",
            "--timeout",
            "20",
            "--retries",
            "1",
            "--target",
            str(site),
            f"jupyterhub=={jupyterhub_version}",
        ],
        capture_output=True,
        text=True,
    )
    if pip.returncode != 0:
        raise Unavailable(
            f"pip could not install jupyterhub=={jupyterhub_version} (no way to PyPI, or no such release): "
            f"{pip.stderr.strip()[-1500:]}"
        )
    (site / "zz_hub_extensions_base_venv.pth").write_text(
        f"import site; site.addsitedir({str(base_site)!r})\n"
    )
    # the demo looks for the proxy next to its Python
    os.symlink(Path(sys.executable).parent / PROXY, root / "bin" / PROXY)
    found = subprocess.run(
        [str(python), "-c", "import jupyterhub; print(jupyterhub.__version__)"],
        capture_output=True,
        text=True,
    )
    assert found.stdout.strip() == jupyterhub_version, found.stdout + found.stderr
    # .venv keeps its own JupyterHub (the run of the rest of the suite depends on it)
    assert installed_version("jupyterhub") == before
    return python
