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


def test_demo_refuses_a_missing_config_file_before_starting_anything(tmp_path):
    result = cli("demo", "--config", str(tmp_path / "my_profiles.py"), "--port", "1")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"hub-extensions demo: --config {tmp_path / 'my_profiles.py'}: no such file. Give the "
        "path of a Python file of c.… settings, e.g. hub-extensions demo --config my_profiles.py"
    )
    assert result.stdout == ""  # not even the port check ran (port 1 would need root)
    result = cli("demo", "--config", str(tmp_path))
    assert result.returncode == 2
    assert f"--config {tmp_path}: not a file." in result.stderr


def test_demo_help_documents_the_config_option():
    result = cli("demo", "--help")
    assert "--config FILE" in result.stdout
    assert "loaded after the demo's own configuration" in " ".join(result.stdout.split())


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


Z2JH_LIST = """
c = get_config()
c.JupyterHub.spawner_class = "profiles-kubernetes"
c.ProfilesKubeSpawner.profile_list = [
    {"display_name": "Python", "slug": "python", "kubespawner_override": {"default": True},
     "profile_options": {"image": {"display_name": "Image", "choices": {
         "py": {"display_name": "Pangeo", "slug": "pangeo",
                "kubespawner_override": {"image": "pangeo/pangeo-notebook:2024.01.01"}}},
         "unlisted_choice": {"enabled": True, "description": "Any image",
                             "kubespawner_override": {"image": "{value}"}}}}},
]
"""


def test_check_config_warns_and_strict_fails_on_warnings(tmp_path):
    config = tmp_path / "jupyterhub_config.py"
    config.write_text(Z2JH_LIST)
    result = cli("check-config", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("hub-extensions options are valid (3 warning(s))")
    warnings = result.stderr.strip().splitlines()
    assert [w.split(":", 2)[1] for w in warnings] == [
        " ProfilesKubeSpawner.profile_list[0].kubespawner_override.default",
        " ProfilesKubeSpawner.profile_list[0].profile_options.image.choices.py.slug",
        " ProfilesKubeSpawner.profile_list[0].profile_options.image.unlisted_choice.description",
    ]
    assert all(w.startswith("warning: ") and " Fix: " in w for w in warnings)

    strict = cli("check-config", "--strict", str(config))
    assert strict.returncode == 1
    assert strict.stdout == ""
    assert [w.replace("error: ", "warning: ", 1) for w in strict.stderr.strip().splitlines()] == (
        warnings
    )


def test_check_config_reports_every_refusal_at_once(tmp_path):
    config = tmp_path / "jupyterhub_config.py"
    config.write_text(
        "c = get_config()\n"
        "c.JupyterHub.spawner_class = 'profiles-kubernetes'\n"
        "c.ProfilesKubeSpawner.profile_list = [\n"
        "    {'slug': 'no-name'},\n"
        "    {'display_name': 'A', 'profile_options': {'o': {}}},\n"
        "    {'display_name': 'B', 'kubespawner_override': {'start': 1}},\n"
        "    {'display_name': 'b'},\n"
        "]\n"
    )
    result = cli("check-config", str(config))
    assert result.returncode == 1
    assert [line.split(":", 1)[0] for line in result.stderr.strip().splitlines()] == [
        "ProfilesKubeSpawner.profile_list[0].display_name",
        "ProfilesKubeSpawner.profile_list[1].profile_options.o",
        "ProfilesKubeSpawner.profile_list[2].kubespawner_override.start",
        "ProfilesKubeSpawner.profile_list[3].slug",
    ]


def test_check_config_shows_cilogon_warnings_and_strict_fails_on_them(tmp_path):
    config = tmp_path / "jupyterhub_config.py"
    config.write_text(
        "c = get_config()\n"
        "c.JupyterHub.authenticator_class = 'cilogon-presets'\n"
        "c.CILogonPresetsAuthenticator.oauth_callback_url = 'https://hub.example.org/hub/oauth_callback'\n"
        "c.CILogonPresetsAuthenticator.client_id = 'cilogon:/client_id/1'\n"
        "c.CILogonPresetsAuthenticator.client_secret = 'x'\n"
        "c.CILogonPresetsAuthenticator.providers = [\n"
        "    {'preset': 'institution', 'entity_id': 'urn:mace:incommon:ucmerced.ed'},\n"
        "]\n"
    )
    result = cli("check-config", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("hub-extensions options are valid (1 warning(s))")
    (warning,) = result.stderr.strip().splitlines()
    assert warning.startswith("warning: ")
    assert "Did you mean 'urn:mace:incommon:ucmerced.edu'?" in warning
    strict = cli("check-config", "--strict", str(config))
    assert strict.returncode == 1
    assert strict.stderr.strip() == warning.replace("warning: ", "error: ", 1)
