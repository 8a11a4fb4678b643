"""The pure parts of session capture: end reasons, hook chaining, resources, metrics, wiring.

The capture itself, inside a real hub, is tested in test_usage_hub.py.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
from tornado.web import Application, RequestHandler
from traitlets.config import Config

from hub_extensions.usage import EndReason, FailOpenLedger, Ledger
from hub_extensions.usage.capture import install
from hub_extensions.usage.hooks import WRAPPED, chain_post_stop, chain_pre_spawn
from hub_extensions.usage.metrics import UsageMetrics
from hub_extensions.usage.spawner_details import (
    build_info,
    quantity,
    ready_details,
    recorded_options,
    resources_from_pod,
    resources_from_traits,
)
from hub_extensions.usage.stop_reasons import AT_START, Frame, classify, current_frames

pytestmark = pytest.mark.unit
UTC = timezone.utc
SHA = "0123456789abcdef0123456789abcdef01234567"


# --- end reasons ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frames", "ready", "expected"),
    [
        ([Frame("stop", "APIHandler", "user"), Frame("stop", "User")], True, EndReason.user_stop),
        ([Frame("stop", "APIHandler", "service"), Frame("stop", "User")], True, EndReason.cull),
        ([Frame("user_stopped", "APIHandler", "user"), Frame("stop", "User")], True, "dead"),
        ([Frame("user_stopped"), Frame("stop", "User")], True, "dead"),
        ([Frame("check_spawner"), Frame("_wait_up", "User"), Frame("stop", "User")], True, "start"),
        (
            [Frame("finish_user_spawn"), Frame("spawn", "User"), Frame("stop", "User")],
            False,
            EndReason.spawn_failed,
        ),
        (
            [Frame("spawn", "User"), Frame("_wait_up", "User"), Frame("stop", "User")],
            False,
            EndReason.spawn_failed,
        ),
        ([Frame("stop", "User")], True, EndReason.hub_down),
        ([Frame("something_new"), Frame("stop", "User")], True, EndReason.user_stop),
        ([Frame("something_new"), Frame("stop", "User")], False, EndReason.spawn_failed),
    ],
)
def test_the_stop_path_gives_the_end_reason(frames, ready, expected):
    reason, inferred = classify(frames, ready)
    if expected == "dead":
        assert (reason, inferred) == (EndReason.found_dead, True)
    elif expected == "start":
        assert reason == AT_START
    else:
        assert (reason, inferred) == (expected, False)


class User:  # named as JupyterHub's, whose methods the classifier recognises
    async def stop(self):
        await asyncio.sleep(0)
        return classify(current_frames(), ready=True)

    async def spawn(self):
        return await self.stop()


def handler(kind: str) -> RequestHandler:
    line = RequestStartLine("DELETE", "/hub/api/users/a/server", "HTTP/1.1")
    request = HTTPServerRequest(start_line=line, headers=HTTPHeaders({"Host": "hub"}))
    request.connection = SimpleNamespace(set_close_callback=lambda cb: None)
    h = RequestHandler(Application(), request)
    h._jupyterhub_user = SimpleNamespace(kind=kind)
    return h


def stop_single_user(self, user: User):
    """As BaseHandler.stop_single_user: the stop runs in a task of a closure `stop`."""

    async def stop():
        assert self is not None
        return await user.stop()

    return asyncio.ensure_future(stop())


async def user_stopped(user: User):
    return await user.stop()


async def test_real_coroutine_chains_are_read():
    """Each in a task of its own, as JupyterHub runs them (ensure_future, maybe_future)."""
    user = User()
    assert await asyncio.ensure_future(user.stop()) == (EndReason.hub_down, False)
    assert await asyncio.ensure_future(user_stopped(user)) == (EndReason.found_dead, True)
    assert await asyncio.ensure_future(user.spawn()) == (EndReason.spawn_failed, False)
    assert await stop_single_user(handler("user"), user) == (EndReason.user_stop, False)
    assert await stop_single_user(handler("service"), user) == (EndReason.cull, False)


# --- hook chaining ----------------------------------------------------------------------------


def run_post_stop_hook(hook, spawner):
    """JupyterHub's Spawner.run_post_stop_hook, then User.stop's await of its result."""
    from jupyterhub.spawner import Spawner

    fake = SimpleNamespace(post_stop_hook=hook, log=logging.getLogger("test"))
    return Spawner.run_post_stop_hook(fake)


async def test_pre_spawn_runs_the_admins_hook_first_and_keeps_its_refusal():
    calls = []

    async def theirs(spawner):
        calls.append("theirs")

    async def ours(spawner):
        calls.append("ours")

    await chain_pre_spawn(theirs, ours)("spawner")
    assert calls == ["theirs", "ours"]

    def refusing(spawner):
        raise RuntimeError("not today")

    calls.clear()
    with pytest.raises(RuntimeError, match="not today"):
        await chain_pre_spawn(refusing, ours)("spawner")
    assert calls == []  # a refused spawn is no session
    await chain_pre_spawn(None, ours)("spawner")
    assert calls == ["ours"]


async def test_post_stop_records_even_when_the_admins_hook_fails(caplog):
    recorded = []

    def ours(spawner):
        recorded.append("classified")  # at once, in the stop's task

        async def write():
            recorded.append("written")

        return write()

    def failing(spawner):
        raise RuntimeError("admin hook broke")

    result = run_post_stop_hook(chain_post_stop(failing, ours), "spawner")
    assert result is None
    assert "post_stop_hook failed" in caplog.text
    await asyncio.sleep(0.01)
    assert recorded == ["classified", "written"]

    async def failing_later(spawner):
        raise RuntimeError("async admin hook broke")

    recorded.clear()
    with pytest.raises(RuntimeError, match="async admin hook broke"):
        await run_post_stop_hook(chain_post_stop(failing_later, ours), "spawner")
    assert recorded == ["classified", "written"]

    recorded.clear()
    sync_calls = []
    hook = chain_post_stop(lambda s: sync_calls.append("theirs"), ours)
    await run_post_stop_hook(hook, "spawner")
    assert sync_calls == ["theirs"]
    assert recorded == ["classified", "written"]


# --- wiring -----------------------------------------------------------------------------------


def test_hooks_go_to_the_configured_spawner_class_around_the_admins_own():
    def admin_pre(spawner):
        pass

    def admin_post(spawner):
        pass

    c = Config()
    c.JupyterHub.spawner_class = "profiles-simple-local"
    c.Spawner.pre_spawn_hook = admin_pre
    c.SimpleLocalProcessSpawner.post_stop_hook = admin_post
    additions = Config()
    assert install(c, additions) is not None
    section = additions.ProfilesSimpleLocalProcessSpawner
    assert getattr(section.pre_spawn_hook, WRAPPED) is admin_pre
    assert getattr(section.post_stop_hook, WRAPPED) is admin_post

    default = Config()
    install(Config(), default)  # JupyterHub's default spawner
    assert getattr(default.LocalProcessSpawner.pre_spawn_hook, WRAPPED) is None

    off = Config()
    off.HubExtensionsUsage.enabled = False
    nothing = Config()
    assert install(off, nothing) is None
    assert not nothing


# --- what a session records -------------------------------------------------------------------


def test_quantities_read_as_kubernetes_writes_them():
    assert quantity("500m") == 0.5
    assert quantity("2") == 2.0
    assert quantity(1.5) == 1.5
    assert quantity("4Gi") == 4 * 2**30
    assert quantity("1G") == 1e9
    assert quantity("1e3") == 1000
    assert quantity(None) is None
    assert quantity("lots") is None
    assert quantity(-1) is None
    assert quantity("1Gi; rm -rf /") is None


def test_built_images_are_known_by_their_signature_and_give_their_commit():
    options = {
        "profile": "medium",
        "image--unlisted-choice": f"127.0.0.1:5000/hx-gh-org-repo-abc123:{SHA}",
        "image--build-signature": "sig",
    }
    assert build_info(options, None) == (None, SHA)
    assert build_info(options, f"img:{SHA}") == (None, SHA)
    assert build_info({"profile": "medium"}, f"img:{SHA}") == (None, None)  # not built here
    assert build_info(options, "img:latest") == (None, None)
    assert recorded_options(options) == {
        "profile": "medium",
        "image--unlisted-choice": options["image--unlisted-choice"],
    }


GPU_PROFILE = [
    {"display_name": "Small", "default": True, "kubespawner_override": {"cpu_limit": 1}},
    {
        "display_name": "GPU",
        "kubespawner_override": {
            "image": "pytorch/pytorch:2.5",
            "cpu_limit": 4,
            "cpu_guarantee": 0.5,
            "mem_limit": "16G",
            "mem_guarantee": "4G",
            "extra_resource_limits": {"nvidia.com/gpu": "2"},
        },
    },
]


async def test_kubespawner_resources_come_from_its_pod_spec(kubeconfig):
    from hub_extensions.spawners.profiles_kubernetes import ProfilesKubeSpawner

    user = SimpleNamespace(name="alice", id=7, url="/user/alice/", groups=[])
    hub = SimpleNamespace(
        public_host="", url="http://hub:8081/hub/", base_url="/hub/", api_url="http://hub/api"
    )
    spawner = ProfilesKubeSpawner(
        _mock=True, user=user, hub=hub, profile_list=GPU_PROFILE, namespace="hub"
    )
    spawner.user_options = {"profile": "gpu"}
    before = resources_from_traits(spawner)  # at the spawn request: the profile is not applied
    assert before["gpu_count"] == 0
    assert before["cpu_limit"] is None
    await spawner.load_user_options()  # what KubeSpawner.start() does first
    pod = spawner.api.api_client.sanitize_for_serialization(await spawner.get_pod_manifest())
    expected = {
        "cpu_request": 0.5,
        "cpu_limit": 4.0,
        "mem_request_bytes": 4 * 2**30,
        "mem_limit_bytes": 16 * 2**30,
        "gpu_count": 2,
        "gpu_type": "nvidia.com/gpu",
    }
    assert resources_from_pod(pod) == expected
    assert resources_from_traits(spawner) == expected
    # with the pod in the reflector (a running cluster), the recorded values are the pod's
    pod["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "3500m"
    reflector = SimpleNamespace(pods={f"hub/{spawner.pod_name}": pod})
    key = ("pods", "hub")
    type(spawner).reflectors[key] = reflector
    try:
        details = ready_details(spawner)
    finally:
        type(spawner).reflectors.pop(key, None)
    assert details["cpu_limit"] == 3.5
    assert details["gpu_count"] == 2
    assert details["image"] == "pytorch/pytorch:2.5"


def test_mark_ready_sets_what_is_final_only_once_the_server_runs(tmp_path):
    ledger = Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}")
    ledger.start()
    t0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
    sid = ledger.open_session(user="ann", requested_at=t0, cpu_limit=1.0)
    details = {"image": "pytorch:2", "cpu_limit": 4.0, "gpu_count": 1, "gpu_type": "nvidia.com/gpu"}
    assert ledger.mark_ready(sid, t0, details=details)
    (row,) = ledger.sessions(user="ann")
    assert {k: row[k] for k in details} == details
    assert row["ready_at"] == t0
    with pytest.raises(ValueError, match="details"):
        ledger.mark_ready(sid, t0, details={"user": "bob"})
    with pytest.raises(ValueError, match="gpu_count"):
        FailOpenLedger(ledger).mark_ready(sid, t0, details={"gpu_count": -1})
    ledger.close()


# --- metrics ----------------------------------------------------------------------------------


def test_metrics_have_bounded_labels_and_per_user_series_only_on_request():
    registry = CollectorRegistry()
    metrics = UsageMetrics(registry)
    metrics.set_running([("ann", "python"), ("bo", "python"), ("bo", "gpu")])
    metrics.observe_end("python", EndReason.cull, 120)
    metrics.set_active({"daily": 3, "weekly": 5, "monthly": 8}, {("daily", "physics"): 2})
    text = generate_latest(registry).decode()
    assert 'hub_extensions_running_sessions{profile="python"} 2.0' in text
    assert (
        'hub_extensions_session_duration_seconds_count{end_reason="cull",profile="python"} 1.0'
        in text
    )
    assert 'hub_extensions_active_users{window="monthly"} 8.0' in text
    assert 'hub_extensions_active_users_by_group{group="physics",window="daily"} 2.0' in text
    assert "hub_extensions_ledger_write_failures_total 0.0" in text
    assert "ann" not in text
    metrics.set_running([])
    text = generate_latest(registry).decode()
    assert 'hub_extensions_running_sessions{profile="gpu"} 0.0' in text  # a series stays, at 0

    per_user = UsageMetrics(CollectorRegistry(), per_user=True)
    per_user.set_running([("ann", "python")])
    text = generate_latest(per_user._registry).decode()
    assert 'hub_extensions_user_running_sessions{user="ann"} 1.0' in text
    per_user.set_running([])
    assert "ann" not in generate_latest(per_user._registry).decode()
    fresh = CollectorRegistry()
    assert UsageMetrics.of(fresh) is UsageMetrics.of(fresh)
