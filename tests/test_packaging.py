"""The wheel ships the built browser code, so installing it needs no Node.js; both pass twine.

Builds an sdist from this checkout (running the frontend build if needed), then a wheel from
that sdist with Node.js and npm removed from PATH, looks inside both, and runs
`twine check --strict` on them (what PyPI would refuse: metadata, the README's rendering).
Not covered: an upload to PyPI itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [
    "hub_extensions/static/dist/service-home.js",
    "hub_extensions/service/templates/home.html",
    "hub_extensions/templates/spawn.html",
    "hub_extensions/demo/jupyterhub_config.py",
]
SDIST_TOP = {
    "src", "frontend", "hatch_build.py", "README.md", "CHANGELOG.md", "LICENSE",
    "pyproject.toml", "PKG-INFO", ".gitignore",
}  # fmt: skip


def build(*args: str, cwd: Path, env: dict | None = None) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_sdist_and_wheel_ship_the_frontend_and_the_wheel_builds_without_node(tmp_path):
    build("--sdist", "--outdir", str(tmp_path), cwd=ROOT)
    [sdist] = tmp_path.glob("hub_extensions-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
        tar.extractall(tmp_path / "src", filter="data")
    assert any(n.endswith("src/hub_extensions/static/dist/service-home.js") for n in names)
    assert not any("/node_modules/" in n for n in names)
    # only the package, the frontend's sources and the top-level files; nothing from untracked
    # folders of the checkout (a local venv's READMEs once matched an unanchored pattern)
    top = {n.split("/", 2)[1] for n in names if n.count("/") >= 1}
    assert top <= SDIST_TOP, f"unexpected in the sdist: {sorted(top - SDIST_TOP)}"
    assert "LICENSE" in top

    no_node = tmp_path / "bin"
    no_node.mkdir()
    for tool in ("git",):  # a PATH with the basics but no node or npm
        if shutil.which(tool):
            (no_node / tool).symlink_to(shutil.which(tool))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{no_node}"}
    env.pop("HUB_EXTENSIONS_SKIP_FRONTEND_BUILD", None)
    assert shutil.which("npm", path=env["PATH"]) is None
    [unpacked] = (tmp_path / "src").iterdir()
    build("--wheel", "--outdir", str(tmp_path / "wheel"), cwd=unpacked, env=env)
    [wheel] = (tmp_path / "wheel").glob("hub_extensions-*.whl")
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        entry_text = whl.read(entry_points).decode()
    for path in SHIPPED:
        assert path in names, f"{path} missing from the wheel"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "hub-extensions = hub_extensions.cli:main" in entry_text
    assert (
        "loopback-docker = hub_extensions.spawners.loopback_docker:LoopbackDockerSpawner"
        in entry_text
    )

    twine = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(sdist), str(wheel)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert twine.returncode == 0, twine.stdout + twine.stderr
    assert twine.stdout.count("PASSED") == 2, twine.stdout


def test_the_github_workflow_runs_the_readme_test_command_with_shared_beside_it():
    """The workflow's steps as GitHub reads them; not covered: a run on GitHub's runners."""
    readme = (ROOT / "README.md").read_text()
    assert "./scripts/test     # the whole test suite" in readme
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "test.yml").read_text())
    [job] = workflow["jobs"].values()
    runs = [step for step in job["steps"] if "run" in step]
    [test_step] = [s for s in runs if s["run"].strip() == "./scripts/test"]
    assert test_step["working-directory"] == "main"  # so that ../shared is the checkout's
    checkouts = [s["with"]["path"] for s in job["steps"] if "checkout" in s.get("uses", "")]
    assert checkouts == ["main", "steering"]  # nothing rebuilds ../shared from elsewhere
    layout = next(s["run"] for s in runs if "mv steering/shared shared" in s["run"])
    assert "HUB_EXTENSIONS_REQUIRE_ALL=1" in layout
    assert "::warning" in layout  # without the steering repository, says what skips
    assert job["container"]["image"].startswith("debian:bookworm")
