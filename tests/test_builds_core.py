"""Build options, BinderHub specs, ref resolution against real git, image names, signatures, events."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import subprocess
from pathlib import Path

import pytest
from traitlets import TraitError
from traitlets.config import Config

from hub_extensions import checks as suite_config
from hub_extensions.builds import signing
from hub_extensions.builds.config import HubExtensionsBuilds, check_builds
from hub_extensions.builds.events import KEEPALIVE, BuildEvent, format_sse, parse_sse
from hub_extensions.builds.naming import escape, image_name
from hub_extensions.builds.providers import SpecError, parse_spec, resolve_ref

from .infra.common import ManagedProcess, free_port, wait_until

pytestmark = pytest.mark.unit
DATA = Path(__file__).parent / "data"
SHA = "1479e0252b2e648bb755ee913292b79495931717"
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


# --- options -------------------------------------------------------------------------------


def test_defaults_fit_a_two_core_machine():
    b = HubExtensionsBuilds()
    assert (b.allowed_providers, b.max_builds, b.max_builds_per_user) == (["gh", "gl", "git"], 2, 1)
    assert (b.build_timeout, b.git_ls_remote_timeout, b.build_memory_limit) == (1800, 15, 0)
    assert (b.image_prefix, b.registry, b.executor) == (
        "hub-extensions-builds/",
        "",
        "local-repo2docker",
    )


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("build_memory_limit", "2G", 2 * 1024**3),
        ("build_memory_limit", "512m", 512 * 1024**2),
        ("build_memory_limit", 1000, 1000),
        ("registry", "127.0.0.1:5000", "127.0.0.1:5000"),
        ("registry", "registry.example.org", "registry.example.org"),
        ("registry", "localhost", "localhost"),
        ("image_prefix", "my-org/binder-", "my-org/binder-"),
        ("image_prefix", "", ""),
        ("binderhub_url", "http://binderhub-service:8090", "http://binderhub-service:8090/"),
        ("repo2docker_extra_args", ["--label", "a=b", "--debug"], ["--label", "a=b", "--debug"]),
        ("repo2docker_extra_args", ["--Repo2Docker.platform=linux/amd64"], None),
    ],
)
def test_good_values_are_kept_or_normalised(option, value, expected):
    b = HubExtensionsBuilds(config=Config({"HubExtensionsBuilds": {option: value}}))
    assert getattr(b, option) == (value if expected is None else expected)


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("allowed_providers", ["gh", "zenodo"], "HubExtensionsBuilds.allowed_providers: ['gh', 'zenodo'] must"),
        ("repo_allow", ["https://github.com/(oops"], "HubExtensionsBuilds.repo_allow: 'https://github.com/(oops' is not a regular"),
        ("repo_deny", ["[x"], "HubExtensionsBuilds.repo_deny: '[x' is not a regular expression"),
        ("git_url_schemes", ["https", "ssh"], "HubExtensionsBuilds.git_url_schemes: ['https', 'ssh'] must"),
        ("max_builds", 0, "HubExtensionsBuilds.max_builds: 0 is less than 1"),
        ("max_builds_per_user", -1, "HubExtensionsBuilds.max_builds_per_user: -1 is less than 1"),
        ("build_timeout", 0, "HubExtensionsBuilds.build_timeout: 0.0 is not a positive number"),
        ("git_ls_remote_timeout", -5, "HubExtensionsBuilds.git_ls_remote_timeout: -5.0 is not a positive"),
        ("keepalive_interval", 0, "HubExtensionsBuilds.keepalive_interval: 0.0 is not a positive number"),
        ("image_prefix", "Builds/", "HubExtensionsBuilds.image_prefix: 'Builds/' does not make valid image"),
        ("image_prefix", "/x", "HubExtensionsBuilds.image_prefix: '/x' does not make valid"),
        ("image_prefix", "a__b--/", "HubExtensionsBuilds.image_prefix: 'a__b--/' does not make"),
        ("image_prefix", "ghcr.io/org/", "HubExtensionsBuilds.image_prefix: 'ghcr.io/org/' starts with a registry host"),
        ("registry", "http://127.0.0.1:5000", "HubExtensionsBuilds.registry: 'http://127.0.0.1:5000' is not a registry"),
        ("registry", "host:5000/path", "HubExtensionsBuilds.registry: 'host:5000/path' is not"),
        ("registry", "host:99999", "HubExtensionsBuilds.registry: 'host:99999' is not"),
        ("registry", "myregistry", "HubExtensionsBuilds.registry: 'myregistry' would be read as a Docker Hub"),
        ("build_memory_limit", "lots", "HubExtensionsBuilds.build_memory_limit: 'lots' is not a number"),
        ("build_memory_limit", -1, "HubExtensionsBuilds.build_memory_limit: -1 is negative"),
        ("repo2docker_extra_args", ["--image-name=evil"], "HubExtensionsBuilds.repo2docker_extra_args: '--image-name' overrides"),
        ("repo2docker_extra_args", ["--image", "evil"], "HubExtensionsBuilds.repo2docker_extra_args: '--image' overrides --image-name"),
        ("repo2docker_extra_args", ["--push"], "HubExtensionsBuilds.repo2docker_extra_args: '--push' overrides"),
        ("repo2docker_extra_args", ["--user-id=0"], "HubExtensionsBuilds.repo2docker_extra_args: '--user-id' overrides"),
        ("repo2docker_extra_args", ["-v", "/:/host"], "HubExtensionsBuilds.repo2docker_extra_args: '-v' overrides"),
        ("repo2docker_extra_args", ["--Repo2Docker.output_image_spec=x"], "HubExtensionsBuilds.repo2docker_extra_args: '--Repo2Docker.output_image_spec' overrides"),
        ("repo2docker_extra_args", ["--debug", "/etc"], "HubExtensionsBuilds.repo2docker_extra_args: '/etc' is not an option and would be read as the repository"),
        ("extra_ca_certs", ["/nonexistent/ca.pem"], "HubExtensionsBuilds.extra_ca_certs: '/nonexistent/ca.pem' cannot be read"),
        ("signing_key", "short", "HubExtensionsBuilds.signing_key: shorter than 32 characters"),
        ("signing_key_file", " ", "HubExtensionsBuilds.signing_key_file: empty"),
        ("binderhub_url", "binderhub:8090", "HubExtensionsBuilds.binderhub_url: 'binderhub:8090' is not an http(s) URL"),
        ("executor", "kaniko", "HubExtensionsBuilds.executor: "),
    ],
)  # fmt: skip
def test_each_bad_option_is_named_with_its_fix_by_check_config(option, value, expected):
    assert (
        HubExtensionsBuilds in suite_config.CONFIGURABLES
    )  # the suite checks this section at hub start
    problems = suite_config.check_config(Config({"HubExtensionsBuilds": {option: value}}))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems[0]
    assert problems[0].rstrip().endswith((".", "`.")), problems[0]


def test_typos_and_ca_files_are_checked(tmp_path):
    good, bad = tmp_path / "ca.pem", tmp_path / "not.pem"
    good.write_text(PEM)
    bad.write_text("hello")
    c = Config({"HubExtensionsBuilds": {"max_bulids": 3, "extra_ca_certs": [str(good)]}})
    assert suite_config.check_config(c) == [
        "HubExtensionsBuilds.max_bulids: unknown option. Did you mean HubExtensionsBuilds.max_builds?"
    ]
    with pytest.raises(TraitError, match="holds no PEM certificate"):
        HubExtensionsBuilds(extra_ca_certs=[str(bad)])


def test_binderhub_executor_needs_a_url():
    assert check_builds(Config({"HubExtensionsBuilds": {"executor": "binderhub"}})) == [
        "HubExtensionsBuilds.binderhub_url: empty, but HubExtensionsBuilds.executor is 'binderhub'. "
        "Set the BinderHub base URL, e.g. 'http://binderhub-service:8090/'."
    ]
    ok = Config(
        {"HubExtensionsBuilds": {"executor": "binderhub", "binderhub_url": "http://bh:8090/"}}
    )
    assert check_builds(ok) == []


# Builds that reach the tests' git daemon and file:// repositories (refused by default)
LOOPBACK = HubExtensionsBuilds(
    git_url_schemes=["https", "http", "git", "file"], allowed_internal_hosts=["127.0.0.1"]
)


# --- specs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "spec", "url", "ref", "display", "slug"),
    [
        # BinderHub GitHubRepoProvider: slug f"{user}-{repo}", '.git' stripped, ref may hold '/'
        ("gh", "binder-examples/octave.git/HEAD", "https://github.com/binder-examples/octave",
         "HEAD", "binder-examples/octave", "binder-examples-octave"),
        ("gh", "jupyterhub/binderhub/feature/x/", "https://github.com/jupyterhub/binderhub",
         "feature/x", "jupyterhub/binderhub", "jupyterhub-binderhub"),
        # GitLabRepoProvider: URL-encoded namespace, slug joins with '-' after '-' -> '_-'
        ("gl", "my-group%2Fsub%2Frepo/v1.0", "https://gitlab.com/my-group/sub/repo.git",
         "v1.0", "my-group/sub/repo", "my_-group-sub-repo"),
        # GitRepoProvider: URL-encoded URL and ref; slug is the URL itself
        ("git", "git%3A%2F%2F127.0.0.1%3A9418%2Frepo.git/refs%2Fheads%2Fmain",
         "git://127.0.0.1:9418/repo.git", "refs/heads/main", "git://127.0.0.1:9418/repo.git",
         "git://127.0.0.1:9418/repo.git"),
        ("git", f"file%3A%2F%2F%2Fsrv%2Frepo/{SHA.upper()}", "file:///srv/repo", SHA,
         "file:///srv/repo", "file:///srv/repo"),
    ],
)  # fmt: skip
def test_binderhub_specs_parse_as_binderhub_does(provider, spec, url, ref, display, slug):
    parsed = parse_spec(provider, spec, LOOPBACK)
    assert (parsed.provider, parsed.repo_url, parsed.ref) == (provider, url, ref)
    assert (parsed.display_name, parsed.build_slug) == (display, slug)


@pytest.mark.parametrize(
    ("provider", "spec", "field", "expected"),
    [
        ("zenodo", "10.5281/x", "provider", "'zenodo' is not available here; use one of gh, gl, git."),
        ("gh", "binder-examples/octave", "repo", "'binder-examples/octave' is not of the form ORG/REPO/REF. Did you mean 'binder-examples/octave/HEAD'?"),
        ("gh", "-x/repo/HEAD", "repo", "'-x' is not a GitHub user"),
        ("gh", "org/repo/--upload-pack=evil", "ref", "'--upload-pack=evil' starts with '-'"),
        ("gh", "org/repo/main%20x", "ref", "'main x' contains whitespace"),
        ("gh", "org/repo/a%0Ab", "ref", "'a\\nb' contains whitespace or control characters"),
        ("gh", "org/repo/a..b", "ref", "'a..b' contains '..' or '@{'"),
        ("gh", "org/repo/main@{1}", "ref", "'main@{1}' contains '..' or '@{'"),
        ("gh", "org/repo/main~1", "ref", "'main~1' contains '~'"),
        ("gh", "org/repo/main^2", "ref", "'main^2' contains '^'"),
        ("gh", "org/repo/a:b", "ref", "'a:b' contains ':'"),
        ("gh", "org/repo/x.lock", "ref", "'x.lock' has a component"),
        ("gh", "org/repo/a//b", "ref", "'a//b' has an empty path component"),
        ("gl", "group/project/HEAD", "repo", "'group' is not a GitLab GROUP/PROJECT path. URL-encode"),
        ("gl", "group%2Fproject", "ref", "missing."),
        ("git", "https%3A%2F%2Fexample.org%2Frepo", "ref", "missing after the URL-encoded"),
        ("git", "https://example.org/repo/HEAD", "repo", "'https:' is not a URL with a scheme"),
        ("git", "ext%3A%3Ash%20-c%20touch%20%2Ftmp%2Fpwned/HEAD", "repo", "'ext::sh -c touch /tmp/pwned' contains whitespace"),
        ("git", "ext%3A%3Ash/HEAD", "repo", "'ext::sh' is a git transport"),
        ("git", "fd%3A%3A3/HEAD", "repo", "'fd::3' is a git transport"),
        ("git", "ssh%3A%2F%2Fgit%40example.org%2Frepo/HEAD", "repo", "scheme 'ssh' is not allowed here"),
        ("git", "git%40github.com%3Aorg%2Frepo/HEAD", "repo", "'git@github.com:org/repo' is not a URL"),
        ("git", "-u%3Aevil/HEAD", "repo", "'-u:evil' starts with '-'"),
        ("git", "https%3A%2F%2F-oProxyCommand%3Devil%2Fx/HEAD", "repo", "'https://-oProxyCommand=evil/x' has no valid host"),
        ("git", "https%3A%2F%2Fuser%3Atoken%40example.org%2Frepo/HEAD", "repo", "contains credentials"),
        ("git", "file%3A%2F%2Fhost%2Fsrv/HEAD", "repo", "'file://host/srv' must be file:///absolute/path."),
    ],
)  # fmt: skip
def test_bad_specs_name_the_field_and_the_fix(provider, spec, field, expected):
    with pytest.raises(SpecError) as err:
        parse_spec(provider, spec, LOOPBACK)
    assert err.value.field == field
    assert err.value.message.startswith(expected), err.value.message
    assert str(err.value) == f"{field}: {err.value.message}"


def test_allowed_providers_schemes_and_repository_patterns_come_from_builds():
    b = HubExtensionsBuilds(
        allowed_providers=["git"],
        git_url_schemes=["https"],
        repo_allow=[r"https://git\.example\.org/.*"],
        repo_deny=[r"https://git\.example\.org/secret/.*"],
    )
    assert parse_spec("git", "https%3A%2F%2FGIT.example.org%2Fteam%2Frepo.git%2F/HEAD", b)
    for provider, spec in [
        ("gh", "org/repo/HEAD"),
        ("git", "http%3A%2F%2Fgit.example.org%2Frepo/HEAD"),
        ("git", "https%3A%2F%2Fother.example.org%2Frepo/HEAD"),
        ("git", "https%3A%2F%2Fgit.example.org%2FSecret%2Frepo/HEAD"),
    ]:
        with pytest.raises(SpecError):
            parse_spec(provider, spec, b)


# --- ref resolution against real git -------------------------------------------------------


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}  # fmt: skip
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> dict[str, str]:
    """A repository with two commits, an annotated tag, a light tag, and a look-alike branch."""
    root = tmp_path_factory.mktemp("git")
    path = root / "repo.git"
    path.mkdir()
    git("init", "-q", "-b", "main", cwd=path)
    git("commit", "-q", "--allow-empty", "-m", "one", cwd=path)
    first = git("rev-parse", "HEAD", cwd=path)
    git("tag", "-a", "v1", "-m", "release", cwd=path)
    git("tag", "light", cwd=path)
    git("branch", "feature/main", cwd=path)  # `git ls-remote URL main` lists it too
    git("commit", "-q", "--allow-empty", "-m", "two", cwd=path)
    head = git("rev-parse", "HEAD", cwd=path)
    tag_object = git("rev-parse", "v1", cwd=path)
    return {"root": str(root), "path": str(path), "first": first, "head": head, "tag": tag_object}


@pytest.fixture(scope="module")
def git_daemon(repo, tmp_path_factory):
    port = free_port()
    daemon = ManagedProcess(
        "git-daemon",
        ["git", "daemon", "--export-all", "--reuseaddr", f"--base-path={repo['root']}",
         "--listen=127.0.0.1", f"--port={port}", repo["root"]],
        tmp_path_factory.mktemp("git-daemon-log"),
    )  # fmt: skip
    try:
        wait_until(lambda: socket.create_connection(("127.0.0.1", port), 1).close() is None, 10,
                   "git daemon")  # fmt: skip
        yield f"git://127.0.0.1:{port}/repo.git"
    finally:
        daemon.stop()


def quoted(url: str) -> str:
    from urllib.parse import quote

    return quote(url, safe="")


@pytest.mark.parametrize("transport", ["file", "git-daemon"])
async def test_refs_resolve_to_commits_over_file_and_git_daemon(repo, git_daemon, transport):
    url = f"file://{repo['path']}" if transport == "file" else git_daemon
    resolved = {}
    for ref in ["HEAD", "main", "refs/heads/main", "light", "v1", "feature/main"]:
        spec = parse_spec("git", f"{quoted(url)}/{ref}", LOOPBACK)
        resolved[ref] = await resolve_ref(spec, timeout=10)
    assert resolved == {
        "HEAD": repo["head"],
        "main": repo["head"],  # not refs/heads/feature/main, which ls-remote also lists
        "refs/heads/main": repo["head"],
        "light": repo["first"],
        "v1": repo["first"],  # the peeled commit (^{}), not the tag object
        "feature/main": repo["first"],
    }
    assert repo["tag"] != repo["first"]


async def test_a_full_sha_is_returned_without_asking_git():
    listed = HubExtensionsBuilds(
        allowed_internal_hosts=["unreachable.invalid"]
    )  # a listed name: no lookup
    spec = parse_spec("git", f"{quoted('https://unreachable.invalid/repo')}/{SHA.upper()}", listed)
    assert await resolve_ref(spec, timeout=0.01) == SHA


async def test_unknown_refs_unreadable_repos_and_slow_servers_are_spec_errors(repo, tmp_path):
    with pytest.raises(SpecError, match=r"ref: 'nope' is not a branch or tag of file://"):
        await resolve_ref(
            parse_spec("git", f"{quoted('file://' + repo['path'])}/nope", LOOPBACK), 10
        )
    missing = quoted(f"file://{tmp_path}/missing")
    with pytest.raises(SpecError, match=r"repo: file://.*/missing could not be read; check the"):
        await resolve_ref(parse_spec("git", f"{missing}/HEAD", LOOPBACK), 10)

    silent = socket.socket()  # accepts connections and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        url = quoted(f"git://127.0.0.1:{silent.getsockname()[1]}/repo.git")
        started = asyncio.get_running_loop().time()
        with pytest.raises(SpecError, match=r"ref: resolving 'HEAD' in .* took longer than 0.5 s"):
            await resolve_ref(parse_spec("git", f"{url}/HEAD", LOOPBACK), timeout=0.5)
        assert asyncio.get_running_loop().time() - started < 5
    finally:
        silent.close()


# --- image names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "slug", "registry", "expected"),
    [
        # Each character outside [A-Za-z0-9] becomes '-' + its hex code, then '-' + the first 6
        # hex digits of sha256(slug) (`printf %s SLUG | sha256sum`), all lowercased.
        # This one is in BinderHub's recorded stream (binderhub-client fullbuild.eventsource).
        ("", "binder-examples-octave", "", f"binder-2dexamples-2doctave-03025a:{SHA}"),
        ("binder-", "binder-examples-requirements", "127.0.0.1:5000",
         f"127.0.0.1:5000/binder-binder-2dexamples-2drequirements-55ab5c:{SHA}"),
        ("hub-extensions-builds/", "my_-group-sub-repo", "",
         f"hub-extensions-builds/my-5f-2dgroup-2dsub-2drepo-1a950f:{SHA}"),
        ("b/", "git://127.0.0.1:9418/repo.git", "",
         f"b/git-3a-2f-2f127-2e0-2e0-2e1-3a9418-2frepo-2egit-f9b755:{SHA}"),
        # 255 characters before the tag: 2 of prefix, 246 of slug, '-' and 6 of hash
        ("p/", "a" * 300, "", f"p/{'a' * 246}-9835fa:{SHA}"),
    ],
)  # fmt: skip
def test_image_names_follow_binderhubs_scheme(prefix, slug, registry, expected):
    assert image_name(prefix, slug, SHA, registry) == expected


def test_escaping_matches_escapism_and_names_need_a_full_sha():
    escapism = pytest.importorskip("escapism")
    import string

    for slug in ["org-repo", "https://h/a_b.git", "Ünï €", "x" * 20]:
        safe = set(string.ascii_letters + string.digits)
        assert escape(slug) == escapism.escape(slug, safe=safe, escape_char="-")
    with pytest.raises(ValueError, match="resolved_sha: 'main' is not a full commit SHA"):
        image_name("", "org-repo", "main")


# --- signatures ----------------------------------------------------------------------------


def test_a_generated_key_file_is_private_and_stable(tmp_path):
    b = HubExtensionsBuilds(signing_key_file=str(tmp_path / "signing.key"))
    key = signing.load_key(b)
    assert len(key) == 64  # 32 random bytes as hex
    assert stat.S_IMODE(os.stat(b.signing_key_file).st_mode) == 0o600
    assert signing.load_key(b) == key
    assert signing.load_key(HubExtensionsBuilds(signing_key="k" * 32)) == b"k" * 32


def test_a_world_readable_key_file_is_refused(tmp_path):
    path = tmp_path / "signing.key"
    path.write_text("s" * 40)
    path.chmod(0o644)
    with pytest.raises(
        signing.SigningKeyError, match=r"readable or writable by every user.*chmod 600"
    ):
        signing.load_key(HubExtensionsBuilds(signing_key_file=str(path)))
    path.chmod(0o600)
    assert signing.load_key(HubExtensionsBuilds(signing_key_file=str(path))) == b"s" * 40


def test_signatures_bind_user_and_image_and_never_raise():
    key, other = b"k" * 32, b"o" * 32
    sig = signing.sign(key, "alice", "img:1")
    assert len(sig) == 64
    assert signing.verify(key, "alice", "img:1", sig)
    assert signing.verify(key, "alice", "img:1", sig.upper())
    # a JSON array cannot be confused: ("a", "b:c") and ("a:b", "c") differ
    assert signing.sign(key, "a", "b:c") != signing.sign(key, "a:b", "c")
    for args in [
        (key, "bob", "img:1", sig),
        (key, "alice", "img:2", sig),
        (other, "alice", "img:1", sig),
        (key, "alice", "img:1", sig[:-1]),
        (key, "alice", "img:1", "é" * 64),
        (key, "alice", "img:1", None),
        (key, None, "img:1", sig),
        (b"", "alice", "img:1", sig),
        ("not-bytes", "alice", "img:1", sig),
    ]:
        assert signing.verify(*args) is False


# --- event stream --------------------------------------------------------------------------


def responses(events: list[BuildEvent]) -> list[list[BuildEvent]]:
    out: list[list[BuildEvent]] = [[]]
    for event in events:
        out[-1].append(event)
        if event.terminal:
            out.append([])
    return [r for r in out if r]


def test_binderhub_stream_parses_in_order_with_its_fields():
    with open(DATA / "binderhub-events.txt", encoding="utf-8") as f:
        build, cache_hit, failed, unresolved = responses(list(parse_sse(f)))

    phases = [e.phase for e in build]
    order = ["waiting", "fetching", "building", "pushing", "built", "launching", "ready"]
    assert [p for i, p in enumerate(phases) if p != "unknown" and p not in phases[:i]] == order
    assert phases.count("building") >= 5
    assert build[1] == BuildEvent("unknown", "Picked Git content provider.\n")
    pushing = [e for e in build if e.phase == "pushing" and e.progress]
    assert pushing[0].progress["5f70bf18a086"] == {"current": 1048576, "total": 4194304}
    assert "layers" in pushing[0].extra
    image = build[phases.index("built")].image_name
    assert image.startswith("127.0.0.1:5000/binder-binder-2dexamples-2drequirements-55ab5c:")
    sha = image.rsplit(":", 1)[1]
    assert image == image_name("binder-", "binder-examples-requirements", sha, "127.0.0.1:5000")
    ready = build[-1]
    assert ready.extra["image"] == image
    assert ready.extra["token"]
    assert ready.extra["url"].startswith("http://127.0.0.1:8000/user/")
    assert ready.extra["binder_persistent_request"].endswith(sha)

    assert [(e.phase, e.image_name) for e in cache_hit] == [("ready", image)]
    assert failed[-1].phase == "failed"
    assert "non-zero code: 3" in failed[-1].message
    assert [e.phase for e in unresolved] == ["failed"]
    assert unresolved[0].message.startswith("Could not resolve ref for gh:")


def test_events_round_trip_and_keepalives_and_multiline_data_are_tolerated():
    event = BuildEvent(
        "ready", "Done!\n", image_name="img:1", extra={"signature": "ab", "phase": "x"}
    )
    wire = format_sse(event)
    assert wire == (
        b'data: {"phase": "ready", "message": "Done!\\n", "imageName": "img:1", '
        b'"signature": "ab"}\n\n'
    )
    assert KEEPALIVE == b":keepalive\n\n"
    stream = [
        KEEPALIVE,
        wire,
        b"event: progress\r\nid: 7\r\n",
        b'data: {"phase": "BUILDING",\r\ndata:"message": "two\\nlines"}\r\n\r\n',
        "data: not json\n\n",
        "data: [1, 2]\n\n",
        'data: {"phase": "failed", "message": "cut"}',  # not ended by an empty line: dropped
    ]
    parsed = list(parse_sse(stream))
    assert [e.to_dict() for e in parsed] == [
        {"phase": "ready", "message": "Done!\n", "imageName": "img:1", "signature": "ab"},
        {"phase": "building", "message": "two\nlines"},
    ]
    assert list(parse_sse("data: {}\n\n".splitlines())) == [BuildEvent("unknown")]


async def test_concurrent_resolutions_of_one_ref_share_one_git_call(tmp_path, monkeypatch):
    import asyncio

    from hub_extensions.builds import providers

    calls = []

    async def counting(spec, timeout=15):
        calls.append(spec.ref)
        await asyncio.sleep(0.05)
        return "c" * 40

    monkeypatch.setattr(providers, "resolve_ref", counting)
    spec = providers.parse_spec("git", "file%3A%2F%2F%2Ftmp%2Frepo/HEAD", LOOPBACK)
    results = await asyncio.gather(*(providers.resolve_ref_shared(spec) for _ in range(20)))
    assert results == ["c" * 40] * 20
    assert calls == ["HEAD"]
    await providers.resolve_ref_shared(spec)  # after it answered: asked again, not cached
    assert calls == ["HEAD", "HEAD"]
