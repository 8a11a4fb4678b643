"""helm-snippets/*.yaml are valid Zero to JupyterHub values, and ours wires the suite in.

No `helm` here: a snippet is checked the way helm would, by deep-merging it into the chart's
default values and validating the result against the chart's JSON schema. The chart data is
read from `../shared/z2jh/` beside the repository (see its README.md), never copied into it;
without it these tests skip (fail with HUB_EXTENSIONS_REQUIRE_ALL=1). The hub NetworkPolicy is
checked by its semantics as templates/hub-netpol.yaml renders it (not enforced by a cluster).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
import yaml
from traitlets.config import Config

from hub_extensions import wiring
from hub_extensions.checks import check_config

from .conftest import need
from .infra.z2jh import chart_path, deep_merge, load_yaml

if TYPE_CHECKING:
    from jsonschema import Draft7Validator  # imported where used: over a second to import

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]
SNIPPETS = REPO / "helm-snippets"
OUR_SNIPPET = SNIPPETS / "hub-extensions.values.yaml"
DOCS = REPO / "docs" / "zero-to-jupyterhub.md"
# Values of other charts (binderhub-service) are not Z2JH values; test_builds_binderhub.py reads them.
OTHER_CHARTS = {"binderhub-service.yaml"}
SNIPPET_FILES = sorted(p for p in SNIPPETS.glob("*.yaml") if p.name not in OTHER_CHARTS)
HUB_POD_LABELS = {"app.kubernetes.io/name": "jupyterhub", "app.kubernetes.io/component": "hub"}


def _z2jh_file(*parts: str) -> dict:
    return load_yaml(need(lambda: chart_path(*parts)))


@pytest.fixture(scope="module")
def chart_defaults() -> dict:
    return _z2jh_file("values.yaml")


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    from jsonschema import Draft7Validator

    schema = _z2jh_file("values.schema.yaml")
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


@pytest.fixture(scope="module")
def snippet() -> dict:
    return yaml.safe_load(OUR_SNIPPET.read_text(encoding="utf-8"))


def schema_errors(validator: Draft7Validator, values: dict) -> list[str]:
    """Every schema error, each as `path: message`, sorted by path."""
    errors = sorted(validator.iter_errors(values), key=lambda e: [str(p) for p in e.path])
    return [f"{'.'.join(str(p) for p in e.path) or '<top>'}: {e.message}" for e in errors]


def snippet_errors(validator: Draft7Validator, defaults: dict, snippet: dict) -> list[str]:
    return schema_errors(validator, deep_merge(defaults, snippet))


# ---------------------------------------------------------------- every snippet vs the schema


def test_there_are_snippets():
    assert OUR_SNIPPET in SNIPPET_FILES


def test_chart_defaults_alone_are_valid(chart_defaults, validator):
    # if this fails, the merge-then-validate check below means nothing
    assert schema_errors(validator, chart_defaults) == []


@pytest.mark.parametrize("path", SNIPPET_FILES, ids=lambda p: p.name)
def test_snippet_is_valid_chart_values(path, chart_defaults, validator):
    values = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(values, dict), f"{path.name}: the top level must be a mapping"
    errors = snippet_errors(validator, chart_defaults, values)
    assert not errors, f"{path.name} is not valid for the chart:\n" + "\n".join(errors)


@pytest.mark.parametrize("path", SNIPPET_FILES, ids=lambda p: p.name)
def test_snippet_is_valid_for_chart_4_3_2(path):
    """The oldest chart whose data is at hand of the supported range (4.2.0 to 4.3.x)."""
    from jsonschema import Draft7Validator

    defaults = _z2jh_file("chart-4.3.2", "values.yaml")
    schema = Draft7Validator(_z2jh_file("chart-4.3.2", "values.schema.yaml"))
    values = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = snippet_errors(schema, defaults, values)
    assert not errors, f"{path.name} is not valid for chart 4.3.2:\n" + "\n".join(errors)


def test_deep_merge_is_helms():
    base = {"hub": {"a": 1, "l": [1, 2], "m": {"x": 1}}, "keep": True}
    merged = deep_merge(base, {"hub": {"a": 2, "l": [3], "m": {"y": 2}}})
    assert merged == {"hub": {"a": 2, "l": [3], "m": {"x": 1, "y": 2}}, "keep": True}
    assert base["hub"]["l"] == [1, 2]  # the defaults are not modified


# ---------------------------------------------------------------- the validator can fail


def test_validator_rejects_extra_ports_as_a_string(chart_defaults, validator, snippet):
    broken = copy.deepcopy(snippet)
    broken["hub"]["service"]["extraPorts"] = "10101"
    errors = snippet_errors(validator, chart_defaults, broken)
    assert errors == ["hub.service.extraPorts: '10101' is not of type 'array'"]


def test_validator_rejects_unknown_key_under_hub(chart_defaults, validator, snippet):
    broken = copy.deepcopy(snippet)
    broken["hub"]["extraConfigs"] = broken["hub"].pop("extraConfig")  # a typo
    errors = snippet_errors(validator, chart_defaults, broken)
    assert len(errors) == 1
    assert errors[0].startswith("hub: Additional properties are not allowed")
    assert "'extraConfigs'" in errors[0]


def test_validator_rejects_unknown_network_policy_key(chart_defaults, validator, snippet):
    broken = copy.deepcopy(snippet)
    broken["hub"]["networkPolicy"]["ingres"] = broken["hub"]["networkPolicy"].pop("ingress")
    errors = snippet_errors(validator, chart_defaults, broken)
    assert len(errors) == 1
    assert errors[0].startswith("hub.networkPolicy: Additional properties are not allowed")


# ---------------------------------------------------------------- our snippet's contents


def _extra_config(snippet: dict) -> str:
    return snippet["hub"]["extraConfig"]["hub-extensions"]


def _service_url(snippet: dict) -> str:
    c = _run_extra_config(snippet)
    return c.HubExtensions.service_url


def _run_extra_config(snippet: dict, base_url: str | None = None) -> Config:
    """The snippet's extraConfig after what the chart's jupyterhub_config.py sets first."""
    c = Config()
    c.JupyterHub.hub_bind_url = "http://:8081"
    c.JupyterHub.hub_connect_url = "http://hub:8081"
    if base_url is not None:
        c.JupyterHub.base_url = base_url
    exec(compile(_extra_config(snippet), "hub.extraConfig.hub-extensions", "exec"), {"c": c})  # noqa: S102
    return c


@pytest.fixture(autouse=True)
def outside_a_hub(monkeypatch):
    """setup(c) in the snippet must not hook into a JupyterHub another test initialized."""
    monkeypatch.setattr(wiring, "initializing_hub", lambda: None)


def test_extra_config_compiles_and_calls_setup(snippet):
    code = _extra_config(snippet)
    compile(code, "hub.extraConfig.hub-extensions", "exec")
    assert "import hub_extensions" in code
    assert "hub_extensions.setup(c)" in code


def test_extra_config_gives_a_valid_config(snippet):
    c = _run_extra_config(snippet)
    assert c.HubExtensions.service_url == "http://hub:10101"
    assert check_config(c) == []


def _wired_service(c: Config) -> dict:
    additions = wiring.wire(c, hub_version=(5, 5))  # the chart's appVersion is JupyterHub 5.5
    [service] = [s for s in additions.JupyterHub.services if s["name"] == "hub-extensions"]
    return service


def test_extra_config_wires_the_service_at_the_hub_service(snippet):
    c = _run_extra_config(snippet)
    assert _wired_service(c)["url"] == "http://hub:10101"
    options = wiring.load(c)
    assert options.bind_ip == "0.0.0.0"  # reachable from the proxy pod, not loopback only


@pytest.mark.parametrize(("base_url", "api"), [(None, "/hub/api/"), ("/jh/", "/jh/hub/api/")])
def test_the_service_calls_the_hub_over_the_pods_loopback(snippet, base_url, api):
    """Not through the hub Service (hub_connect_url, http://hub:8081), which loops back into
    the same pod: JupyterHub would give the service that URL."""
    c = _run_extra_config(snippet, base_url)
    env = _wired_service(c)["environment"]
    assert env["JUPYTERHUB_API_URL"] == f"http://127.0.0.1:8081{api}"


def test_the_loopback_url_keeps_the_admins_service_environment(snippet):
    c = Config()
    c.JupyterHub.hub_bind_url = "http://:8081"
    c.HubExtensions.service_environment = {"HTTPS_PROXY": "http://proxy.example.org:3128"}
    exec(compile(_extra_config(snippet), "extraConfig", "exec"), {"c": c})  # noqa: S102
    env = _wired_service(c)["environment"]
    assert env["HTTPS_PROXY"] == "http://proxy.example.org:3128"
    assert env["JUPYTERHUB_API_URL"] == "http://127.0.0.1:8081/hub/api/"


def test_hub_service_exposes_the_service_port(snippet):
    port = urlsplit(_service_url(snippet)).port
    assert urlsplit(_service_url(snippet)).hostname == "hub"  # the chart's hub Service name
    [extra] = [p for p in snippet["hub"]["service"]["extraPorts"] if p["name"] == "hub-extensions"]
    assert extra["port"] == port
    assert extra["targetPort"] == port  # the process listens on the same port in the pod
    assert extra.get("protocol", "TCP") == "TCP"
    # a k8s port name (IANA_SVC_NAME): the schema doesn't check it, the API server does
    assert len(extra["name"]) <= 15


def test_inside_the_hub_pod_the_service_host_is_the_pod_itself(snippet):
    """The hub's start-up check of http://hub:10101 stays on the pod's loopback."""
    host = urlsplit(_service_url(snippet)).hostname
    aliases = snippet["hub"]["extraPodSpec"]["hostAliases"]
    assert {"ip": "127.0.0.1", "hostnames": [host]} in aliases


# ---------------------------------------------------------------- Helm's list merge, as documented


def _list_paths(values, prefix=()) -> set[str]:
    """Dotted paths of every list in `values` (what a later values file would replace)."""
    if isinstance(values, dict):
        return set().union(set(), *(_list_paths(v, (*prefix, k)) for k, v in values.items()))
    return {".".join(prefix)} if isinstance(values, list) else set()


def _values_order(text: str) -> list[str]:
    """The --values files of the first `helm upgrade` command in `text`, in order."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "helm upgrade --install" in line)
    command = []
    for line in lines[start:]:
        command.append(line)
        if not line.rstrip().endswith("\\"):
            break
    return re.findall(r"--values\s+(\S+)", " ".join(command))


@pytest.mark.parametrize("path", SNIPPET_FILES, ids=lambda p: p.name)
def test_the_documented_command_passes_the_snippet_before_the_admins_file(path):
    order = _values_order(path.read_text(encoding="utf-8"))
    assert order[-1] == "config.yaml", order  # the admin's own lists win
    assert f"helm-snippets/{path.name}" in order


def test_the_docs_command_passes_the_snippet_first():
    order = _values_order(DOCS.read_text(encoding="utf-8"))
    assert order == ["helm-snippets/hub-extensions.values.yaml", "config.yaml"]


def test_the_lists_an_admins_file_must_repeat_are_named(snippet):
    header = OUR_SNIPPET.read_text(encoding="utf-8").split("\nhub:")[0]
    docs = DOCS.read_text(encoding="utf-8")
    paths = {p for p in _list_paths(snippet) if ".hostAliases." not in p}  # inside a list
    assert paths == {
        "hub.service.extraPorts",
        "hub.networkPolicy.ingress",
        "hub.extraPodSpec.hostAliases",
        "proxy.chp.networkPolicy.egress",
    }
    for path in paths:
        assert path in header, f"{path} missing from the snippet's header"
        assert f"`{path}`" in docs, f"{path} missing from docs/zero-to-jupyterhub.md"


def test_an_admins_later_list_replaces_the_snippets(chart_defaults, snippet):
    """Why the admin's file must repeat the snippet's entries: Helm keeps only its list."""
    admin = {"hub": {"service": {"extraPorts": [{"name": "metrics", "port": 9090}]}}}
    merged = deep_merge(chart_defaults, snippet, admin)
    assert [p["name"] for p in merged["hub"]["service"]["extraPorts"]] == ["metrics"]
    # maps still merge: the snippet's extraConfig and the admin's own entries are both there
    admin["hub"]["extraConfig"] = {"mine": "c.JupyterHub.shutdown_on_logout = True"}
    merged = deep_merge(chart_defaults, snippet, admin)
    assert set(merged["hub"]["extraConfig"]) == {"hub-extensions", "mine"}


# ---------------------------------------------------------------- the hub image


def test_image_example_is_commented_out_and_valid(snippet, chart_defaults, validator):
    # the chart's own hub image lacks the package; the admin must build and name theirs
    assert "image" not in snippet["hub"]
    text = OUR_SNIPPET.read_text(encoding="utf-8")
    [dockerfile] = re.findall(r"docker build -f (images/hub/\S+\.Dockerfile)", text)
    assert (REPO / dockerfile).is_file()
    # uncommented as the comment says, the example is valid (e.g. its tag is a string)
    lines = text.splitlines()
    start = lines.index("  # image:")
    block = ["  image:"]
    for line in lines[start + 1 :]:
        if not line.startswith("  #   "):
            break
        block.append("    " + line.removeprefix("  #   "))
    example = yaml.safe_load("hub:\n" + "\n".join(block))
    assert set(example["hub"]["image"]) == {"name", "tag"}
    assert snippet_errors(validator, chart_defaults, deep_merge(snippet, example)) == []
