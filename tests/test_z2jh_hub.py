"""Zero to JupyterHub's own hub script runs the snippets, as an admin would deploy them.

The chart's defaults, helm-snippets/hub-extensions.values.yaml, the BinderHub add-on on top of
it and an admin's config.yaml are merged as Helm merges them, in the documented `--values`
order (snippets first). The chart's `jupyterhub_config.py` and `z2jh.py` (from
../shared/z2jh/) run with those values mounted where the hub pod finds them, behind
configurable-http-proxy with the chart's arguments (tests/infra/z2jh.py). One hub for both
snippets (the add-on only adds services, a role, an environment variable and builds options);
tests/test_z2jh_cilogon.py runs the main snippet with the CILogon one.

Not covered: the cluster. Service names are 127.0.0.1 (free ports), NetworkPolicies are
checked by their semantics in tests/test_helm_snippets.py, no pod is created (KubeSpawner's
pod manifest is built here and validated with kubernetes-validate), and the hub runs this
venv's JupyterHub and KubeSpawner rather than the chart image's pinned ones
(tests/test_z2jh_images.py resolves those). The CILogon snippet: tests/test_z2jh_cilogon.py.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from types import SimpleNamespace

import pytest
import requests
from traitlets.config import Config

from .conftest import need
from .infra.common import ROOT
from .infra.html_form import HtmlForm
from .infra.kubespawner_launch import hub_user, launch, new_spawner
from .infra.z2jh import HUB_SCRIPT_DIR, MOUNT, ChartHub, chart_path, chart_values, load_yaml

pytestmark = pytest.mark.hub

SNIPPETS = ROOT / "helm-snippets"
#: an admin's config.yaml, passed after the snippet: the profiles form and two profiles
ADMIN_VALUES = {
    "hub": {
        "config": {
            "JupyterHub": {"spawner_class": "profiles-kubernetes"},
            "Authenticator": {"admin_users": ["admin"]},
        }
    },
    "singleuser": {
        "profileList": [
            {
                "display_name": "Small",
                "slug": "small",
                "default": True,
                "kubespawner_override": {"cpu_limit": 1, "mem_limit": "2G"},
            },
            {
                "display_name": "GPU notebook",
                "slug": "gpu",
                "kubespawner_override": {"cpu_limit": 4, "mem_limit": "16G"},
                "profile_options": {
                    "image": {
                        "display_name": "Image",
                        "choices": {
                            "torch": {
                                "display_name": "PyTorch",
                                "default": True,
                                "kubespawner_override": {
                                    "image": "quay.io/jupyter/pytorch-notebook:2025-06-01"
                                },
                            },
                            "tf": {
                                "display_name": "TensorFlow",
                                "kubespawner_override": {
                                    "image": "quay.io/jupyter/tensorflow-notebook:2025-06-01"
                                },
                            },
                        },
                    }
                },
            },
        ]
    },
}


def snippet(name: str) -> dict:
    return load_yaml(SNIPPETS / name)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    def make() -> ChartHub:
        main = snippet("hub-extensions.values.yaml")
        binderhub = snippet("hub-extensions-binderhub.values.yaml")
        values = chart_values(main, binderhub, ADMIN_VALUES)
        return ChartHub(tmp_path_factory.mktemp("z2jh-hub"), values)

    chart_hub = need(make)
    try:
        need(chart_hub.launch)
        chart_hub.wait_ready(90)
        yield chart_hub
    finally:
        chart_hub.stop()


@pytest.fixture(scope="module")
def admin_token(hub) -> str:
    return hub.token(hub.login("admin"), "admin")


def chart_config(hub: ChartHub) -> Config:
    """The Config the chart's jupyterhub_config.py gives `hub`, loaded in this process (for
    KubeSpawner objects made here: the hub process cannot create pods without a cluster).

    Runs the same script with the same mounted files and environment, then puts back what it
    changes in this process: tornado's HTTP client class, sys.path and the z2jh module."""
    from tornado.httpclient import AsyncHTTPClient
    from traitlets.config.loader import PyFileConfigLoader

    from hub_extensions import wiring

    mount = hub.dir / "mount"
    env = hub.environment(mount)
    script = chart_path("hub", "jupyterhub_config.py")
    saved_env, saved_path = dict(os.environ), list(sys.path)
    saved_client = AsyncHTTPClient._save_configuration()
    saved_module = sys.modules.pop("z2jh", None)
    saved_hook = wiring.initializing_hub
    try:
        os.environ.update({k: v for k, v in env.items() if not k.startswith("Z2JH_TEST_")})
        spec = importlib.util.spec_from_file_location("z2jh", HUB_SCRIPT_DIR / "z2jh.py")
        assert spec is not None
        assert spec.loader is not None
        z2jh = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(z2jh)

        def redirect(path):
            path = os.fspath(path)
            return str(mount) + path[len(MOUNT) :] if path.startswith(MOUNT + "/") else path

        z2jh.open = lambda path, *a, **kw: open(redirect(path), *a, **kw)  # type: ignore[attr-defined]
        z2jh.os = SimpleNamespace(  # type: ignore[attr-defined]
            environ=os.environ, path=SimpleNamespace(exists=lambda p: os.path.exists(redirect(p)))
        )
        sys.modules["z2jh"] = z2jh
        wiring.initializing_hub = lambda: None  # not a starting hub: setup(c) does nothing
        loader = PyFileConfigLoader(script.name, str(script.parent))
        config = loader.load_config()
    finally:
        wiring.initializing_hub = saved_hook
        AsyncHTTPClient._restore_configuration(saved_client)
        sys.path[:] = saved_path
        sys.modules.pop("z2jh", None)
        if saved_module is not None:
            sys.modules["z2jh"] = saved_module
        os.environ.clear()
        os.environ.update(saved_env)
    return config


