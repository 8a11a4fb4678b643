"""The suite's own top-level options (`c.HubExtensions`): where its service runs and how.

A core module: every layer may read these options; it imports nothing of the suite.
"""

from __future__ import annotations

import ipaddress
import re
from collections import OrderedDict
from typing import TypeVar
from urllib.parse import urlsplit

from traitlets import Dict, Enum, TraitError, Unicode, default, validate
from traitlets.config import Config, Configurable

SERVICE_NAME_RE = re.compile(r"\A[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])\Z")


class HubExtensions(Configurable):
    """Where the hub-extensions service runs and how it is named."""

    service_name = Unicode(
        "hub-extensions",
        help="""
        Name of the JupyterHub managed service that serves the suite's pages and APIs.

        It appears in URLs as `{base_url}services/{service_name}/`. Lowercase letters, digits
        and dashes, 3 to 63 characters. Default: `hub-extensions`.
        """,
    ).tag(config=True)

    service_url = Unicode(
        "http://127.0.0.1:10101",
        help="""
        URL at which the hub and the proxy reach the managed service, e.g.
        `http://127.0.0.1:10101` on one machine (the default) or `http://hub:10101` on
        Zero to JupyterHub, where the service runs in the hub pod. Scheme, host and port only.
        """,
    ).tag(config=True)

    service_bind_ip = Unicode(
        "",
        help="""
        Address the service listens on. Default: the host of `service_url` when it is an IP
        address (`127.0.0.1` for the default URL), else all interfaces (`0.0.0.0`), which is what a
        Kubernetes pod needs.
        """,
    ).tag(config=True)

    service_log_level = Enum(
        ["DEBUG", "INFO", "WARNING", "ERROR"],
        "INFO",
        help="Log level of the managed service process. One of DEBUG, INFO, WARNING, ERROR.",
    ).tag(config=True)

    service_environment = Dict(
        value_trait=Unicode(),
        key_trait=Unicode(),
        help="""
        Extra environment variables for the service process, e.g.
        `{"HTTPS_PROXY": "http://proxy.example.org:3128"}`. The hub passes only a few of its own
        variables to services, so set here what the service needs. Default: none.
        """,
    ).tag(config=True)

    @validate("service_name")
    def _check_service_name(self, proposal):
        value = proposal.value
        if not SERVICE_NAME_RE.match(value):
            raise TraitError(
                f"HubExtensions.service_name: {value!r} is not a valid service name. "
                "Use 3-63 lowercase letters, digits and dashes, e.g. 'hub-extensions'."
            )
        return value

    @validate("service_url")
    def _check_service_url(self, proposal):
        value = proposal.value
        fix = "Use scheme, host and port only, e.g. 'http://127.0.0.1:10101'."
        parts = urlsplit(value)
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
            raise TraitError(
                f"HubExtensions.service_url: {value!r} needs a scheme, host and port. {fix}"
            )
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise TraitError(f"HubExtensions.service_url: {value!r} has a path or query. {fix}")
        return value.rstrip("/")

    @validate("service_bind_ip")
    def _check_bind_ip(self, proposal):
        value = proposal.value
        if not value:  # empty, as earlier versions documented: the default
            return self._bind_ip_from_url()
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise TraitError(
                f"HubExtensions.service_bind_ip: {value!r} is not an IP address. "
                "Use e.g. '127.0.0.1' or '0.0.0.0', or leave it unset."
            ) from None
        return value

    @property
    def service_port(self) -> int:
        return urlsplit(self.service_url).port  # type: ignore[return-value]

    @default("service_bind_ip")
    def _bind_ip_from_url(self) -> str:
        host = urlsplit(self.service_url).hostname or ""
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return "0.0.0.0"
        return host

    @property
    def bind_ip(self) -> str:
        """The address to listen on (`service_bind_ip`, derived from `service_url` by default)."""
        return self.service_bind_ip


def load(config: Config) -> HubExtensions:
    """The suite's options from a checked config (built once per config object)."""
    return options_for(HubExtensions, config)


_C = TypeVar("_C", bound=Configurable)
#: Option objects built from a config: (class, id of the config) -> (the config, the object).
_BUILT: OrderedDict[tuple[type, int], tuple[Config, Configurable]] = OrderedDict()
#: A hub has one final config; unit tests make many: the oldest are dropped past this many.
MAX_BUILT = 64


def options_for(cls: type[_C], config: Config) -> _C:
    """The `cls` options of `config`, built (and validated) the first time they are asked for
    and then shared: a hub's spawners, hooks and pages all read its one final config object,
    so each section is built once per process instead of once per render or spawn."""
    key = (cls, id(config))
    hit = _BUILT.get(key)
    if hit is not None and hit[0] is config:
        _BUILT.move_to_end(key)
        return hit[1]  # type: ignore[return-value]
    built = cls(config=config)
    _BUILT[key] = (config, built)
    while len(_BUILT) > MAX_BUILT:
        _BUILT.popitem(last=False)
    return built
