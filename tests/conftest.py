"""Tiers and the real-stack fixtures. See tests/README.md."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from .infra.common import ARTIFACTS, Unavailable

TIERS = ("unit", "hub", "docker", "browser", "postgres", "oidc")
REQUIRE_ALL = os.environ.get("HUB_EXTENSIONS_REQUIRE_ALL") == "1"
T = TypeVar("T")


def need(make: Callable[[], T]) -> T:
    """Run `make`; missing infrastructure skips the test, or fails it when REQUIRE_ALL is set."""
    try:
        return make()
    except Unavailable as err:
        if REQUIRE_ALL:
            pytest.fail(f"HUB_EXTENSIONS_REQUIRE_ALL=1 and infrastructure is missing: {err}")
        pytest.skip(str(err))


def pytest_collection_modifyitems(config, items):
    for item in items:
        tiers = [m.name for m in item.iter_markers() if m.name in TIERS]
        if len(tiers) != 1:
            raise pytest.UsageError(
                f"{item.nodeid} needs exactly one tier marker of {TIERS}, has {tiers}"
            )


# pytest-timeout counts a session fixture's set-up toward the first test that uses it. Building
# the base image from nothing (mmdebstrap, a venv with JupyterHub) takes minutes on a loaded
# machine; later tests find it cached. That first test gets this long instead of the default.
FIRST_USE_TIMEOUTS = {"base_image": 900}
_first_uses_seen: set[str] = set()


@pytest.hookimpl(wrapper=True, tryfirst=True)  # before pytest-timeout starts its timer
def pytest_runtest_protocol(item, nextitem):
    if not item.config.pluginmanager.hasplugin("timeout"):  # pytest-timeout not installed
        return (yield)
    for fixture, seconds in FIRST_USE_TIMEOUTS.items():
        if fixture in getattr(item, "fixturenames", ()) and fixture not in _first_uses_seen:
            _first_uses_seen.add(fixture)
            marker = item.get_closest_marker("timeout")
            if marker is None or (marker.args and 0 < marker.args[0] < seconds):
                item.add_marker(pytest.mark.timeout(seconds), append=False)
    return (yield)


@pytest.fixture(scope="session", autouse=True)
def _no_demo_outlives_the_session() -> Iterator[None]:
    from .infra.hub import stop_all_demos

    yield
    stop_all_demos()


_hub_factory: list = []  # the session's one HubFactory, made on first use


def _the_hub_factory(config):
    from .infra.hub import HubFactory

    if not _hub_factory:
        _hub_factory.append(HubFactory(config._tmp_path_factory.mktemp))
    return _hub_factory[0]


@pytest.fixture(scope="session")
def hub_factory(pytestconfig, _no_demo_outlives_the_session):
    """Every demo hub comes from here. A module whose tests only read, or act as users of their
    own, declares `HUB = {...}` (DemoHub's settings, `config` as text) and gets its hub with
    `hub_factory.shared(request, **HUB)`: equal settings share one running hub, and it starts
    while the module before runs. A test that kills, restarts or breaks its hub, or must see it
    start, uses `make_hub`."""
    return _the_hub_factory(pytestconfig)


_modules_looked_ahead_from: set = set()
TESTS_LOOKED_AHEAD = 4  # hubs marked hub_ahead start this many tests early
AT_MOST_AHEAD = 2  # and at most this many wait at a time (each about 400 MB)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "hub_ahead(**settings): make_hub(**settings) in this test gets a hub of its own that "
        "started while the tests before it ran",
    )
    config.addinivalue_line(
        "markers",
        "docker_engine: set on every test whose fixtures include docker_engine, whatever its "
        "tier; the test command runs these in one run, so that containers' names never meet",
    )


def pytest_itemcollected(item):
    if "docker_engine" in getattr(item, "fixturenames", ()):
        item.add_marker("docker_engine")


def pytest_runtest_setup(item):
    """Start hubs before the tests that need them, so that they boot while earlier tests run
    (which mostly wait on servers): at a module's first test, the next module's shared hub (its
    `HUB`); at every test, the hubs of the next few tests marked `hub_ahead`."""
    items = item.session.items
    index = items.index(item)
    factory = _the_hub_factory(item.config)
    for later in items[index + 1 : index + 1 + TESTS_LOOKED_AHEAD]:
        marker = later.get_closest_marker("hub_ahead")
        if marker is not None and factory.ahead_count() < AT_MOST_AHEAD:
            factory.start_ahead_for(later.nodeid, **marker.kwargs)
    module = getattr(item, "module", None)
    if module is None or module in _modules_looked_ahead_from:
        return
    _modules_looked_ahead_from.add(module)
    for later in items[index + 1 :]:
        uses_a_hub = "hub" in getattr(later, "fixturenames", ())
        if uses_a_hub and getattr(later, "module", module) is not module:
            settings = getattr(later.module, "HUB", None)
            if isinstance(settings, dict):
                factory.prefetch(f"{later.module.__name__} (started ahead)", **settings)
            return


@pytest.fixture
def make_hub(hub_factory, tmp_path, request) -> Iterator[Callable]:
    """`make_hub(config=..., spawner=..., wait=...)`: a hub of this test's own, started in
    tmp_path (or `tmpdir=`). A test marked `@pytest.mark.hub_ahead(**the same settings)` gets
    one started while the tests before it ran. When the test ends, a hub it has not stopped
    gets Ctrl-C and stops while the next tests run (the session's end collects it)."""
    made: list = []

    def make(tmpdir: Path | None = None, wait: bool = True, **settings):
        demo = None if tmpdir else hub_factory.for_test(request.node.nodeid, settings)
        if demo is None:
            where = tmpdir or tmp_path / f"hub-{len(made)}"
            demo = hub_factory.new(where, wait=wait, who=request.node.nodeid, **settings)
        elif wait:
            demo.wait_ready()
        made.append(demo)
        return demo

    yield make
    for demo in made:
        demo.begin_stop()


def pytest_terminal_summary(terminalreporter):
    for factory in _hub_factory:
        for line in factory.summary():
            terminalreporter.write_line(line)
    stray = _stray_files(terminalreporter.config)
    if stray:
        verdict = "the run fails" if REQUIRE_ALL else "give each an owner that removes it"
        terminalreporter.write_line(
            f"files left in the checkout by this run ({verdict}): {', '.join(stray)}", red=True
        )


# --- nothing a run creates stays in the checkout ------------------------------------------------

CHECKOUT = Path(__file__).resolve().parent.parent
#: What runs and tools may leave in the checkout (git-ignored caches, builds, the venv, artifacts)
_EXPECTED = (
    ".venv/", "node_modules/", "frontend/node_modules/", "test-artifacts/", ".mypy_cache/",
    ".ruff_cache/", ".pytest_cache/", ".hypothesis/", "build/", "src/hub_extensions/static/",
    "benchmarks/.cache/", "benchmarks/.peers-venv/",
)  # fmt: skip


def _untracked() -> set[str] | None:
    """Files git does not track in the checkout (ignored ones too), or None without git."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
            cwd=CHECKOUT, capture_output=True, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    names = {line[3:] for line in out.splitlines() if line[:2] in ("??", "!!")}
    return {n for n in names if "__pycache__/" not in n and not n.startswith(_EXPECTED)}


def pytest_sessionstart(session):
    session.config.stash[_BEFORE] = _untracked()


def _stray_files(config) -> list[str]:
    before = config.stash.get(_BEFORE, None)
    after = _untracked() if before is not None else None
    return sorted(after - before) if after is not None and before is not None else []


def pytest_sessionfinish(session, exitstatus):
    # a process, temporary file or key written into the checkout (a hub or service run with the
    # checkout as its working directory) has no owner: under REQUIRE_ALL (CI) the run fails
    if REQUIRE_ALL and exitstatus == 0 and _stray_files(session.config):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_BEFORE = pytest.StashKey[set[str] | None]()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory) -> Iterator:
    from .infra.docker_engine import ensure_docker_engine

    engine = need(lambda: ensure_docker_engine(tmp_path_factory.mktemp("dockerd")))
    yield engine
    engine.stop()


@pytest.fixture(scope="session")
def base_image(docker_engine) -> str:
    from hub_extensions.images import base_image

    def build() -> str:
        try:
            return base_image.build_base_image()
        except base_image.BaseImageUnavailable as err:
            raise Unavailable(str(err)) from None

    return need(build)


@pytest.fixture(scope="session")
def registry(docker_engine, tmp_path_factory) -> Iterator:
    from .infra.registry import LocalRegistry

    reg = need(lambda: LocalRegistry(tmp_path_factory.mktemp("registry")).start())
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory) -> Iterator:
    from .infra.postgres import PostgresServer

    server = PostgresServer(tmp_path_factory.mktemp("postgres"))
    need(server.start)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory) -> Iterator:
    from .infra.oidc import OIDCProvider

    provider = OIDCProvider(tmp_path_factory.mktemp("oidc"))
    need(provider.start)
    yield provider
    provider.stop()


# Module scope: Playwright's sync API keeps an event loop running in the main thread while it
# is started, which would stop pytest-asyncio from running the async tests of later modules.
@pytest.fixture(scope="module")
def browser(artifacts) -> Iterator:
    from .infra.browser import launch_chromium

    def start():
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            raise Unavailable("the playwright Python package is not installed") from None
        pw = sync_playwright().start()
        try:
            return pw, launch_chromium(pw, artifacts)
        except Unavailable:
            pw.stop()
            raise

    pw, chromium = need(start)
    yield chromium
    chromium.close()
    pw.stop()


@pytest.fixture
def kubeconfig(tmp_path, monkeypatch) -> Path:
    """A kubeconfig pointing at no cluster (127.0.0.1:1), for KubeSpawner objects built in unit
    tests (their API client is made at construction, nothing is sent)."""
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n"
        "clusters: [{name: nowhere, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody, namespace: hub}}]\n"
        "users: [{name: nobody, user: {token: not-a-token}}]\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(config))
    # kubernetes_asyncio reads $KUBECONFIG once, when first imported (maybe by another test)
    from kubernetes_asyncio.config import kube_config

    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(config))
    return config