# ------------------------------------------------------------------ the hub starts


def test_the_chart_script_runs_the_snippets(hub):
    log = hub.log()
    assert "Loading /usr/local/etc/jupyterhub/secret/values.yaml" in log  # z2jh.py read it
    assert "Loading extra config: hub-extensions\n" in log
    assert "Loading extra config: hub-extensions-binderhub\n" in log
    assert "snippet service_url: http://hub:10101" in log
    assert "hub-extensions: service 'hub-extensions' at" in log
    assert "Traceback" not in log
    r = requests.get(hub.hub_url("api/"), timeout=10)
    assert r.status_code == 200
    assert r.json()["version"]


# ------------------------------------------------------------------ the service, through the proxy


def test_service_health_anonymous_is_403(hub):
    r = requests.get(hub.service_url("api/health"), timeout=10, allow_redirects=False)
    assert r.status_code == 403
    assert r.json()["message"].startswith("Not authenticated")


def test_service_health_with_a_token_is_200_and_reaches_the_hub(hub):
    token = hub.token(hub.login("ursula"), "ursula")
    r = requests.get(
        hub.service_url("api/health"), headers={"Authorization": f"token {token}"}, timeout=10
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"] == {"name": "ursula", "admin": False}
    assert body["hub"]["reachable"] is True  # the service's own call to the hub's API


def test_service_talks_to_the_hub_over_the_pods_loopback(hub):
    env = hub.service_environment()
    # the hub pod's own port, not the hub Service's (through which JupyterHub would send it)
    assert env["JUPYTERHUB_API_URL"] == f"http://127.0.0.1:{hub.hub_port}/hub/api/"
    assert hub.hub_service.port != hub.hub_port
    # what browsers are sent to stays the public side: the proxy's prefix, no internal host
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == "/services/hub-extensions/"


# ------------------------------------------------------------------ the profiles form


def spawn_form(hub: ChartHub, session: requests.Session) -> HtmlForm:
    page = session.get(hub.hub_url("spawn"), timeout=30)
    assert page.status_code == 200, page.text[-2000:]
    match = re.search(r'<form[^>]*id="spawn_form".*?</form>', page.text, re.S)
    assert match, page.text[-3000:]
    return HtmlForm(match.group(0))


def test_spawn_page_shows_the_profiles_form_from_profile_list(hub):
    form = spawn_form(hub, hub.login("paula"))
    radios = {r.value: r for r in form.radios("profile")}
    assert set(radios) == {"small", "gpu"}
    assert radios["small"].checked  # the list's default
    image = form.by_id("profile-option-gpu--image")
    # Helm's toYaml writes maps with sorted keys: the hub sees the choices in that order
    assert [o.value for o in image.options if o.value != "unlisted-choice"] == ["tf", "torch"]


@pytest.fixture
def chart_kubespawner_config(hub, kubeconfig):
    return chart_config(hub)


async def test_the_chosen_profile_gives_a_valid_pod(hub, chart_kubespawner_config):
    """The form as posted from the hub's page, through KubeSpawner 7.1's own
    load_user_options and get_pod_manifest with the chart's KubeSpawner settings."""
    import kubernetes_validate  # here, not at the top: kubernetes_validate imports jsonschema, over a second

    from hub_extensions.spawners.profiles_kubernetes import ProfilesKubeSpawner

    form = spawn_form(hub, hub.login("quentin"))
    form.check_radio("profile", "gpu")
    form.choose(form.by_id("profile-option-gpu--image"), "tf")
    user = hub_user("quentin", [], ProfilesKubeSpawner, chart_kubespawner_config)
    result = await launch(new_spawner(user, None), form.form_data())
    assert result.pod is not None, result.describe()
    kubernetes_validate.validate(result.pod, kubernetes_validate.latest_version(), strict=True)
    [container] = result.pod["spec"]["containers"]
    assert container["image"] == "quay.io/jupyter/tensorflow-notebook:2025-06-01"
    assert container["resources"]["limits"] == {"cpu": 4.0, "memory": 16 * 1024**3}  # "16G"
    labels = result.pod["metadata"]["labels"]
    # the chart script's common labels, from the values' Chart and Release
    assert labels["app.kubernetes.io/managed-by"] == "kubespawner"
    assert labels["app.kubernetes.io/instance"] == "jhub"
    # the chart's singleuser defaults: its storage volume and the user id
    assert result.pod["spec"]["securityContext"]["fsGroup"] == 100
    assert any(v["name"].startswith("volume-") for v in result.pod["spec"]["volumes"])


# ------------------------------------------------------------------ the BinderHub snippet


def test_binderhub_snippet_registers_its_services_and_role(hub, admin_token):
    api = {"Authorization": f"token {admin_token}"}
    services = requests.get(hub.hub_url("api/services"), headers=api, timeout=10).json()
    assert {"binder", "hub-extensions-binder", "hub-extensions"} <= set(services)
    roles = requests.get(hub.hub_url("api/roles"), headers=api, timeout=10)
    if roles.status_code == 200:  # JupyterHub 5.5+ lists roles
        names = {r["name"] for r in roles.json()}
        assert "hub-extensions-binder" in names
    # its token reached the hub's config through hub.extraEnv's secretKeyRef
    assert "KeyError: 'HUB_EXTENSIONS_BINDERHUB_TOKEN'" not in hub.log()
