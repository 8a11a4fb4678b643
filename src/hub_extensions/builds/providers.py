"""BinderHub-compatible repository specs (`gh/...`, `gl/...`, `git/...`) and ref resolution."""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

from .config import HubExtensionsBuilds
from .hosts import UNREADABLE, HostRefused, pin_for

log = logging.getLogger(__name__)

FULL_SHA_RE = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")
GH_ORG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}")
GH_REPO_RE = re.compile(r"[A-Za-z0-9._][A-Za-z0-9._-]{0,99}")
GL_PART_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# Characters `git check-ref-format` refuses anywhere in a ref name, besides control characters.
REF_FORBIDDEN = set(" ~^:?*[\\")
GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",  # never wait for a password on a private repository
    "GIT_ALLOW_PROTOCOL": "file:git:http:https",  # no ext::, fd::, ssh: they run commands
    "LC_ALL": "C",
}
ERROR_HINT = "Use a branch, tag or full commit SHA, e.g. 'HEAD' or 'main'."


class SpecError(ValueError):
    """A bad build spec; `field` is provider, repo or ref (shown to the user in a `failed` event).

    `kind` says which of BinderHub's errors this is, so the build endpoint can send BinderHub's
    message for it: "provider" (not offered), "scheme" (`detail`: the URL), "denied",
    "unresolved" (no such ref), "unreachable" (`detail`: git's error output); or "invalid"
    for the checks BinderHub does not make (the message names the field).
    """

    def __init__(self, field: str, message: str, *, kind: str = "invalid", detail: str = ""):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class RepoSpec:
    """A parsed spec: what to clone, at which (unresolved) ref, and how BinderHub names it."""

    provider: str
    repo_url: str  # what git clones, as BinderHub's provider.get_repo_url()
    ref: str
    display_name: str
    build_slug: str  # as BinderHub's provider.get_build_slug()
    normalized_url: str  # what repo_allow / repo_deny match
    # HubExtensionsBuilds.allowed_internal_hosts, for the host check before git runs (git/ specs
    # only: gh/ and gl/ always name github.com and gitlab.com)
    allowed_internal_hosts: tuple[str, ...] = ()


def is_full_sha(ref: str) -> bool:
    return bool(FULL_SHA_RE.fullmatch(ref))


def check_ref(ref: str) -> str:
    """The ref if git would accept it as a branch or tag name (`git check-ref-format`)."""
    if not ref:
        raise SpecError("ref", f"missing. {ERROR_HINT}")
    if is_full_sha(ref):
        return ref.lower()
    problem = None
    if ref.startswith("-"):
        problem = "starts with '-'"
    elif any(ord(c) < 32 or ord(c) == 127 or c.isspace() for c in ref):
        problem = "contains whitespace or control characters"
    elif REF_FORBIDDEN & set(ref):
        chars = "".join(sorted(REF_FORBIDDEN & set(ref)))
        problem = f"contains {chars!r}, which git does not allow in a ref"
    elif ".." in ref or "@{" in ref or ref == "@":
        problem = "contains '..' or '@{', which git does not allow in a ref"
    elif ref.startswith("/") or ref.endswith("/") or "//" in ref:
        problem = "has an empty path component"
    elif ref.endswith(".") or any(p.startswith(".") or p.endswith(".lock") for p in ref.split("/")):
        problem = "has a component starting with '.' or ending with '.lock' or '.'"
    elif len(ref) > 255:
        problem = "is longer than 255 characters"
    if problem:
        raise SpecError("ref", f"{ref[:80]!r} {problem}. {ERROR_HINT}")
    return ref


