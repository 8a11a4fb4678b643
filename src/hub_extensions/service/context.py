"""What every handler of the service shares: options, hub URLs, the hub client, templates."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from jupyterhub.services.auth import HubOAuth
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from ..builds.config import HubExtensionsBuilds
from ..cost.config import HubExtensionsCost
from ..options import HubExtensions
from ..usage.config import HubExtensionsUsage

TEMPLATES = Path(__file__).resolve().parent / "templates"


class ServiceEnvironmentError(RuntimeError):
    """The service was started outside JupyterHub (its environment is missing)."""


@dataclass
class HubURLs:
    base_url: str  # e.g. "/" or "/prefix/"
    service_prefix: str  # e.g. "/prefix/services/hub-extensions/"
    api_url: str  # e.g. "http://127.0.0.1:8081/prefix/hub/api"
    service_url: str  # where this service listens, from JupyterHub

    @property
    def hub_prefix(self) -> str:
        return f"{self.base_url}hub/"

    @classmethod
    def from_environment(cls, env=os.environ) -> HubURLs:
        missing = [
            name
            for name in ("JUPYTERHUB_SERVICE_PREFIX", "JUPYTERHUB_API_URL", "JUPYTERHUB_API_TOKEN")
            if not env.get(name)
        ]
        if missing:
            raise ServiceEnvironmentError(
                f"{', '.join(missing)} not set: the service is started by JupyterHub as a managed "
                "service. Add `hub_extensions.setup(c)` to jupyterhub_config.py and start the hub."
            )
        return cls(
            base_url=env.get("JUPYTERHUB_BASE_URL", "/"),
            service_prefix=env["JUPYTERHUB_SERVICE_PREFIX"],
            api_url=env["JUPYTERHUB_API_URL"].rstrip("/"),
            service_url=env.get("JUPYTERHUB_SERVICE_URL", ""),
        )


@dataclass(frozen=True)
class ServiceOptions:
    """The suite's options, built and checked once when the service starts
    (service/application.py); every request reads these objects, none builds its own."""

    hub_extensions: HubExtensions
    builds: HubExtensionsBuilds
    usage: HubExtensionsUsage
    cost: HubExtensionsCost


@dataclass
class ServiceContext:
    options: HubExtensions
    urls: HubURLs
    hub_auth: HubOAuth
    version: str
    builds: Any = None  # a BuildsContext when builds are available
    usage: Any = None  # a UsageStore: read access to the activity ledger
    cost: Any = None  # the Cost options (price table, budgets); `.enabled` when there are prices
    #: the file where the hub shares configuration warnings (see problems.ConfigProblems)
    config_problems_path: Path | None = None
    #: JupyterHub's data_files_path (None: its default), for the pages' stylesheet (page_style.py)
    hub_data_files_path: str | None = None
    http: AsyncHTTPClient = field(default_factory=AsyncHTTPClient)
    hub_status_ttl: float = 10.0
    _hub_status: tuple[float, dict] | None = None
    templates: Environment = field(
        default_factory=lambda: Environment(
            loader=FileSystemLoader(str(TEMPLATES)),
            autoescape=select_autoescape(default=True),
        )
    )

    async def hub_status(self) -> dict:
        """Whether the hub's REST API answers this service's token (cached for a few seconds)."""
        now = time.monotonic()
        if self._hub_status and now - self._hub_status[0] < self.hub_status_ttl:
            return self._hub_status[1]
        try:
            resp = await self.http.fetch(
                f"{self.urls.api_url}/",
                headers={"Authorization": f"token {self.hub_auth.api_token}"},
                request_timeout=5,
            )
            status = {"reachable": True, "version": json.loads(resp.body).get("version")}
        except (HTTPClientError, OSError) as err:
            status = {"reachable": False, "error": str(err)}
        self._hub_status = (now, status)
        return status
