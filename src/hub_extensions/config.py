"""The suite's top-level options, and one check of every option at hub start."""

from __future__ import annotations

import difflib
import inspect
import ipaddress
import json
import logging
import os
import re
from datetime import datetime, timezone
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from traitlets import Dict, Enum, TraitError, Unicode, validate
from traitlets.config import Config, Configurable

from .config_values import option_value

log = logging.getLogger("hub_extensions")
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
        Address the service listens on. Empty (the default) means the host of `service_url`
        when it is an IP address, else all interfaces (`0.0.0.0`), which is what a Kubernetes
        pod needs.
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
        if value:
            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise TraitError(
                    f"HubExtensions.service_bind_ip: {value!r} is not an IP address. "
                    "Use e.g. '127.0.0.1' or '0.0.0.0', or leave it empty."
                ) from None
        return value

    @property
    def service_port(self) -> int:
        return urlsplit(self.service_url).port  # type: ignore[return-value]

    @property
    def bind_ip(self) -> str:
        if self.service_bind_ip:
            return self.service_bind_ip
        host = urlsplit(self.service_url).hostname or ""
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return "0.0.0.0"
        return host


def _configurables() -> list[type[Configurable]]:
    from .builds.config import Builds
    from .cost.config import Cost
    from .usage.config import Usage

    return [HubExtensions, Builds, Usage, Cost]


#: Every Configurable of the suite; check_config() validates each section of these.
CONFIGURABLES: list[type[Configurable]] = _configurables()

_TYPE_ERROR_RE = re.compile(r"\AThe '(?P<name>\w+)' trait of an? \w+ instance (?P<rest>.*)\Z", re.S)


def _describe(cls: type[Configurable], key: str, err: TraitError) -> str:
    message = str(err)
    m = _TYPE_ERROR_RE.match(message)
    if m:
        return (
            f"{cls.__name__}.{key}: {m.group('rest')} See `hub-extensions check-config --help-all`."
        )
    if message.startswith(f"{cls.__name__}."):
        return message
    return f"{cls.__name__}.{key}: {message}"


def _extra_checks() -> list:
    from .builds.config import check_builds
    from .cost.config import check_cost
    from .usage.config import check_usage

    return [check_builds, check_usage, check_cost]


def check_config(config: Config, warnings: list[str] | None = None) -> list[str]:
    """Return one message per problem in the suite's sections of `config` (empty when valid).

    Findings that do not stop the hub (e.g. profile_list keys that have no effect) are appended
    to `warnings` when a list is given.
    """
    from .auth.presets import check_cilogon_presets
    from .profiles.checks import check_profiles

    problems: list[str] = check_profiles(config, warnings)
    problems += check_cilogon_presets(config, warnings)
    problems += check_section_names(config)
    for check in _extra_checks():
        problems.extend(check(config))
    for cls in CONFIGURABLES:
        if cls.__name__ not in config:
            continue
        section = config[cls.__name__]
        known = set(cls.class_trait_names(config=True))
        for key, value in section.items():
            if key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                hint = f" Did you mean {cls.__name__}.{close[0]}?" if close else ""
                problems.append(f"{cls.__name__}.{key}: unknown option.{hint}")
                continue
            try:
                # checked as the object will get it (a `.append(...)` edit applied), without
                # resolving the admin's lazy value in place
                value = option_value(config, cls, key)
                cls(config=Config({cls.__name__: {key: value}}))
            except TraitError as err:
                problems.append(_describe(cls, key, err))
    return problems


#: How close a configuration section's name must be to one of the suite's class names to be
#: taken for a typo of it (difflib's ratio: "Buidls" vs "Builds" is 0.83).
TYPO_CUTOFF = 0.8


def suite_class_names() -> list[str]:
    """The classes of the suite an admin configures: options, spawners, authenticator."""
    names = [cls.__name__ for cls in CONFIGURABLES]
    for group in ("jupyterhub.spawners", "jupyterhub.authenticators"):
        for ep in entry_points(group=group):
            if ep.value.startswith("hub_extensions."):
                names.append(ep.value.rpartition(":")[2])
    return names


