"""The docs site builds with Sphinx, warnings as errors, and holds the pages admins need.

One build (`sphinx-build -W --keep-going -n`, as CI and docs/development.md run it) per
module; the tests read its HTML. The configuration reference page is docs/configuration.md,
whose currency against the help texts tests/test_cli.py checks. Not covered: how the pages
look in a browser, and links to other sites (no network here).
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib.util import find_spec
from pathlib import Path

import pytest

from hub_extensions._version import __version__
from hub_extensions.checks import CONFIGURABLES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: What issue 16 asks the site to have, by page name
REQUIRED_PAGES = [
    "zero-to-jupyterhub",
    "install-single-machine",
    "architecture",
    "configuration",
    "upgrading",
    "troubleshooting",
    "changelog",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs-site")
    command = ["sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html", str(DOCS), str(out)]
    result = subprocess.run(
        [sys.executable, "-m", *command],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, (
        "the docs site does not build cleanly (warnings are errors):\n"
        + result.stdout[-3000:]
        + result.stderr[-5000:]
    )
    return out


def page_text(site: Path, name: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", (site / f"{name}.html").read_text()))


def test_every_page_of_the_docs_folder_is_in_the_site_and_the_index_links_the_required_ones(
    site,
):
    sources = {p.stem for p in DOCS.glob("*.md")}
    built = {p.stem for p in site.glob("*.html")}
    assert sources <= built, f"pages not built: {sorted(sources - built)}"
    index = (site / "index.html").read_text()
    for name in REQUIRED_PAGES:
        assert f'href="{name}.html"' in index, f"{name} is not linked from the index"


def test_the_configuration_page_lists_every_option_from_the_help_texts(site):
    text = page_text(site, "configuration")
    assert "Generated from the traitlets help texts" in text
    for cls in CONFIGURABLES:
        for name in cls.class_traits(config=True):
            assert f"{cls.__name__}.{name}" in text, f"{cls.__name__}.{name} missing"


def test_the_architecture_page_shows_the_diagram_of_every_part(site):
    assert (site / "_images" / "architecture.svg").is_file()
    assert 'src="_images/architecture.svg"' in (site / "architecture.html").read_text()
    # our own file: well-formed, or this raises
    svg = ET.parse(DOCS / "images" / "architecture.svg").getroot()  # noqa: S314
    words = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    for part in [
        "JupyterHub",
        "hub-extensions service",
        "ledger",
        "SQLite",
        "PostgreSQL",
        "repo2docker",
        "BinderHub",
        "configurable-http-proxy",
        "registry",
    ]:
        assert part in words, f"the diagram does not show {part}"


def test_troubleshooting_quotes_the_messages_the_code_and_jupyterhub_give(site):
    text = page_text(site, "troubleshooting")
    jupyterhub_app = (Path(find_spec("jupyterhub").origin).parent / "app.py").read_text()
    # JupyterHub's own critical line when a managed service does not answer at start
    assert '"Cannot connect to %s service %s",\n' in jupyterhub_app
    assert "Cannot connect to hub-extensions service managed" in text
    budget = (ROOT / "src" / "hub_extensions" / "cost" / "budget.py").read_text()
    assert "You can start a server again on {when}, or ask the hub's admin" in budget
    assert "You can start a server again on 2026-04-01 at 00:00 Europe/Berlin, or ask" in text
    for topic in ["image_pull_secrets", "buildPodsRegistryCredentials", "oauth_callback_url"]:
        assert topic in text


def test_the_single_machine_config_in_the_docs_passes_check_config_strict(tmp_path, capsys):
    """The page's jupyterhub_config.py, as a reader copies it; the page's commands were run by
    hand (a hub with PAM accounts and LocalProcessSpawner), which this does not repeat."""
    from hub_extensions.cli import main

    page = (DOCS / "install-single-machine.md").read_text()
    blocks = re.findall(r"```python\n(# /etc/jupyterhub/jupyterhub_config\.py.*?)```", page, re.S)
    assert blocks, "the page has no jupyterhub_config.py block"
    for number, block in enumerate(blocks):
        config = tmp_path / f"config{number}.py"
        config.write_text(block)
        status = main(["check-config", "--strict", str(config)])
        out = capsys.readouterr()
        assert status == 0, out.err
        assert out.out.strip().endswith("hub-extensions options are valid"), out.out


def test_the_changelog_has_one_section_per_version_the_first_being_this_one():
    headings = re.findall(r"^## (.+)$", (ROOT / "CHANGELOG.md").read_text(), re.M)
    versions = [h.split()[0] for h in headings]
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in versions), headings
    assert len(versions) == len(set(versions)), f"a version has two sections: {headings}"
    release = re.match(r"\d+\.\d+\.\d+", __version__).group(0)
    assert versions[0] == release, f"the first section is {headings[0]}, the package {release}"
    if __version__ != release:  # a .devN version: its section says it is not released yet
        assert headings[0] == f"{release} (unreleased)"
