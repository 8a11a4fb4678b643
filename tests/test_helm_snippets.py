"""helm-snippets/*.yaml are valid Zero to JupyterHub values, and ours wires the suite in.

No `helm` here: a snippet is checked the way helm would, by deep-merging it into the chart's
default values and validating the result against the chart's JSON schema. The chart data is
read from `shared/z2jh/` beside the repository (see its README.md), never copied into it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema import Draft7Validator
from traitlets.config import Config

from hub_extensions import wiring
from hub_extensions.config import check_config

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]
Z2JH = REPO.parent / "shared" / "z2jh"
SNIPPETS = REPO / "helm-snippets"
OUR_SNIPPET = SNIPPETS / "hub-extensions.values.yaml"
# Values of other charts (binderhub-service) are not Z2JH values; test_builds_binderhub.py reads them.
OTHER_CHARTS = {"binderhub-service.yaml"}
SNIPPET_FILES = sorted(p for p in SNIPPETS.glob("*.yaml") if p.name not in OTHER_CHARTS)
HUB_POD_LABELS = {"app.kubernetes.io/name": "jupyterhub", "app.kubernetes.io/component": "hub"}


def _z2jh_file(name: str) -> dict:
    path = Z2JH / name
    if not path.is_file():
        pytest.fail(
            f"Zero to JupyterHub chart data missing: {path} not found. The tests expect the "
            f"shared/ folder beside the repository clone ({path.parent}/ with values.yaml "
            "and values.schema.yaml); see shared/z2jh/README.md."
        )
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def chart_defaults() -> dict:
    return _z2jh_file("values.yaml")


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = _z2jh_file("values.schema.yaml")
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


@pytest.fixture(scope="module")
def snippet() -> dict:
    return yaml.safe_load(OUR_SNIPPET.read_text(encoding="utf-8"))


def deep_merge(base: dict, override: dict) -> dict:
    """helm's merge of values files: maps merge key by key, lists and scalars replace."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


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


def _run_extra_config(snippet: dict) -> Config:
    c = Config()
    exec(compile(_extra_config(snippet), "hub.extraConfig.hub-extensions", "exec"), {"c": c})  # noqa: S102
    return c


@pytest.fixture(autouse=True)
def outside_a_hub(monkeypatch):
    """setup(c) in the snippet must not hook into a JupyterHub another test initialized."""
    monkeypatch.setattr(wiring, "_initializing_hub", lambda: None)


def test_extra_config_compiles_and_calls_setup(snippet):
    code = _extra_config(snippet)
    compile(code, "hub.extraConfig.hub-extensions", "exec")
    assert "import hub_extensions" in code
    assert "hub_extensions.setup(c)" in code


def test_extra_config_gives_a_valid_config(snippet):
    c = _run_extra_config(snippet)
    assert c.HubExtensions.service_url == "http://hub:10101"
    assert check_config(c) == []


def test_extra_config_wires_the_service_at_the_hub_service(snippet):
    c = _run_extra_config(snippet)
    additions = wiring.wire(c, hub_version=(5, 5))  # the chart's appVersion is JupyterHub 5.5
    [service] = [s for s in additions.JupyterHub.services if s["name"] == "hub-extensions"]
    assert service["url"] == "http://hub:10101"
    options = wiring.load(c)
    assert options.bind_ip == "0.0.0.0"  # reachable from the proxy pod, not loopback only


def test_hub_service_exposes_the_service_port(snippet):
    port = urlsplit(_service_url(snippet)).port
    assert urlsplit(_service_url(snippet)).hostname == "hub"  # the chart's hub Service name
    [extra] = [p for p in snippet["hub"]["service"]["extraPorts"] if p["name"] == "hub-extensions"]
    assert extra["port"] == port
    assert extra["targetPort"] == port  # the process listens on the same port in the pod
    assert extra.get("protocol", "TCP") == "TCP"
    # a k8s port name (IANA_SVC_NAME): the schema doesn't check it, the API server does
    assert len(extra["name"]) <= 15


def _rules_for_port(rules: list[dict], port: int) -> list[dict]:
    return [r for r in rules if any(p.get("port") == port for p in r.get("ports", []))]


def test_hub_network_policy_admits_proxy_and_hub_on_the_service_port(
    snippet, chart_defaults, validator
):
    port = urlsplit(_service_url(snippet)).port
    rules = _rules_for_port(snippet["hub"]["networkPolicy"]["ingress"], port)
    assert rules, f"no hub.networkPolicy.ingress rule for port {port}"
    sources = [s.get("podSelector", {}).get("matchLabels") for r in rules for s in r["from"]]
    # the chart's proxy pod carries this label (templates/proxy/deployment.yaml)
    assert {"hub.jupyter.org/network-access-hub": "true"} in sources
    # the hub's start-up check of the service goes through the hub Service
    assert HUB_POD_LABELS in sources
    # ...and the chart does keep its hub NetworkPolicy on by default
    assert deep_merge(chart_defaults, snippet)["hub"]["networkPolicy"]["enabled"] is True


def test_proxy_egress_reaches_the_hub_pod_on_the_service_port(snippet):
    port = urlsplit(_service_url(snippet)).port
    rules = _rules_for_port(snippet["proxy"]["chp"]["networkPolicy"]["egress"], port)
    targets = [t.get("podSelector", {}).get("matchLabels") for r in rules for t in r["to"]]
    assert HUB_POD_LABELS in targets


def test_image_example_is_commented_out_and_valid(snippet, chart_defaults, validator):
    # the chart's own hub image lacks the package; the admin must build and name theirs
    assert "image" not in snippet["hub"]
    text = OUR_SNIPPET.read_text(encoding="utf-8")
    assert "FROM quay.io/jupyterhub/k8s-hub:" in text
    assert "pip install --no-cache-dir hub-extensions" in text
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