def normalize_url(url: str) -> str:
    """scheme://host[:port]/path with scheme and host lowercased, no trailing '/' or '.git'."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    path = path[:-4] if path.endswith(".git") else path
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"


def check_git_url(url: str, schemes: list[str]) -> str:
    """The URL if git may fetch it: an allowed scheme, a host, no credentials, no options."""
    fix = "Give a URL such as 'https://git.example.org/group/repo.git'."
    if not url:
        raise SpecError("repo", f"missing. {fix}")
    if url.startswith("-"):
        raise SpecError("repo", f"{url[:80]!r} starts with '-'. {fix}")
    if any(ord(c) < 32 or ord(c) == 127 or c.isspace() for c in url) or len(url) > 2048:
        raise SpecError("repo", f"{url[:80]!r} contains whitespace or control characters. {fix}")
    m = SCHEME_RE.match(url)
    if not m:
        kind = "a git transport ('x::')" if "::" in url else "not a URL with a scheme"
        raise SpecError(
            "repo",
            f"{url[:80]!r} is {kind}. {fix} URL-encode it in git/ specs ('/' as %2F).",
        )
    scheme = m.group(1).lower()
    if scheme not in schemes:
        raise SpecError(
            "repo",
            f"scheme {scheme!r} is not allowed here; use one of {', '.join(schemes)}.",
            kind="scheme",
            detail=url,
        )
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        raise SpecError("repo", f"{url[:80]!r} has an invalid port. {fix}") from None
    if scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise SpecError("repo", f"{url[:80]!r} must be file:///absolute/path.")
        return url
    host = parts.hostname or ""
    if not host or host.startswith("-"):
        raise SpecError("repo", f"{url[:80]!r} has no valid host. {fix}")
    if parts.username is not None or parts.password is not None:
        raise SpecError(
            "repo", "contains credentials, which would end up in logs. Remove 'user@' from it."
        )
    return url


def _parse_gh(spec: str) -> RepoSpec:
    parts = spec.split("/", 2)  # the ref may contain '/', as in BinderHub's tokenize_spec
    if len(parts) != 3:
        hint = f" Did you mean '{spec}/HEAD'?" if len(parts) == 2 else ""
        raise SpecError("repo", f"{spec[:80]!r} is not of the form ORG/REPO/REF.{hint}")
    org, repo, ref = parts
    repo = repo[:-4] if repo.endswith(".git") else repo
    if not GH_ORG_RE.fullmatch(org):
        raise SpecError("repo", f"{org[:80]!r} is not a GitHub user or organisation name.")
    if not GH_REPO_RE.fullmatch(repo) or repo in (".", ".."):
        raise SpecError("repo", f"{repo[:80]!r} is not a GitHub repository name.")
    url = f"https://github.com/{org}/{repo}"
    return RepoSpec(
        "gh", url, check_ref(unquote(ref)), f"{org}/{repo}", f"{org}-{repo}", normalize_url(url)
    )


def _parse_gl(spec: str) -> RepoSpec:
    quoted, _, ref = spec.partition("/")
    namespace = unquote(quoted)
    components = namespace.split("/")
    if len(components) < 2:
        hint = " URL-encode the project path, e.g. 'gl/group%2Fproject/HEAD'."
        raise SpecError("repo", f"{namespace[:80]!r} is not a GitLab GROUP/PROJECT path.{hint}")
    bad = [c for c in components if not GL_PART_RE.fullmatch(c) or ".." in c]
    if bad:
        raise SpecError("repo", f"{bad[0][:80]!r} is not a valid GitLab path component.")
    url = f"https://gitlab.com/{namespace}.git"
    # BinderHub's GitLabRepoProvider.get_build_slug(): '-' joins, so '-' inside becomes '_-'.
    slug = "-".join(c.replace("-", "_-") for c in components)
    return RepoSpec("gl", url, check_ref(unquote(ref)), namespace, slug, normalize_url(url))


def _parse_git(spec: str, schemes: list[str]) -> RepoSpec:
    quoted, sep, ref = spec.partition("/")
    if not sep:
        raise SpecError("ref", f"missing after the URL-encoded repository URL. {ERROR_HINT}")
    url = check_git_url(unquote(quoted), schemes)
    return RepoSpec("git", url, check_ref(unquote(ref)), url, url, normalize_url(url))


def parse_spec(provider: str, spec: str, builds: HubExtensionsBuilds | None = None) -> RepoSpec:
    """Parse `spec` (as in the request path, still URL-encoded) for `provider`, or SpecError."""
    builds = builds or HubExtensionsBuilds()
    allowed = builds.allowed_providers
    if provider not in allowed:
        raise SpecError(
            "provider",
            f"{provider[:20]!r} is not available here; use one of {', '.join(allowed)}.",
            kind="provider",
        )
    spec = spec.rstrip("/")  # as BinderHub's BuildHandler
    if provider == "gh":
        parsed = _parse_gh(spec)
    elif provider == "gl":
        parsed = _parse_gl(spec)
    else:
        parsed = _parse_git(spec, builds.git_url_schemes)
        parsed = replace(parsed, allowed_internal_hosts=tuple(builds.allowed_internal_hosts))
    check_allowed(parsed, builds)
    return parsed


def check_allowed(spec: RepoSpec, builds: HubExtensionsBuilds) -> None:
    """SpecError unless the repository passes repo_deny and repo_allow (case-insensitive)."""
    url = spec.normalized_url
    denied = any(re.fullmatch(p, url, re.IGNORECASE) for p in builds.repo_deny)
    allowed = not builds.repo_allow or any(
        re.fullmatch(p, url, re.IGNORECASE) for p in builds.repo_allow
    )
    if denied or not allowed:
        raise SpecError(
            "repo",
            f"{spec.display_name[:80]} may not be built on this hub. Ask an admin.",
            kind="denied",
        )


def protocol_options(url: str, environ: Mapping[str, str] = os.environ) -> list[str]:
    """`-c protocol.version=0` for git:// URLs, unless git's environment config sets it.

    Over git://, protocol v2's ls-refs exchange stalls about 40 ms on small writes (seen with
    git daemon 2.39: Nagle plus delayed ACK); v0 answers a single ls-remote in a few ms. An
    admin who sets `protocol.version` through GIT_CONFIG_COUNT/GIT_CONFIG_KEY_<n> (or
    GIT_CONFIG_PARAMETERS) in the service's environment gets that version: `-c` would win.
    """
    if not url.startswith("git://"):
        return []
    keys = [environ.get(f"GIT_CONFIG_KEY_{i}", "") for i in range(_count(environ))]
    parameters = environ.get("GIT_CONFIG_PARAMETERS", "").lower()  # 'key'='value' or 'key=value'
    if "protocol.version" in (k.lower() for k in keys) or "'protocol.version" in parameters:
        return []
    return ["-c", "protocol.version=0"]


def _count(environ: Mapping[str, str]) -> int:
    try:
        return min(int(environ.get("GIT_CONFIG_COUNT", "0")), 100)
    except ValueError:
        return 0


def _pick(refs: dict[str, str], ref: str) -> str | None:
    """The commit `ref` names, in git's order: refs/NAME, tags, then branches; tags peeled."""
    if ref == "HEAD":
        return refs.get("HEAD")
    names = [ref] if ref.startswith("refs/") else []
    names += [f"refs/{ref}", f"refs/tags/{ref}", f"refs/heads/{ref}"]
    for name in names:
        if name in refs:
            return refs.get(f"{name}^{{}}", refs[name])
    return None


