"""The `hub-extensions` command as an admin runs it: check-config on example and broken files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hub_extensions.demo.runner import DemoError, check_port_free

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hub_extensions.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "example", sorted((ROOT / "jupyter-config").glob("*.py")), ids=lambda p: p.name
)
def test_example_configs_are_valid(example):
    result = cli("check-config", str(example))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("hub-extensions options are valid")


def test_check_config_names_every_bad_option(tmp_path):
    bad = tmp_path / "jupyterhub_config.py"
    bad.write_text(
        "c = get_config()\n"
        "c.HubExtensions.service_url = 'http://hub'\n"
        "c.HubExtensions.service_log_level = 'CHATTY'\n"
    )
    result = cli("check-config", str(bad))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(
        "HubExtensions.service_url: 'http://hub' needs a scheme, host and port."
    )
    assert lines[1].startswith("HubExtensions.service_log_level: ")
    assert "'CHATTY'" in lines[1]
    assert "Traceback" not in result.stderr


def test_check_config_on_a_missing_file(tmp_path):
    result = cli("check-config", str(tmp_path / "nope.py"))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"hub-extensions check-config: {tmp_path / 'nope.py'} does not exist"
    )


def test_help_all_documents_every_option():
    result = cli("check-config", "--help-all")
    assert result.returncode == 0
    for option in (
        "service_name",
        "service_url",
        "service_bind_ip",
        "service_log_level",
        "service_environment",
    ):
        assert f"HubExtensions.{option}" in result.stdout


def test_demo_rejects_a_relative_base_url():
    result = cli("demo", "--base-url", "jupyter")
    assert result.returncode == 2
    assert "--base-url: must start with '/', e.g. /jupyter/" in result.stderr


def test_port_check_message_names_the_port_and_the_fix():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(
            DemoError, match=rf"127\.0\.0\.1:{port} is already in use .* --port {port + 1}"
        ):
            check_port_free("127.0.0.1", port)


def test_configuration_reference_in_docs_is_current():
    generated = cli("config-reference").stdout
    assert "### `HubExtensions.service_url`" in generated
    assert (ROOT / "docs" / "configuration.md").read_text() == generated, (
        "docs/configuration.md is stale: hub-extensions config-reference > docs/configuration.md"
    )
