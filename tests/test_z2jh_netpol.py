"""The hub NetworkPolicy with helm-snippets/hub-extensions.values.yaml admits exactly what is
needed: port 10101 from the proxy pod, nothing else new.

Checked by the policy's semantics as the chart's templates/hub-netpol.yaml renders it (read
from ../shared/z2jh/), for the labels the chart gives its pods; no cluster enforces it here.
Also: the snippet's hub pod spec and the rendered policy pass Kubernetes' own schemas.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from .conftest import need
from .infra.z2jh import chart_path, deep_merge
from .test_helm_snippets import HUB_POD_LABELS, _service_url, chart_defaults, outside_a_hub, snippet

pytestmark = pytest.mark.unit
__all__ = ["chart_defaults", "outside_a_hub", "snippet"]  # fixtures shared with that module

# The labels the chart gives its pods (templates/proxy/deployment.yaml, KubeSpawner's user pods)
PROXY_POD = {
    "app.kubernetes.io/name": "jupyterhub",
    "app.kubernetes.io/component": "proxy",
    "hub.jupyter.org/network-access-hub": "true",
    "hub.jupyter.org/network-access-singleuser": "true",
}
USER_POD = {
    "app.kubernetes.io/name": "jupyterhub",
    "app.kubernetes.io/component": "singleuser-server",
    "hub.jupyter.org/network-access-hub": "true",
}
OTHER_POD = {"app": "something-else"}


# ------------------------------------------------------------------ NetworkPolicy semantics
#: Named ports of the hub container (templates/hub-deployment.yaml: `ports: - name: http`).
HUB_NAMED_PORTS = {"http": 8081}


def hub_ingress_rules(values: dict) -> list[dict]:
    """The hub NetworkPolicy's ingress rules as templates/hub-netpol.yaml renders them."""
    policy = values["hub"]["networkPolicy"]
    if not policy["enabled"]:
        return [{}]  # no policy: everything is admitted
    rules: list[dict] = []
    if policy.get("allowedIngressPorts"):
        rules.append({"ports": [{"port": p} for p in policy["allowedIngressPorts"]]})
    sources: list[dict] = [
        {"podSelector": {"matchLabels": {"hub.jupyter.org/network-access-hub": "true"}}}
    ]
    if policy.get("interNamespaceAccessLabels") == "accept":
        sources[0]["namespaceSelector"] = {"matchLabels": {}}
        sources.append(
            {"namespaceSelector": {"matchLabels": {"hub.jupyter.org/network-access-hub": "true"}}}
        )
    rules.append({"ports": [{"port": "http"}], "from": sources})
    rules.extend(policy.get("ingress") or [])
    return rules


def _selects(selector: dict | None, labels: dict) -> bool:
    if selector is None:
        return True
    wanted = selector.get("matchLabels") or {}
    return all(labels.get(k) == v for k, v in wanted.items()) and not selector.get(
        "matchExpressions"
    )


def admits(rules: list[dict], pod_labels: dict, port: int, same_namespace: bool = True) -> bool:
    """Whether `rules` (NetworkPolicy ingress) admit TCP `port` from a pod with `pod_labels`."""
    for rule in rules:
        ports = rule.get("ports")
        if ports and not any(
            HUB_NAMED_PORTS.get(p.get("port"), p.get("port")) == port
            and p.get("protocol", "TCP") == "TCP"
            for p in ports
        ):
            continue
        sources = rule.get("from")
        if not sources:
            return True  # no `from`: any source
        for source in sources:
            if "ipBlock" in source:
                continue  # pods are not addressed by IP ranges here
            pod_ok = _selects(source.get("podSelector"), pod_labels)
            if "namespaceSelector" in source:
                ns_ok = not (source["namespaceSelector"].get("matchLabels") or {})
            else:
                ns_ok = same_namespace
            if "podSelector" not in source and "namespaceSelector" not in source:
                continue
            if pod_ok and ns_ok:
                return True
    return False