def _known_class_names() -> set[str]:
    """Configurable classes that exist here: loaded ones, and every spawner, authenticator and
    proxy that an installed package registers (their names, without importing them)."""
    seen: set[str] = set()
    todo: list[type] = [Configurable]
    while todo:
        cls = todo.pop()
        sub: type
        for sub in cls.__subclasses__():
            if sub.__name__ not in seen:
                seen.add(sub.__name__)
                todo.append(sub)
    for group in ("jupyterhub.spawners", "jupyterhub.authenticators", "jupyterhub.proxies"):
        seen.update(ep.value.rpartition(":")[2] for ep in entry_points(group=group))
    return seen


def check_section_names(config: Config) -> list[str]:
    """A section named like one of the suite's classes but not quite (`c.Buidls.max_builds`)
    is a typo whose options would be ignored in silence: a problem, with the likely name."""
    ours = suite_class_names()
    known: set[str] | None = None
    problems = []
    for section in config:
        if section in ours or not section[:1].isupper():
            continue
        close = difflib.get_close_matches(section, ours, n=1, cutoff=TYPO_CUTOFF) or [
            name for name in ours if name[0] == section[0] and _one_edit_apart(section, name)
        ]  # short names (difflib finds 'Cots' too far from 'Cost'); 'Host' is no typo of it
        if not close:
            continue
        if known is None:
            known = _known_class_names()
        if section in known:
            continue
        options = list(config[section]) if isinstance(config[section], Config) else []
        meant = close[0]
        set_here = ", ".join(f"{section}.{o}" for o in options) or section
        traits = {c.__name__: set(c.class_trait_names(config=True)) for c in CONFIGURABLES}
        fits = options and options[0] in traits.get(meant, {options[0]})
        example = f"{meant}.{options[0]}" if fits else meant
        problems.append(
            f"{section}: unknown configuration class; the hub would ignore {set_here}. "
            f"Did you mean {example}?"
        )
    return problems


def _one_edit_apart(a: str, b: str) -> bool:
    """One letter changed, added, dropped, or two neighbours swapped (`Cots` for `Cost`)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )  # fmt: skip
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def load(config: Config) -> HubExtensions:
    """The suite's options from a checked config."""
    return HubExtensions(config=config)


def reference_markdown() -> str:
    """The configuration reference (docs/configuration.md), generated from the help texts."""
    out = [
        "# Configuration reference",
        "",
        "Generated from the traitlets help texts by `hub-extensions config-reference`;",
        "do not edit by hand. Set options in `jupyterhub_config.py`, e.g.",
        '`c.HubExtensions.service_url = "http://hub:10101"`.',
    ]
    for cls in CONFIGURABLES:
        out += ["", f"## {cls.__name__}", "", inspect.getdoc(cls) or ""]
        for name, trait in sorted(cls.class_traits(config=True).items()):
            default = trait.default_value_repr()
            out += [
                "",
                f"### `{cls.__name__}.{name}`",
                "",
                f"{type(trait).__name__}, default `{default}`.",
                "",
                inspect.cleandoc(trait.help),
            ]
    out += _profiles_reference() + _cilogon_reference()
    return "\n".join(out) + "\n"


def _cilogon_reference() -> list[str]:
    try:
        from .auth.cilogon import CILogonPresetsAuthenticator as cls
    except ImportError:  # oauthenticator not installed: nothing to document here
        return []
    out = [
        "",
        "## CILogonPresetsAuthenticator",
        "",
        "Entry point `cilogon-presets`; a CILogonOAuthenticator configured by presets",
        "(see docs/cilogon.md). Its own options (the rest are CILogonOAuthenticator's):",
    ]
    for name, trait in sorted(cls.class_own_traits(config=True).items()):
        out += [
            "",
            f"### `{cls.__name__}.{name}`",
            "",
            f"{type(trait).__name__}, default `{trait.default_value_repr()}`.",
            "",
            inspect.cleandoc(trait.help),
        ]
    return out


