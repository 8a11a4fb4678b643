"""The demo hub on the real stack: JupyterHub + configurable-http-proxy + the managed service.

The module's hub runs under base_url /jh/ so every URL the suite builds is checked against it.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from .infra.common import wait_until
from .infra.hub import NO_TRACEBACK, marked_processes

pytestmark = pytest.mark.hub


HUB = {"base_url": "/jh/"}  # the demo as it comes


@pytest.fixture(scope="module")
def hub(hub_factory, request):
    return hub_factory.shared(request, **HUB)


def test_local_process_server_spawns_and_answers_through_the_proxy(hub):
    token = hub.token(hub.login("alice"), "alice")
    api = hub.api(token)
    server = hub.spawn(api, "alice")
    assert server["url"] == "/jh/user/alice/"
    # the single-user server answers through the proxy, under the hub's base_url
    r = api.get(f"http://127.0.0.1:{hub.port}/jh/user/alice/api/status", timeout=10)
    assert r.status_code == 200, r.text
    assert "started" in r.json()
    hub.stop_server(api, "alice")
    r = requests.get(
        f"http://127.0.0.1:{hub.port}/jh/user/alice/api/status", timeout=10, allow_redirects=False
    )
    assert r.status_code != 200


def test_service_health_for_a_logged_in_user(hub):
    session = hub.login("bob")
    r = session.get(hub.service_url("api/health"), timeout=30)  # OAuth dance with the hub first
    assert r.status_code == 403  # an API never redirects to a login page...
    page = session.get(hub.service_url(), timeout=30)  # ...the page does, and sets the cookie
    assert page.status_code == 200
    assert page.url == hub.service_url()
    r = session.get(hub.service_url("api/health"), timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok"
    assert body["user"] == {"name": "bob", "admin": False}
    assert body["hub"]["reachable"] is True
    assert body["hub"]["version"]


def test_service_page_honours_base_url_and_loads_hub_styles(hub):
    session = hub.login("carol")
    page = session.get(hub.service_url(), timeout=30)
    html = page.text
    assert 'data-service-prefix="/jh/services/hub-extensions/"' in html
    assert 'href="/jh/hub/static/css/style.min.css"' in html
    assert 'src="/jh/services/hub-extensions/static/dist/service-home.js?v=' in html
    js = session.get(
        f"http://127.0.0.1:{hub.port}/jh/services/hub-extensions/static/dist/service-home.js",
        timeout=10,
    )
    assert js.status_code == 200
    assert "javascript" in js.headers["Content-Type"]


def test_hub_pages_know_where_the_service_lives(hub):
    home = hub.login("gina").get(hub.hub_url("home"), timeout=10)
    assert home.status_code == 200
    assert (
        '<meta name="hub-extensions-service-prefix" content="/jh/services/hub-extensions/">'
        in home.text
    )
    # JupyterHub's own page is still there around it
    assert 'id="start"' in home.text or "Start My Server" in home.text


def test_service_with_a_hub_token(hub):
    token = hub.token(hub.login("dave"), "dave")
    r = requests.get(
        hub.service_url("api/health"), headers={"Authorization": f"token {token}"}, timeout=10
    )
    assert r.status_code == 200, r.text
    assert r.json()["user"]["name"] == "dave"


def test_admin_is_reported_as_admin(hub):
    token = hub.token(hub.login("demo"), "demo")
    r = requests.get(
        hub.service_url("api/health"), headers={"Authorization": f"token {token}"}, timeout=10
    )
    assert r.json()["user"] == {"name": "demo", "admin": True}


def test_anonymous_api_request_is_refused_with_a_message(hub):
    r = requests.get(hub.service_url("api/health"), timeout=10, allow_redirects=False)
    assert r.status_code == 403
    assert r.json() == {
        "status": 403,
        "message": "Not authenticated: send a hub token (Authorization: token ...) or log in first.",
    }
    r = requests.get(
        hub.service_url("api/health"),
        headers={"Authorization": "token not-a-token"},
        timeout=10,
        allow_redirects=False,
    )
    assert r.status_code == 403


def test_anonymous_page_request_redirects_to_the_hub_login(hub):
    r = requests.get(hub.service_url(), timeout=10, allow_redirects=False)
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/jh/hub/api/oauth2/authorize?")
    follow = requests.get(hub.service_url(), timeout=10)
    assert follow.url.startswith(f"http://127.0.0.1:{hub.port}/jh/hub/login")


def test_unknown_api_path_is_a_json_404(hub):
    token = hub.token(hub.login("erin"), "erin")
    r = requests.get(
        hub.service_url("api/nope"), headers={"Authorization": f"token {token}"}, timeout=10
    )
    assert r.status_code == 404
    assert r.json()["message"] == "No such API endpoint: /jh/services/hub-extensions/api/nope"


def run_demo_expecting_failure(tmp_path, *extra, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "hub_extensions.cli",
            "demo",
            "--spawner",
            "local",
            "--state-dir",
            str(tmp_path / "state"),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_bad_option_stops_the_hub_with_the_option_and_fix(make_hub):
    demo = make_hub(
        config="c.HubExtensions.service_url = 'localhost:10101'\n"
        "c.HubExtensions.servce_name = 'x'\n",
        wait=False,
    )
    code = demo.proc.proc.wait(60)
    log = demo.log()
    demo.proc.stop()
    assert code != 0
    assert "hub-extensions: invalid configuration, the hub will not start:" in log
    assert "HubExtensions.service_url: 'localhost:10101' needs a scheme, host and port." in log
    assert (
        "HubExtensions.servce_name: unknown option. Did you mean HubExtensions.service_name?" in log
    )
    assert "JupyterHub is now running" not in log
    assert not NO_TRACEBACK.search(log)
    assert marked_processes(demo.run_id) == []  # no proxy or service left behind


def test_a_mistake_in_the_admins_config_file_is_one_line_naming_it(tmp_path):
    """`hub-extensions demo --config FILE` as an admin runs it: an error raised by their file
    stops the hub at once with the file, the line and the error, and no traceback."""
    mine = tmp_path / "mine.py"
    mine.write_text(
        "c.HubExtensionsCost.currency = 'USD'\nc.HubExtensionsCost.prices = price_list\n"
    )
    result = run_demo_expecting_failure(tmp_path, "--config", str(mine))
    assert result.returncode == 2
    assert (
        f"hub-extensions demo: --config {mine}, line 2: NameError: name 'price_list' is not defined"
        in result.stderr
    )
    assert not NO_TRACEBACK.search(result.stdout + result.stderr)


def test_busy_port_gives_a_clear_message(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = run_demo_expecting_failure(tmp_path, "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"hub-extensions demo: 127.0.0.1:{port} is already in use (another hub or demo?). "
        f"Stop it, or pick another port: hub-extensions demo --port {port + 1}"
    )


def _cmdlines(pids: list[int]) -> list[str]:
    out = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                out.append(f.read().replace(b"\0", b" ").decode(errors="replace")[:120])
        except OSError:
            out.append(f"{pid} (gone)")
    return out


# (with SIGINT ignored, the hub must start inside the test: nothing is started ahead)
@pytest.mark.parametrize(
    "started_in_background", [pytest.param(False, marks=pytest.mark.hub_ahead), True]
)
def test_ctrl_c_stops_hub_proxy_service_and_servers(make_hub, started_in_background):
    """Also when started as `cmd &` by a shell without job control, which starts it with
    SIGINT ignored (the CI runs the suite that way)."""
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN) if started_in_background else None
    try:
        demo = make_hub()
    finally:
        if started_in_background:
            signal.signal(signal.SIGINT, handler)
    try:
        api = demo.api(demo.token(demo.login("frank"), "frank"))
        demo.spawn(api, "frank")
        run_id = demo.run_id
        # the hub, proxy, service and frank's server; a short-lived helper of one of them (a
        # git or a pip check) may be counted for a moment on a busy machine, so wait it out
        wait_until(
            lambda: len(marked_processes(run_id)) == 4,
            10,
            f"4 demo processes (now: {_cmdlines(marked_processes(run_id))})",
        )
    finally:
        started = time.monotonic()
        code = demo.interrupt()
        took = time.monotonic() - started
    assert code == 0
    assert "Demo stopped." in demo.log()
    # in the hub's own time: no process waits out JupyterHub's 30 s SIGINT timeout
    assert took < 15, f"Ctrl-C took {took:.1f}s"
    wait_until(lambda: marked_processes(run_id) == [], 10, "every demo process to exit")


@pytest.mark.hub_ahead
def test_killing_the_demo_process_still_stops_the_hub_and_its_children(make_hub):
    demo = make_hub()
    try:
        api = demo.api(demo.token(demo.login("gus"), "gus"))
        demo.spawn(api, "gus")
        run_id = demo.run_id
        assert len(marked_processes(run_id)) == 4
    finally:
        demo.proc.proc.kill()  # SIGKILL: the demo process gets no chance to clean up
        demo.proc.proc.wait(10)
    # the hub gets SIGTERM as its parent dies, and stops its proxy, service and servers
    wait_until(lambda: marked_processes(run_id) == [], 30, "the orphaned hub to clean up")
    demo.proc.stop()
