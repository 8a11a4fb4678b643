"""JupyterHub's stylesheet for the suite's pages, without its render-blocking round trips.

JupyterHub's `css/style.min.css` begins with `@import`s of Font Awesome's stylesheets, by
relative URLs without a version. JupyterHub serves such URLs with `Cache-Control: no-cache`, so
every visit to a page asks the hub again (a 304) before it may draw anything: on a warm load of
the spawn page that round trip was a third of the time to an interactive form. The pages whose
templates the suite extends (spawn.html with the suite's form, home.html) link the imported
sheets by JupyterHub's own versioned `static_url` (cached for good, and fetched side by side on
a cold load), then this copy of `style.min.css` with the leading `@import`s taken out (served by
the service, versioned, precompressed). The rules and their order are JupyterHub's: imported
sheets come before the importing sheet's rules, as the links do.

Anything other than plain relative `@import "…";` lines at the start of the file (a media query,
an absolute URL, a file that is not there) makes `load` return None, and the page keeps
JupyterHub's own link. A core module: the hub (`wiring`) and the service both read it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import posixpath
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

# JupyterHub's default data_files_path (a path computed at import, nothing more)
from jupyterhub._data import DATA_FILES_PATH
from markupsafe import Markup
from tornado.web import StaticFileHandler

#: JupyterHub's stylesheet, relative to its static folder
STYLESHEET = "css/style.min.css"
#: what may come before and between the imports, kept: a byte order mark, white space, comments
_KEEP = re.compile(r"\A(?:\ufeff|\s+|/\*.*?\*/)", re.DOTALL)
#: one `@import "x";`, `@import 'x';` or `@import url(x);`, without a media query
_IMPORT = re.compile(
    r"""\A@import\s*(?:url\(\s*(["']?)([^"')\s;]+)\1\s*\)|(["'])([^"'\s;]+)\3)\s*;"""
)
#: what a relative URL may not contain: a scheme, a query, a fragment, a backslash
_NOT_PLAIN = re.compile(r"\A(?:[a-zA-Z][a-zA-Z0-9+.-]*:|/)|[?#\\]")


@dataclass(frozen=True)
class PageStyle:
    #: the imported sheets, as paths in JupyterHub's static folder, in their order
    imports: tuple[str, ...]
    #: style.min.css without the leading imports
    body: bytes
    #: changes with the body and the imports (the URL's `?v=`)
    version: str

    @cached_property
    def gzipped(self) -> bytes:
        """The body, gzipped once (237 KB of JupyterHub 5's and 6's CSS become about 32 KB)."""
        return gzip.compress(self.body, compresslevel=9, mtime=0)


def static_root(data_files_path: str | None = None) -> Path:
    """JupyterHub's static folder: `<JupyterHub.data_files_path>/static`."""
    return Path(data_files_path or DATA_FILES_PATH) / "static"


def split_imports(css: str, root: Path) -> tuple[tuple[str, ...], str] | None:
    """The leading `@import`s of `css` (a file in `root`/css) as static paths, and the rest."""
    imports: list[str] = []
    kept: list[str] = []
    rest = css
    while True:
        if m := _KEEP.match(rest):
            kept.append(m.group())
        elif m := _IMPORT.match(rest):
            url = m.group(2) or m.group(4)
            if _NOT_PLAIN.search(url):
                return None
            path = posixpath.normpath(posixpath.join(posixpath.dirname(STYLESHEET), url))
            if path.startswith("../") or path == ".." or not (root / path).is_file():
                return None
            imports.append(path)
        else:
            break
        rest = rest[m.end() :]
    # an @import further on is one this does not understand (after @charset, say)
    if not imports or "@import" in rest:
        return None
    return tuple(imports), "".join(kept) + rest


def links(style: PageStyle, data_files_path: str | None, base_url: str, href: str) -> Markup:
    """The pages' stylesheet links, built once (a render then does no URL work): the
    imported sheets by JupyterHub's versioned static URLs (the `?v=` tornado's `static_url`
    gives them), then `href`, falling back to JupyterHub's own stylesheet should it fail."""
    root = static_root(data_files_path)
    prefix = f"{base_url}hub/static/"

    def url(path: str) -> str:
        return f"{prefix}{path}?v={StaticFileHandler.get_content_version(str(root / path))}"

    link = Markup('<link rel="stylesheet" href="{}" />')
    tags = [link.format(url(path)) for path in style.imports]
    fallback = f"this.onerror=null;this.href={json.dumps(url(STYLESHEET))}"
    last = Markup('<link rel="stylesheet" href="{}" onerror="{}" />')
    tags.append(last.format(href, fallback))
    return Markup("\n").join(tags)


def load(data_files_path: str | None = None) -> PageStyle | None:
    """The page's stylesheet from JupyterHub's static folder, or None to keep JupyterHub's link."""
    path = static_root(data_files_path) / STYLESHEET
    try:
        st = path.stat()
    except OSError:
        return None
    return _load(str(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int, size: int) -> PageStyle | None:
    try:
        css = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    split = split_imports(css, Path(path).parent.parent)
    if split is None:
        return None
    imports, rest = split
    body = rest.encode()
    digest = hashlib.sha256("\n".join(imports).encode() + b"\0" + body).hexdigest()
    return PageStyle(imports, body, digest[:16])
