"""Options of the on-the-fly builds, checked at hub start."""

from __future__ import annotations

import ipaddress
import re
import warnings
from pathlib import Path
from urllib.parse import urlsplit

from traitlets import Enum, Float, Int, List, TraitError, Unicode, Union, validate
from traitlets.config import Config, Configurable

from .hosts import parse_allowlist
from .repo2docker_args import check_extra_arg_list, parse_memory

PROVIDERS = ("gh", "gl", "git")
GIT_URL_SCHEMES = ("https", "http", "git", "file")

# Docker's reference grammar: path components, lowercase (distribution/reference).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
DOCKER_PATH_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME_RE = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*")


class HubExtensionsBuilds(Configurable):
    """On-the-fly environment builds with repo2docker: what may be built, where, and how."""

    allowed_providers = List(
        Unicode(),
        list(PROVIDERS),
        help="""
        Repository providers users may build from, as BinderHub prefixes: `gh` (GitHub),
        `gl` (GitLab), `git` (any git URL). Default: `["gh", "gl", "git"]`;
        e.g. `["git"]` to allow only URLs matched by `repo_allow`.
        """,
    ).tag(config=True)

    repo_allow = List(
        Unicode(),
        help="""
        Regular expressions; when any is set, a repository must fully match one of them
        (case-insensitive) to be built. Matched against the normalised URL: scheme and host
        lowercased, no trailing `/` or `.git`, e.g. `https://github.com/my-org/.*`.
        Default: empty (everything not denied).
        """,
    ).tag(config=True)

    repo_deny = List(
        Unicode(),
        help="""
        Regular expressions of repositories never built (full, case-insensitive match against
        the normalised URL; deny wins over allow), e.g. `["file://.*", "https://github.com/evil/.*"]`.
        Default: empty.
        """,
    ).tag(config=True)

    git_url_schemes = List(
        Unicode(),
        ["https"],
        help="""
        URL schemes allowed for `git/` specs, a subset of `https`, `http`, `git`, `file`
        (ssh and git's `ext::`/`fd::` transports are never allowed). `file` lets users build
        any git repository the service can read on its machine, private ones included: only
        for single-user or test hubs. Default: `["https"]`; e.g. `["https", "git"]`.
        """,
    ).tag(config=True)

    allowed_internal_hosts = List(
        Unicode(),
        help="""
        Hosts on loopback, link-local or private networks that `git/` repositories may be
        fetched from: host names, addresses or networks (CIDR), e.g.
        `["git.internal.example.org", "10.20.0.0/16"]`. Every other host must resolve only to
        global addresses: without this check a user could make the service reach the hub's
        own ports, the cloud's metadata address or the private network. The host is checked
        when the build is asked for and again before the clone, and over http(s) git connects
        only to the addresses checked; a host listed by name is trusted as named (see "What
        builds may reach" in docs/builds.md). Default: empty (only public hosts).
        """,
    ).tag(config=True)

    max_queued_builds = Int(
        20,
        help="""
        Builds that may wait for a slot across all users. A request over it gets a `failed`
        event with `status_code` 429 and a `Retry-After` header; requests for a build already
        running or queued still attach to it. Default: 20, e.g. 50.
        """,
    ).tag(config=True)

    max_queued_builds_per_user = Int(
        2,
        help="""
        Builds one user may have waiting for a slot (besides those running); more are refused
        with 429, as for `max_queued_builds`. Default: 2, e.g. 5.
        """,
    ).tag(config=True)

    queue_retry_after = Int(
        60,
        help="""
        Seconds a request refused because the queue is full is told to wait before trying
        again (the message and the `Retry-After` header). Default: 60, e.g. 300.
        """,
    ).tag(config=True)

    max_builds = Int(
        2,
        help="Builds running at once across all users; more wait in a queue. Default: 2, e.g. 4.",
    ).tag(config=True)

    max_builds_per_user = Int(
        1,
        help="Builds one user may run at once; more wait in a queue. Default: 1, e.g. 2.",
    ).tag(config=True)

    build_timeout = Float(
        1800,
        help="Seconds after which a build is stopped and reported as failed. Default: 1800.",
    ).tag(config=True)

    image_prefix = Unicode(
        "hub-extensions-builds/",
        help="""
        Prefix of built image names, as BinderHub's `image_prefix` but without the registry
        (that is `registry`): the name is `{registry}/{image_prefix}{escaped slug}-{hash}:{sha}`.
        Lowercase letters, digits, `.`, `-`, `/`. Default: `hub-extensions-builds/`;
        e.g. `my-org/binder-`.
        """,
    ).tag(config=True)

    registry = Unicode(
        "",
        help="""
        Registry that built images are pushed to, `host:port` or `host`, e.g. `127.0.0.1:5000`
        or `registry.example.org`. Default: empty, which keeps images in the local Docker engine.
        """,
    ).tag(config=True)

    build_memory_limit = Union(
        [Int(), Unicode()],
        default_value=0,
        help="""
        Memory limit of one build, bytes or a size such as `"2G"` (K, M, G, T are 1024-based).
        The local executor makes a cgroup with this limit for each build and passes it to
        `docker buildx build --cgroup-parent`, so a step over it is killed and the build fails.
        Needs root (or a delegated cgroup tree), the engine's cgroupfs driver, and BuildKit
        >= 0.10 with buildx >= 0.11.1 (older engines' BuildKit ignores a cgroup parent); a
        build that cannot get its cgroup fails with the reason. With the `binderhub` executor,
        set BinderHub's own `build_memory_limit`. Default: 0 (no limit).
        """,
    ).tag(config=True)

    repo2docker_extra_args = List(
        Unicode(),
        help="""
        Extra arguments for repo2docker, passed as an argument list (never through a shell),
        e.g. `["--label", "org.example.team=data", "--Repo2Docker.platform=linux/amd64"]`.
        Options the executor sets are refused: --image-name, --ref, --push, --no-run, --user-id,
        --user-name, --json-logs, --build-memory-limit, --engine, --config, and the run options.
        Default: none.
        """,
    ).tag(config=True)

    extra_ca_certs = List(
        Unicode(),
        help="""
        PEM files of extra certificate authorities made available to build containers, e.g.
        `["/etc/ssl/certs/campus-proxy.pem"]` behind a TLS-inspecting proxy. Default: none.
        """,
    ).tag(config=True)

    signing_key = Unicode(
        "",
        help="""
        Secret (at least 32 characters) for the HMAC that signs built images for a user, e.g.
        the output of `openssl rand -hex 32`. Default: empty, which uses `signing_key_file`.
        """,
    ).tag(config=True)

    signing_key_file = Unicode(
        "hub-extensions-build-signing.key",
        help="""
        File holding the signing key when `signing_key` is empty; created with mode 0600 if
        missing. Relative paths are relative to the service's working directory (the hub's).
        Default: `hub-extensions-build-signing.key`; e.g. `/srv/jupyterhub/build-signing.key`.
        """,
    ).tag(config=True)

    executor = Enum(
        ["local-repo2docker", "binderhub"],
        "local-repo2docker",
        help="""
        Who builds: `local-repo2docker` (repo2docker against this machine's Docker engine,
        the default) or `binderhub` (a BinderHub API at `binderhub_url`, for clusters).
        """,
    ).tag(config=True)

    binderhub_url = Unicode(
        "",
        help="""
        Base URL of the BinderHub API for the `binderhub` executor, e.g.
        `http://binderhub-service:8090/`. Default: empty.
        """,
    ).tag(config=True)

    binderhub_token = Unicode(
        "",
        help="API token sent to BinderHub by the `binderhub` executor. Default: empty.",
    ).tag(config=True)

    keepalive_interval = Float(
        25,
        help="""
        Seconds between `:keepalive` comments on a build's event stream while no event is sent,
        so that proxies and load balancers keep long builds' streams open (BinderHub sends one
        every 25 s). Use less than the idle timeout of every proxy between users and the hub.
        Default: 25, e.g. 10.
        """,
    ).tag(config=True)

    git_ls_remote_timeout = Float(
        15,
        help="Seconds `git ls-remote` may take to resolve a ref. Default: 15, e.g. 30.",
    ).tag(config=True)

    form_token_lifetime = Int(
        3600,
        help="""
        Seconds the spawn form's build token lives. The page carries no token: the build
        panel asks the hub for one when first used, for the user who opened the page, with
        only the service's access scope (`access:services!service=<name>`), and reuses it from
        the tab's sessionStorage while it has more than 5 minutes left (then asks again).
        Default: 3600, e.g. 14400 for long builds started from pages left open.
        """,
    ).tag(config=True)

    @validate("allowed_providers")
    def _check_providers(self, proposal):
        value = proposal.value
        unknown = [p for p in value if p not in PROVIDERS]
        if unknown or not value:
            raise TraitError(
                f"HubExtensionsBuilds.allowed_providers: {value!r} must be a non-empty list of "
                f"{list(PROVIDERS)}. Remove the unknown entries, e.g. ['gh', 'git']."
            )
        return list(dict.fromkeys(value))

    @validate("repo_allow", "repo_deny")
    def _check_patterns(self, proposal):
        for pattern in proposal.value:
            try:
                re.compile(pattern)
            except re.error as err:
                raise TraitError(
                    f"HubExtensionsBuilds.{proposal.trait.name}: {pattern!r} is not a regular "
                    "expression "
                    f"({err}). Fix it, e.g. 'https://github\\.com/my-org/.*'."
                ) from None
        return proposal.value

    @validate("git_url_schemes")
    def _check_schemes(self, proposal):
        value = proposal.value
        if not value or any(s not in GIT_URL_SCHEMES for s in value):
            raise TraitError(
                f"HubExtensionsBuilds.git_url_schemes: {value!r} must be a non-empty subset of "
                f"{list(GIT_URL_SCHEMES)}. Use e.g. ['https']."
            )
        return value

    @validate("allowed_internal_hosts")
    def _check_internal_hosts(self, proposal):
        try:
            parse_allowlist(proposal.value)
        except ValueError as err:
            raise TraitError(
                f"HubExtensionsBuilds.allowed_internal_hosts: {err}. Use host names, addresses or "
                "networks, "
                "e.g. ['127.0.0.1', 'git.internal.example.org', '10.20.0.0/16']."
            ) from None
        return proposal.value

    @validate("max_queued_builds", "max_queued_builds_per_user")
    def _check_queue_caps(self, proposal):
        if proposal.value < 0:
            name = proposal.trait.name
            raise TraitError(
                f"HubExtensionsBuilds.{name}: {proposal.value} is negative. Use 0 or more."
            )
        return proposal.value

    @validate("queue_retry_after")
    def _check_retry_after(self, proposal):
        if proposal.value < 1:
            raise TraitError(
                f"HubExtensionsBuilds.queue_retry_after: {proposal.value} is less than 1 second. "
                "Use e.g. 60."
            )
        return proposal.value

    @validate("max_builds", "max_builds_per_user")
    def _check_counts(self, proposal):
        if proposal.value < 1:
            name = proposal.trait.name
            raise TraitError(
                f"HubExtensionsBuilds.{name}: {proposal.value} is less than 1. Use 1 or more."
            )
        return proposal.value

    @validate("form_token_lifetime")
    def _check_form_token_lifetime(self, proposal):
        if proposal.value < 60:
            raise TraitError(
                f"HubExtensionsBuilds.form_token_lifetime: {proposal.value} is under 60 seconds, "
                "too short "
                "to start a build. Use 60 or more, e.g. 3600."
            )
        return proposal.value

    @validate("build_timeout", "git_ls_remote_timeout", "keepalive_interval")
    def _check_timeouts(self, proposal):
        if not proposal.value > 0:
            name = proposal.trait.name
            raise TraitError(
                f"HubExtensionsBuilds.{name}: {proposal.value} is not a positive number of "
                "seconds. "
                "Use e.g. 1800 for a build, 15 for git ls-remote, 25 for keepalives."
            )
        return proposal.value

    @validate("image_prefix")
    def _check_image_prefix(self, proposal):
        value = proposal.value
        first = value.split("/", 1)[0]
        if "/" in value and ("." in first or ":" in first or first == "localhost"):
            raise TraitError(
                f"HubExtensionsBuilds.image_prefix: {value!r} starts with a registry host. "
                f"Put the host in HubExtensionsBuilds.registry ({first!r}) and keep the rest here."
            )
        if len(value) > 128 or not DOCKER_PATH_RE.fullmatch(value + "x"):
            raise TraitError(
                f"HubExtensionsBuilds.image_prefix: {value!r} does not make valid image names. Use "
                "up to 128 "
                "lowercase letters, digits, '.', '-', '/', e.g. 'hub-extensions-builds/'."
            )
        return value

    @validate("registry")
    def _check_registry(self, proposal):
        value = proposal.value
        if not value:
            return value
        fix = "Use 'host:port' or 'host' only, e.g. '127.0.0.1:5000' or 'registry.example.org'."
        parts = urlsplit(f"//{value}")
        try:
            port = parts.port
        except ValueError:
            port = -1
        host = parts.hostname or ""
        plain = not (parts.path or parts.query or parts.fragment or parts.username)
        if not plain or port == -1 or not _is_host(host) or "://" in value:
            raise TraitError(
                f"HubExtensionsBuilds.registry: {value!r} is not a registry address. {fix}"
            )
        if "." not in host and ":" not in value and host != "localhost":
            # Docker would read 'myregistry/image' as a Docker Hub namespace.
            raise TraitError(
                f"HubExtensionsBuilds.registry: {value!r} would be read as a Docker Hub namespace. "
                f"Add the port or the domain, e.g. '{value}:5000' or '{value}.example.org'."
            )
        return value

    @validate("build_memory_limit")
    def _check_memory(self, proposal):
        try:
            return parse_memory(proposal.value)
        except ValueError as err:
            raise TraitError(
                f"HubExtensionsBuilds.build_memory_limit: {proposal.value!r} {err}. "
                "Use bytes or a size such as '2G', or 0 for no limit."
            ) from None

    @validate("repo2docker_extra_args")
    def _check_extra_args(self, proposal):
        problem = check_extra_arg_list(proposal.value)
        if problem:
            raise TraitError(
                f"HubExtensionsBuilds.repo2docker_extra_args: {problem}. Remove it; the executor "
                "sets the "
                "image name, ref, push, user and run options itself."
            )
        return proposal.value

    @validate("extra_ca_certs")
    def _check_ca_certs(self, proposal):
        for path in proposal.value:
            try:
                text = Path(path).read_text(encoding="ascii", errors="replace")
            except OSError as err:
                raise TraitError(
                    f"HubExtensionsBuilds.extra_ca_certs: {path!r} cannot be read "
                    f"({err.strerror}). "
                    "Give the path of a readable PEM file."
                ) from None
            if "-----BEGIN CERTIFICATE-----" not in text:
                raise TraitError(
                    f"HubExtensionsBuilds.extra_ca_certs: {path!r} holds no PEM certificate. "
                    "Give a file with '-----BEGIN CERTIFICATE-----' blocks."
                )
        return proposal.value

    @validate("signing_key")
    def _check_signing_key(self, proposal):
        if proposal.value and len(proposal.value) < 32:
            raise TraitError(
                "HubExtensionsBuilds.signing_key: shorter than 32 characters, too easy to guess. "
                "Use e.g. the output of `openssl rand -hex 32`, or leave it empty."
            )
        return proposal.value

    @validate("signing_key_file")
    def _check_signing_key_file(self, proposal):
        if not proposal.value.strip():
            raise TraitError(
                "HubExtensionsBuilds.signing_key_file: empty. Give a file path, "
                "e.g. 'hub-extensions-build-signing.key'."
            )
        return proposal.value

    @validate("binderhub_url")
    def _check_binderhub_url(self, proposal):
        value = proposal.value
        if not value:
            return value
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 (raises on a bad port)
        except ValueError:
            parts = parts._replace(netloc="")
        fix = "Use the BinderHub base URL, e.g. 'http://binderhub-service:8090/'."
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TraitError(
                f"HubExtensionsBuilds.binderhub_url: {value!r} is not an http(s) URL. {fix}"
            )
        if parts.query or parts.fragment:
            raise TraitError(
                f"HubExtensionsBuilds.binderhub_url: {value!r} has a '?query' or '#fragment', "
                "which would "
                f"break the build URLs. {fix}"
            )
        if parts.username is not None or parts.password is not None:
            raise TraitError(
                "HubExtensionsBuilds.binderhub_url: contains credentials, which would end up in "
                "logs. "
                "Remove 'user@' from it and put the token in HubExtensionsBuilds.binderhub_token. "
                f"{fix}"
            )
        return value if value.endswith("/") else value + "/"


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(HOSTNAME_RE.fullmatch(host))
    return True


def cross_check(builds: HubExtensionsBuilds) -> list[str]:
    """Problems that involve two options (each option alone is checked by its validator)."""
    if builds.executor == "binderhub" and not builds.binderhub_url:
        return [
            "HubExtensionsBuilds.binderhub_url: empty, but HubExtensionsBuilds.executor is "
            "'binderhub'. "
            "Set the BinderHub base URL, e.g. 'http://binderhub-service:8090/'."
        ]
    return []


def check_builds(config: Config) -> list[str]:
    """Cross-option problems of the builds section, for `hub_extensions.checks`."""
    if "HubExtensionsBuilds" not in config:
        return []
    try:
        with warnings.catch_warnings():  # unknown options are reported by check_config
            warnings.simplefilter("ignore")
            builds = HubExtensionsBuilds(config=config)
    except TraitError:
        return []  # each bad option is reported on its own by check_config
    return cross_check(builds)