def _profiles_reference() -> list[str]:
    from .profiles.spawner_mixin import ProfilesMixin

    trait = ProfilesMixin.class_traits()["profile_list"]
    groups = []
    for name in ("allowed_groups_ignore_case", "groups_from_auth_state"):
        t = ProfilesMixin.class_traits()[name]
        groups += [
            "",
            f"### `<ProfilesSpawner>.{name}`",
            "",
            f"{type(t).__name__}, default `{t.default_value_repr()}`.",
            "",
            inspect.cleandoc(t.help),
        ]
    return [
        "",
        "## Profiles spawners",
        "",
        "Spawner classes with the profiles form, by entry point: `profiles-local`",
        "(LocalProcessSpawner), `profiles-docker` (DockerSpawner), `profiles-loopback-docker`",
        "(DockerSpawner on the host's loopback network), `profiles-kubernetes` (KubeSpawner).",
        "Set the option on the class, e.g. `c.ProfilesDockerSpawner.profile_list = [...]`.",
        "",
        "### `<ProfilesSpawner>.profile_list`",
        "",
        f"List, dict or callable, default `{trait.default_value_repr()}`.",
        "",
        inspect.cleandoc(trait.help),
        *groups,
    ]


#: Where the hub leaves its configuration findings for the service (next to the default ledger).
PROBLEMS_FILENAME = "hub-extensions-config-problems.json"
#: At most this many distinct findings at spawn time are kept (a callable could vary forever).
MAX_RUNTIME_PROBLEMS = 200


def problems_path(hub_db_url: str = "") -> Path:
    """The findings file: next to the hub's SQLite database, else in its working directory."""
    from .usage.config import default_db_url

    return Path(make_url(default_db_url(hub_db_url)).database or PROBLEMS_FILENAME).with_name(
        PROBLEMS_FILENAME
    )


class ConfigProblems:
    """Configuration findings, from the hub process to the admin's page in the service.

    The hub writes them, the service reads them, through one small JSON file that the hub
    replaces atomically: the warnings of the start check, then each distinct problem found
    when a callable `profile_list` is evaluated for a user. A managed service always runs on
    the hub's machine, so the file needs no network, no token and no schema migration, and
    it outlives a restart of either process (the hub starts it afresh at each start).
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.started = ""
        self.warnings: list[str] = []
        self.runtime: list[dict] = []
        self._seen: set[str] = set()

    def start(self, path: Path | None, warnings: list[str]) -> None:
        self.path, self.warnings = path, list(warnings)
        self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.runtime, self._seen = [], set()
        self._write()

    def report(self, problems: list[Any], context: str) -> None:
        """Log and share each problem (a `profiles.Problem`) the first time it is seen."""
        new = [p for p in problems if str(p) not in self._seen]
        for p in new:
            self._seen.add(str(p))
            if p.refusal:
                log.error("hub-extensions: %s: withheld from users: %s", context, p)
            else:
                log.warning("hub-extensions: %s: %s", context, p)
            if len(self.runtime) < MAX_RUNTIME_PROBLEMS:
                self.runtime.append({
                    "message": str(p),
                    "refused": bool(p.refusal),
                    "seen": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                })  # fmt: skip
        if new:
            self._write()

    def as_dict(self) -> dict:
        return {"started": self.started, "warnings": self.warnings, "runtime": self.runtime}

    def _write(self) -> None:
        if self.path is None:
            return
        try:
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            tmp.write_text(json.dumps(self.as_dict()))
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except OSError as err:
            log.error("hub-extensions: cannot write %s for the admin's page: %s", self.path, err)

    @staticmethod
    def load(path: Path) -> dict | None:
        """What the hub wrote, or None when there is nothing (yet) or it cannot be read."""
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


#: The hub process's findings; `wiring.finalize` points it at the file.
CONFIG_PROBLEMS = ConfigProblems()