@pytest.fixture(scope="module")
def hub_rules(chart_defaults, snippet) -> list[dict]:
    template = need(lambda: chart_path("templates", "hub-netpol.yaml")).read_text()
    # what hub_ingress_rules() renders, as the template says it
    for part in (
        ".Values.hub.networkPolicy.allowedIngressPorts",
        "- port: http",
        'hub.jupyter.org/network-access-hub: "true"',
        ".Values.hub.networkPolicy.ingress",
    ):
        assert part in template, f"templates/hub-netpol.yaml changed: {part!r} not found"
    merged = deep_merge(chart_defaults, snippet)
    assert merged["hub"]["networkPolicy"]["enabled"] is True  # the chart's default
    return hub_ingress_rules(merged)


def test_the_proxy_reaches_the_service_port(snippet, hub_rules):
    port = urlsplit(_service_url(snippet)).port
    assert admits(hub_rules, PROXY_POD, port)
    assert admits(hub_rules, PROXY_POD, 8081)  # the chart's own rule, unchanged


@pytest.mark.parametrize("pod", [USER_POD, OTHER_POD, HUB_POD_LABELS], ids=["user", "other", "hub"])
def test_nothing_else_reaches_the_service_port(snippet, hub_rules, pod):
    """User servers and other pods reach the service through the proxy; the hub and the
    service talk over the pod's loopback, which NetworkPolicies do not police."""
    assert not admits(hub_rules, pod, urlsplit(_service_url(snippet)).port)


def test_the_snippet_opens_no_other_hub_port(chart_defaults, hub_rules):
    defaults = hub_ingress_rules(chart_defaults)
    for pod in (PROXY_POD, USER_POD, OTHER_POD, HUB_POD_LABELS):
        for port in (8081, 8000, 8001, 8888, 10102):
            assert admits(hub_rules, pod, port) == admits(defaults, pod, port), (pod, port)


def test_the_netpol_semantics_can_fail():
    rules = [{"ports": [{"port": 10101}], "from": [{"podSelector": {"matchLabels": {"a": "b"}}}]}]
    assert admits(rules, {"a": "b", "c": "d"}, 10101)
    assert not admits(rules, {"a": "x"}, 10101)
    assert not admits(rules, {"a": "b"}, 10102)
    assert admits([{"ports": [{"port": 10101}]}], OTHER_POD, 10101)  # no `from`: anyone
    assert admits(hub_ingress_rules({"hub": {"networkPolicy": {"enabled": False}}}), {}, 1)


def test_proxy_egress_reaches_the_hub_pod_on_the_service_port(snippet):
    port = urlsplit(_service_url(snippet)).port
    rules = [
        r
        for r in snippet["proxy"]["chp"]["networkPolicy"]["egress"]
        if any(p.get("port") == port for p in r.get("ports", []))
    ]
    targets = [t.get("podSelector", {}).get("matchLabels") for r in rules for t in r["to"]]
    assert HUB_POD_LABELS in targets


# ---------------------------------------------------------------- what the chart renders, valid


def test_the_hub_pod_spec_and_network_policy_are_valid_kubernetes(chart_defaults, snippet):
    """The snippet's extraPodSpec in a hub pod, and the hub NetworkPolicy as the chart renders
    it, pass Kubernetes' own schemas (kubernetes-validate, strict)."""
    import kubernetes_validate  # here, not at the top: kubernetes_validate imports jsonschema, over a second

    merged = deep_merge(chart_defaults, snippet)
    version = kubernetes_validate.latest_version()
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "hub"},
        "spec": {
            "containers": [
                {"name": "hub", "image": "hub", "ports": [{"name": "http", "containerPort": 8081}]}
            ],
            **merged["hub"]["extraPodSpec"],
        },
    }
    kubernetes_validate.validate(pod, version, strict=True)
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "hub"},
        "spec": {
            "podSelector": {"matchLabels": HUB_POD_LABELS},
            "policyTypes": ["Ingress"],
            "ingress": hub_ingress_rules(merged),
        },
    }
    kubernetes_validate.validate(policy, version, strict=True)