def unreadable(spec: RepoSpec, why: str) -> SpecError:
    """The generic "cannot be read" error; `why` (git's output, a refused host) goes to the log."""
    log.warning("repository %s cannot be read: %s", spec.repo_url, why.strip()[:2000])
    return SpecError(
        "repo", f"{spec.display_name} {UNREADABLE}.", kind="unreachable", detail=UNREADABLE
    )


async def check_reachable(spec: RepoSpec) -> str | None:
    """SpecError unless the repository's host is public or listed by the admin (hosts.py);
    for http(s), the `http.curloptResolve` pin of the addresses checked.

    Checked before every build, a full SHA included: repo2docker clones from the same host
    (and checks again, hosts.py).
    """
    if spec.provider != "git" or urlsplit(spec.repo_url).scheme.lower() == "file":
        return None  # file: no host; allowed only when the admin lists it in git_url_schemes
    try:
        return await pin_for(spec.repo_url, spec.allowed_internal_hosts)
    except HostRefused as err:
        raise unreadable(spec, str(err)) from None


def git_options(spec: RepoSpec, pin: str | None = None) -> list[str]:
    """`-c` options of the ls-remote: no redirects for git/ URLs (a public server could send
    git on to an internal one), git connects to the checked addresses only (`pin`), git
    protocol v0 over git:// (protocol_options)."""
    options = protocol_options(spec.repo_url)
    if spec.provider == "git":
        options += ["-c", "http.followRedirects=false"]
    if pin:
        options += ["-c", f"http.curloptResolve={pin}"]
    return options


async def resolve_ref(spec: RepoSpec, timeout: float = 15) -> str:
    """The commit SHA `spec.ref` points to, by `git ls-remote` (a full SHA is returned as is),
    once the host has passed check_reachable()."""
    pin = await check_reachable(spec)
    if is_full_sha(spec.ref):
        return spec.ref.lower()
    patterns = [spec.ref] if spec.ref == "HEAD" else [spec.ref, f"{spec.ref}^{{}}"]
    # check_ref() refused refs with '-', and '--' ends git's options: nothing here is an option.
    proc = await asyncio.create_subprocess_exec(
        "git", *git_options(spec, pin), "ls-remote", "--", spec.repo_url, *patterns,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **GIT_ENV},
    )  # fmt: skip
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise SpecError(
            "ref",
            f"resolving {spec.ref!r} in {spec.display_name} took longer than {timeout:g} s. "
            "Try again later, or give a full commit SHA.",
        ) from None
    if proc.returncode:
        raise unreadable(spec, stderr.decode("utf-8", "replace") or f"exit {proc.returncode}")
    refs: dict[str, str] = {}
    for line in stdout.decode("utf-8", "replace").splitlines():
        sha, _, name = line.partition("\t")
        if is_full_sha(sha):
            refs[name] = sha.lower()
    picked = _pick(refs, spec.ref)
    if picked is None:
        raise SpecError(
            "ref",
            f"{spec.ref!r} is not a branch or tag of {spec.display_name}. {ERROR_HINT}",
            kind="unresolved",
        )
    return picked


_resolving: dict[tuple[str, str], asyncio.Task] = {}


async def resolve_ref_shared(spec: RepoSpec, timeout: float = 15) -> str:
    """`resolve_ref`, with concurrent requests for the same repository and ref sharing one
    `git ls-remote` (single flight: nothing is cached once it has answered)."""
    key = (spec.repo_url, spec.ref)
    task = _resolving.get(key)
    if task is None:
        task = asyncio.ensure_future(resolve_ref(spec, timeout))
        _resolving[key] = task
        task.add_done_callback(lambda _: _resolving.pop(key, None))
    return await asyncio.shield(task)
