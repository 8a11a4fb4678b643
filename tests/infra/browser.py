"""Headless Debian Chromium driven by Playwright (``playwright install`` cannot download here)."""

from __future__ import annotations

import base64
import hashlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import Unavailable

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # without these Chromium floods the closed network with refused connections
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def find_chromium() -> str:
    for cand in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if cand and Path(cand).is_file():
            return cand
    raise Unavailable("chromium not found (apt-get install chromium)")


def require_playwright() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as e:
        raise Unavailable("the playwright Python package is not installed") from e


def spki_hash(pem_file: Path) -> str:
    """base64(sha256(SubjectPublicKeyInfo)) of the first certificate in `pem_file`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(Path(pem_file).read_bytes())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def launch_chromium(
    playwright: Playwright,
    artifacts_dir: Path | None = None,
    trusted_cert_files: Sequence[Path] = (),
    **launch_kw: Any,
) -> Browser:
    """Launch Debian's Chromium. `artifacts_dir` receives Chromium's own downloads, if any.

    `trusted_cert_files` (e.g. ``OIDCProvider.ca_file``): certificates whose key Chromium accepts
    in a chain the server *sends* (so a CA counts only if the server includes it, as
    OIDCProvider does), via ``--ignore-certificate-errors-spki-list``. Other TLS errors stay."""
    require_playwright()
    executable = find_chromium()
    args = list(CHROMIUM_ARGS)
    if trusted_cert_files:
        hashes = ",".join(spki_hash(Path(f)) for f in trusted_cert_files)
        args.append(f"--ignore-certificate-errors-spki-list={hashes}")
    if artifacts_dir is not None:
        artifacts_dir.mkdir(parents=True, exist_ok=True)
        launch_kw.setdefault("downloads_path", str(artifacts_dir))
    return playwright.chromium.launch(
        executable_path=executable,
        # Playwright adds a bare --headless; our later --headless=new makes the mode explicit
        headless=True,
        args=args,
        **launch_kw,
    )


@dataclass
class PageErrors:
    """Console errors and uncaught page exceptions seen by a page."""

    console: list[str] = field(default_factory=list)
    page: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return [*self.console, *self.page]


def new_page(
    browser: Browser, base_url: str | None = None, **context_kw: Any
) -> tuple[Page, PageErrors]:
    """A page in a fresh context (TLS errors are real errors) with an error collector.

    The collector is also available as ``page.errors``; close the page's context with
    ``page.context.close()`` when done."""
    kw: dict[str, Any] = {"ignore_https_errors": False, "viewport": {"width": 1280, "height": 800}}
    if base_url:
        kw["base_url"] = base_url
    kw.update(context_kw)
    context: BrowserContext = browser.new_context(**kw)
    page = context.new_page()
    errors = PageErrors()

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            loc = msg.location
            errors.console.append(f"{msg.text} ({loc.get('url')}:{loc.get('lineNumber')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.page.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    return page, errors


def sign_in(browser: Browser, hub: Any, user: str, landing: Any = None, **context_kw: Any):
    """A new page signed in to the demo hub `hub` as `user` through its login form; returns
    (page, errors) once the browser has landed on a page matching `landing` (by default, any
    page but the login page: the login form has been accepted)."""
    from .hub import PASSWORD

    page, errors = new_page(browser, **context_kw)
    page.goto(hub.hub_url("login"))
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(landing or (lambda url: "/hub/login" not in url))
    return page, errors
