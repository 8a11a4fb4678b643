"""Sphinx configuration of the hub-extensions docs site (MyST Markdown, Furo theme).

Build it with: .venv/bin/sphinx-build -W --keep-going -n -b html docs build/docs
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Read, not imported: the docs build needs neither the package nor JupyterHub installed.
_version_file = (ROOT / "src" / "hub_extensions" / "_version.py").read_text()
release = re.search(r'__version__ = "([^"]+)"', _version_file).group(1)
version = release

project = "hub-extensions"
author = "hub-extensions contributors"
copyright = "hub-extensions contributors"

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# Headings get anchors, so pages can link to `page.md#a-heading`.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]

html_theme = "furo"
html_title = f"hub-extensions {release}"
html_static_path: list[str] = []
