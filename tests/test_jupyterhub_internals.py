"""The JupyterHub internals the suite relies on, against the installed JupyterHub's own classes.

A real `JupyterHub.initialize()` loads a real config file (in a child process: initialize
rewires the process's tornado loggers); the checks run on the real classes, and a missing
internal is simulated by removing it from them (monkeypatch) or from a real hub instance.
Not covered here: a hub that serves requests (tests/test_usage_hub.py and
tests/test_jupyterhub_oldest.py run real hubs, on the newest and the oldest JupyterHub).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from types import SimpleNamespace

import jupyterhub
import pytest

from hub_extensions.jupyterhub_internals import (
    REPORT_URL,
    after_config_loaded,
    check_internals,
    hub_started,
    initializing_hub,
    spawner_log_name,
)

pytestmark = pytest.mark.unit
# JupyterHub's classes are imported in the tests that use them: seconds, not at collection

CONFIG = """
import os
from hub_extensions.jupyterhub_internals import after_config_loaded, initializing_hub

here = os.path.dirname(os.path.abspath(__file__))
c.JupyterHub.db_url = "sqlite:///" + os.path.join(here, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(here, "cookie_secret")
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.port = 8000
hub = initializing_hub()

def record(app, config):
    app.calls.append({"port": config.JupyterHub.port, "templates": list(app.template_paths),
                      "app_port": app.port})

after_config_loaded(hub, record)
after_config_loaded(hub, record)  # a second call for the same hub does nothing
# lines after the call count too
c.JupyterHub.port = 8123
c.JupyterHub.template_paths.append("/srv/extra-templates")
"""

RUN_HUB_INITIALIZE = """
import asyncio, json, sys
from jupyterhub.app import JupyterHub
from hub_extensions.jupyterhub_internals import check_internals, hub_started

app = JupyterHub.instance(config_file=sys.argv[1])
app.calls = []
asyncio.run(app.initialize([]))
out = {"calls": list(app.calls), "started": type(hub_started(app)).__name__,
       "warnings": check_internals(app)}
app.load_config_file(app.config_file)  # a second load: the wrap is gone, no second call
out["calls_after_reload"] = len(app.calls)
del app._start_future
out["without_start_future"] = check_internals(app)
print(json.dumps(out))
"""


def initialize_in_a_child(tmp_path, config: str, script: str) -> subprocess.CompletedProcess:
    """`script` runs a real JupyterHub.initialize() on `config` in a child process (initialize
    rewires tornado's loggers for the whole process)."""
    path = tmp_path / "jupyterhub_config.py"
    path.write_text(config)
    return subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


def test_a_real_hub_runs_the_callback_once_with_the_final_config_and_lacks_nothing(tmp_path):
    run = initialize_in_a_child(tmp_path, CONFIG, RUN_HUB_INITIALIZE)
    assert run.returncode == 0, run.stderr[-4000:]
    out = json.loads(run.stdout.splitlines()[-1])
    (call,) = out["calls"]  # once, although the file asked twice
    assert call["port"] == call["app_port"] == 8123
    assert call["templates"][-1] == "/srv/extra-templates"
    assert out["calls_after_reload"] == 1
    assert out["started"] == "Future"
    assert out["warnings"] == []
    (warning,) = out["without_start_future"]
    assert warning.startswith(
        f"JupyterHub {jupyterhub.__version__} has no JupyterHub._start_future"
    )
    assert "reconciles at once" in warning
    assert REPORT_URL in warning


def test_the_installed_jupyterhub_has_every_internal():
    assert check_internals() == []


def test_outside_a_hub_there_is_no_initializing_hub(monkeypatch):
    from jupyterhub.app import JupyterHub

    monkeypatch.setattr(JupyterHub, "_instance", None)  # whatever another test left
    assert initializing_hub() is None
    hub = JupyterHub.instance()  # as `jupyterhub` makes it, before it loads the config file
    try:
        assert initializing_hub() is hub
    finally:
        JupyterHub.clear_instance()


def test_a_hub_instance_without_start_future_is_named():
    from jupyterhub.app import JupyterHub

    class ForkedHub(JupyterHub):
        """As if a JupyterHub release no longer created _start_future in initialize()."""

    hub = ForkedHub()
    assert hub_started(hub) is None
    warnings = check_internals(hub)
    assert len(warnings) == 1
    assert "has no JupyterHub._start_future: the usage ledger reconciles at once" in warnings[0]


def test_a_spawner_without_log_name_is_named_and_still_logged(monkeypatch):
    from jupyterhub.spawner import LocalProcessSpawner, Spawner

    spawner = LocalProcessSpawner(user=SimpleNamespace(name="ann"))
    assert spawner_log_name(spawner) == "ann"
    monkeypatch.delattr(Spawner, "_log_name")
    assert spawner_log_name(spawner) == "ann"
    assert spawner_log_name(SimpleNamespace(user=SimpleNamespace(name="bo"), name="lab")) == (
        "bo:lab"
    )
    assert spawner_log_name(object()) == "(no user)"
    (warning,) = check_internals()
    assert "has no Spawner._log_name on its spawner class" in warning


def test_a_spawner_class_of_a_hub_without_log_name_is_named():
    from jupyterhub.app import JupyterHub
    from jupyterhub.spawner import LocalProcessSpawner

    class OddSpawner(LocalProcessSpawner):
        _log_name = None  # type: ignore[assignment]  # not JupyterHub's property any more

    hub = JupyterHub(spawner_class=OddSpawner)
    hub._start_future = SimpleNamespace(__await__=None)  # not awaitable either
    warnings = check_internals(hub)
    assert len(warnings) == 2
    assert any("Spawner._log_name" in w for w in warnings)


@pytest.mark.parametrize(
    ("remove", "named", "degrades"),
    [
        ("stop_single_user", "inner stop() in BaseHandler.stop_single_user", "'user_stop'"),
        ("user_stopped", "user_stopped in JupyterHub.init_spawners", "instead of 'found_dead'"),
        ("get_current_user", "BaseHandler._jupyterhub_user", "instead of 'cull'"),
        ("spawn_single_user", "finish_user_spawn", "'spawn_failed'"),
    ],
)
def test_a_missing_stop_path_is_named_with_what_it_changes(monkeypatch, remove, named, degrades):
    from jupyterhub.handlers.base import BaseHandler

    async def replacement(self, *args, **kwargs):  # the same method, without what we read
        return None

    if remove == "user_stopped":  # read as a method: gone altogether
        monkeypatch.delattr(BaseHandler, remove)
    else:
        monkeypatch.setattr(BaseHandler, remove, replacement)
    (warning,) = check_internals()
    assert f"has no {named}" in warning
    assert degrades in warning


def test_missing_hub_start_internals_are_named(monkeypatch):
    from jupyterhub.app import JupyterHub

    async def cleanup(self):
        return None

    monkeypatch.setattr(JupyterHub, "cleanup", cleanup)
    monkeypatch.setattr(JupyterHub, "init_spawners", cleanup)
    warnings = check_internals()
    assert [w.split(":")[0] for w in warnings] == [
        f"JupyterHub {jupyterhub.__version__} has no user_stopped in JupyterHub.init_spawners "
        "and BaseHandler",
        f"JupyterHub {jupyterhub.__version__} has no inner check_spawner in "
        "JupyterHub.init_spawners",
        f"JupyterHub {jupyterhub.__version__} has no User.stop awaited by JupyterHub.cleanup",
    ]


def test_a_hub_whose_config_loading_cannot_be_hooked_says_so_at_once(caplog):
    from jupyterhub.app import JupyterHub

    class NoUpdateHub(JupyterHub):
        def load_config_file(self, *args, **kwargs):  # never calls update_config
            return None

    log = logging.getLogger("test-internals")
    hub = NoUpdateHub(log=log)
    calls = []
    with caplog.at_level(logging.WARNING, logger="test-internals"):
        after_config_loaded(hub, lambda app, config: calls.append(config))
        after_config_loaded(hub, lambda app, config: calls.append(config))
    (record,) = caplog.records
    assert "has no Application.load_config_file ending with update_config()" in record.message
    assert "the suite's service, roles and option checks are not added" in record.message
    assert calls == []
    assert any("update_config()" in w for w in check_internals(hub))


SETUP_CONFIG = """
import os
from jupyterhub.handlers.base import BaseHandler
import hub_extensions

del BaseHandler.user_stopped  # as if a JupyterHub release had dropped it
here = os.path.dirname(os.path.abspath(__file__))
c.JupyterHub.db_url = "sqlite:///" + os.path.join(here, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(here, "cookie_secret")
c.JupyterHub.authenticator_class = "dummy"
hub_extensions.setup(c)
"""
RUN_INITIALIZE = (
    "import asyncio, sys; from jupyterhub.app import JupyterHub; "
    "app = JupyterHub.instance(config_file=sys.argv[1]); asyncio.run(app.initialize([]))"
)


def test_a_hub_that_lacks_an_internal_logs_what_degrades_and_starts(tmp_path):
    run = initialize_in_a_child(tmp_path, SETUP_CONFIG, RUN_INITIALIZE)
    assert run.returncode == 0, run.stderr[-4000:]
    assert (
        f"hub-extensions: JupyterHub {jupyterhub.__version__} has no user_stopped in "
        "JupyterHub.init_spawners and BaseHandler: servers found dead by the hub's poll are "
        "recorded as 'user_stop' instead of 'found_dead'"
    ) in run.stderr
