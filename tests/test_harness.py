"""The tier rules themselves: missing infrastructure skips on a laptop and fails in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import pytest
from tests.conftest import need
from tests.infra.common import Unavailable

def missing():
    raise Unavailable("dockerd not found on PATH")

@pytest.mark.docker
def test_needs_an_engine():
    need(missing)
"""


def run_probe(tmp_path: Path, body: str, require_all: bool) -> subprocess.CompletedProcess:
    """Run `body` as a test file outside tests/, with the project's conftest as a plugin."""
    probe = tmp_path / "test_probe.py"
    probe.write_text(body)
    env = {k: v for k, v in os.environ.items() if k != "HUB_EXTENSIONS_REQUIRE_ALL"}
    if require_all:
        env["HUB_EXTENSIONS_REQUIRE_ALL"] = "1"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.conftest",
            "-p",
            "no:cacheprovider",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(ROOT),
            "-rs",
            "-q",
            str(probe),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_missing_infrastructure_skips_with_the_reason(tmp_path):
    result = run_probe(tmp_path, PROBE, require_all=False)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "dockerd not found on PATH" in result.stdout


def test_missing_infrastructure_fails_when_everything_is_required(tmp_path):
    result = run_probe(tmp_path, PROBE, require_all=True)
    assert result.returncode == 1, result.stdout
    assert "1 failed" in result.stdout
    assert (
        "HUB_EXTENSIONS_REQUIRE_ALL=1 and infrastructure is missing: dockerd not found"
        in result.stdout
    )


def test_a_test_without_a_tier_marker_is_refused(tmp_path):
    result = run_probe(tmp_path, "def test_untiered():\n    assert True\n", require_all=False)
    assert result.returncode != 0
    assert "needs exactly one tier marker" in result.stdout + result.stderr


def test_a_file_left_in_the_checkout_fails_the_run_in_ci(tmp_path):
    """A run that leaves a file in the checkout (say, a hub run with the checkout as its working
    directory writing its key there) names it, and fails under HUB_EXTENSIONS_REQUIRE_ALL."""
    import uuid

    stray = ROOT / f"stray-probe-{uuid.uuid4().hex[:8]}.key"
    body = (
        "import pytest\nfrom pathlib import Path\n\n@pytest.mark.unit\ndef test_writes():\n"
        f"    Path({str(stray)!r}).write_text('x')\n"
    )
    try:
        ci = run_probe(tmp_path, body, require_all=True)
        assert ci.returncode == 1, ci.stdout
        assert f"files left in the checkout by this run (the run fails): {stray.name}" in ci.stdout
        stray.unlink()
        laptop = run_probe(tmp_path, body, require_all=False)
        assert laptop.returncode == 0, laptop.stdout
        assert "give each an owner that removes it" in laptop.stdout
    finally:
        stray.unlink(missing_ok=True)
