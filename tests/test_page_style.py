"""JupyterHub's stylesheet for the spawn page, split from its leading @imports (page_style.py).

The real file is the one installed JupyterHub ships; the other cases are small stylesheets
written here. What is not covered here: the browser's cascade (test_profiles_browser compares
the computed styles of the two pages) and the service's headers (test_profiles_hub).
"""

from __future__ import annotations

import gzip
import os
import re
import shutil

import pytest
from tornado.web import StaticFileHandler
from traitlets.config import Config

from hub_extensions import page_style
from hub_extensions.contract import HUB_DATA_FILES_ENV
from hub_extensions.wiring import wire

pytestmark = pytest.mark.unit

FA = "components/@fortawesome/fontawesome-free/css"


def test_jupyterhubs_stylesheet_is_its_imports_and_the_rest_unchanged():
    root = page_style.static_root()
    original = (root / page_style.STYLESHEET).read_text(encoding="utf-8")
    style = page_style.load()
    assert style is not None
    assert style.imports == (f"{FA}/fontawesome.css", f"{FA}/solid.css")
    assert all((root / path).is_file() for path in style.imports)
    body = style.body.decode()
    assert "@import" not in body
    # exactly the original without its import statements: the license comment, every rule
    assert re.sub(r'@import\s*"[^"]+";', "", original) == body
    assert gzip.decompress(style.gzipped) == style.body
    assert len(style.gzipped) < len(style.body) / 4
    assert re.fullmatch(r"[0-9a-f]{16}", style.version)
    assert page_style.load() is style  # read once while the file is unchanged


@pytest.fixture
def static(tmp_path):
    """A data_files_path with a static folder holding two importable sheets."""
    css = tmp_path / "static" / "css"
    css.mkdir(parents=True)
    for name in ("a.css", "b.css"):
        (tmp_path / "static" / "lib" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "static" / "lib" / name).write_text(f".{name[0]}{{color:red}}")
    (tmp_path / "outside.css").write_text(".o{}")
    return tmp_path


def write(static, text: str) -> None:
    path = static / "static" / page_style.STYLESHEET
    path.write_text(text, encoding="utf-8")
    # another size or mtime is another version of the file (the cache's key)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


@pytest.mark.parametrize(
    ("text", "imports", "body"),
    [
        ('@import "../lib/a.css";.x{}', ["lib/a.css"], ".x{}"),
        ("@import '../lib/a.css' ;\n@import url(../lib/b.css);.x{}", ["lib/a.css", "lib/b.css"],
         "\n.x{}"),
        ('\ufeff/* license */ @import url( "../lib/a.css" );/* kept */.x{}', ["lib/a.css"],
         "\ufeff/* license */ /* kept */.x{}"),
        ('@import"./../lib/b.css";.x{}', ["lib/b.css"], ".x{}"),
    ],
)  # fmt: skip
def test_leading_relative_imports_are_taken_out(static, text, imports, body):
    write(static, text)
    style = page_style.load(str(static))
    assert style is not None
    assert list(style.imports) == imports
    assert style.body.decode() == body


@pytest.mark.parametrize(
    "text",
    [
        ".x{}",  # nothing to take out: JupyterHub's link as it is
        '@import "../lib/a.css" screen;.x{}',  # a media query
        '@import "https://cdn.example/a.css";.x{}',
        '@import "/hub/static/lib/a.css";.x{}',
        '@import "../lib/a.css?v=1";.x{}',
        '@import "../lib/missing.css";.x{}',
        '@import "../../outside.css";.x{}',  # a file outside the static folder
        '@import "../lib\\\\a.css";.x{}',
        '@charset "utf-8";@import "../lib/a.css";.x{}',  # not a form this understands
        '@import "../lib/a.css";.x{}@import "../lib/b.css";',
        "@import url(../lib/a.css;.x{}",
    ],
)
def test_anything_else_keeps_jupyterhubs_own_link(static, text):
    write(static, text)
    assert page_style.load(str(static)) is None


def test_a_missing_or_unreadable_stylesheet_keeps_jupyterhubs_own_link(static, tmp_path):
    assert page_style.load(str(tmp_path / "nowhere")) is None
    (static / "static" / page_style.STYLESHEET).write_bytes(b"\xff\xfe\x00 not utf-8 \xff")
    assert page_style.load(str(static)) is None


def test_a_changed_stylesheet_gets_a_new_version(static):
    write(static, '@import "../lib/a.css";.x{}')
    first = page_style.load(str(static))
    write(static, '@import "../lib/a.css";.y{}')
    second = page_style.load(str(static))
    assert first is not None
    assert second is not None
    assert first.version != second.version
    assert second.body == b".y{}"
    shutil.rmtree(static / "static" / "lib")
    write(static, '@import "../lib/a.css";.z{}')
    assert page_style.load(str(static)) is None


def test_the_hub_links_its_own_data_files_and_tells_the_service_where_they_are(static):
    """JupyterHub.data_files_path set by the admin: the page's link is that stylesheet's, and
    the service (which serves it) gets the folder in its environment."""
    write(static, '@import "../lib/a.css";.x{}')
    c = Config()
    c.JupyterHub.data_files_path = str(static)
    added = wire(c).JupyterHub
    assert added.services[-1]["environment"][HUB_DATA_FILES_ENV] == str(static)
    version = page_style.load(str(static)).version
    linked = added.template_vars["hub_extensions"]["page_style"]
    assert linked["href"] == f"/services/hub-extensions/page-style.css?v={version}"
    assert linked["imports"] == ["lib/a.css"]
    a_css = StaticFileHandler.get_content_version(str(static / "static" / "lib" / "a.css"))
    own = StaticFileHandler.get_content_version(str(static / "static" / page_style.STYLESHEET))
    assert linked["links"].splitlines() == [
        f'<link rel="stylesheet" href="/hub/static/lib/a.css?v={a_css}" />',
        f'<link rel="stylesheet" href="{linked["href"]}" onerror="this.onerror=null;this.href='
        f'&#34;/hub/static/css/style.min.css?v={own}&#34;" />',
    ]
    # a stylesheet this does not understand: JupyterHub's own link (no page_style)
    write(static, ".x{}")
    assert wire(c).JupyterHub.template_vars["hub_extensions"]["page_style"] is None
    assert HUB_DATA_FILES_ENV not in wire(Config()).JupyterHub.services[-1]["environment"]
