"""Conformance with KubeSpawner 7.1 over a corpus of real-world-shaped profile lists.

For every list in tests/data/profile_lists: the hub's start check accepts it (warnings are
allowed and collected per class), and for every user choice (each profile, choice and typed
"Other..." value at least once, the page as shown, a second visit after an "Other..." start)
the pod manifest of `profiles-kubernetes` equals KubeSpawner's own. Both sides go through the
page a user sees: KubeSpawner's form with the effect of its page script, ours by plain HTML
form rules (no JavaScript; the browser tier samples the script), the form data a browser
posts, then JupyterHub's and KubeSpawner's own steps up to `get_pod_manifest()`. Every manifest
is validated with kubernetes-validate (strict, its newest Kubernetes version). A choice
KubeSpawner rejects must be a 400 naming the field; nothing may fail otherwise.

Not covered: creating the pod (no cluster), HTML `pattern` checks in KubeSpawner's page (the
typed values used match the pattern; refused ones are posted as a client without them would).
"""

from __future__ import annotations

import difflib
import functools
import json
import re

import pytest
import yaml

from hub_extensions.profiles import checks
from hub_extensions.profiles.config_check import check_profiles

from .infra.kubespawner_form import KubeSpawnerPage
from .infra.kubespawner_launch import Launch, hub_user, launch, new_spawner, spawner_config
from .infra.profile_corpus import (
    UNLISTED,
    Case,
    UserChoice,
    combinations,
    load_corpus,
    rejected,
    second_visits,
)
from .infra.profile_form_actions import PlainPage, act, displayed_choice

# KubeSpawner and ProfilesKubeSpawner are imported where they are used: kubespawner's import
# (kubernetes_asyncio, kubernetes_validate, jsonschema) takes over two seconds of every collection.
pytestmark = pytest.mark.unit
# one event loop for the module: KubeSpawner's API client (and its TLS context, ~40 ms to make)
# is shared per loop, and nothing here depends on a fresh loop
in_module_loop = pytest.mark.asyncio(loop_scope="module")

CASES = load_corpus()
REPORT: dict = {"lists": {}, "compared": 0, "second_visits": 0, "refusals_checked": 0}


def _params(make):
    return [
        pytest.param(case, user, *item, id=f"{case.name}:{user}:{_label(item)}")
        for case in CASES
        for user in case.users
        for item in make(case, user)
    ]


def _label(item) -> str:
    return " then ".join(c.label() for c in item)


@pytest.fixture(autouse=True)
def _no_cluster(kubeconfig):  # every KubeSpawner here points at no cluster (see conftest)
    return kubeconfig


@pytest.fixture(scope="module", autouse=True)
def _summary(request, artifacts):
    import kubernetes_validate  # here, not at the top: kubernetes_validate imports jsonschema, over a second

    original = kubernetes_validate.utils.schema_contents
    # the schemas are read from disk on every call; they never change during the run
    kubernetes_validate.utils.schema_contents = functools.cache(original)
    yield
    kubernetes_validate.utils.schema_contents = original
    REPORT["corpus_size"] = len(CASES)
    REPORT["kubernetes_version"] = kubernetes_validate.latest_version()
    classes: dict[str, int] = {}
    for entry in REPORT["lists"].values():
        for warning in entry.get("warnings", []):
            classes[warning_class(warning)] = classes.get(warning_class(warning), 0) + 1
    REPORT["warnings_per_class"] = dict(sorted(classes.items(), key=lambda kv: -kv[1]))
    (artifacts / "profiles-conformance.json").write_text(json.dumps(REPORT, indent=2))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nprofiles conformance: {len(CASES)} lists, {REPORT['compared']} choices "
                f"compared with KubeSpawner 7.1, {REPORT['second_visits']} second visits, "
                f"{REPORT['refusals_checked']} refusals checked; warnings per class:"
            )
            for cls, count in REPORT["warnings_per_class"].items():
                reporter.write_line(f"  {count} x {cls}")


# --- the start check ---------------------------------------------------------------------------


def start_check(config) -> tuple[list[str], list[str]]:
    """(refusals, warnings) of the hub's start check for `config`."""
    warnings: list[str] = []
    refusals = check_profiles(config, warnings)
    return refusals, warnings


async def first_evaluation(case: Case, user: str) -> tuple[list[str], list[str]]:
    """(refusals, warnings) when a callable list is first evaluated for `user`'s spawner."""
    from hub_extensions.spawners.profiles_kubernetes import ProfilesKubeSpawner

    config = spawner_config("profiles-kubernetes", case.profile_list(), case.kubespawner)
    spawner = new_spawner(hub_user(user, case.users[user], ProfilesKubeSpawner, config), None)
    checked = await checks.evaluate(spawner.profile_list, spawner)
    return [str(p) for p in checked.refusals], [str(p) for p in checked.warnings]


def warning_class(message: str) -> str:
    """'kubespawner_override.default: ... has no option …' from a warning about one place."""
    path, _, problem = message.partition(": ")
    parts = [re.sub(r"\[[^\]]*\]", "", p) for p in path.split(".")]
    named = [
        p for i, p in enumerate(parts) if parts[i - 1 : i] not in (["choices"], ["profile_options"])
    ]
    problem = re.sub(r"'[^']*'|\"[^\"]*\"", "…", problem.split(". ")[0])
    return f"{'.'.join(named[-2:])}: {problem}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@in_module_loop
async def test_the_start_check_accepts_every_list(case: Case):
    """Static lists at hub start; callables when first evaluated for each corpus user."""
    config = spawner_config("profiles-kubernetes", case.profile_list(), case.kubespawner)
    refusals, warnings = start_check(config)
    if case.raw.get("callable"):
        for user in case.users:
            more = await first_evaluation(case, user)
            refusals += [m for m in more[0] if m not in refusals]
            warnings += [m for m in more[1] if m not in warnings]
    REPORT["lists"][case.name] = {
        "shape": case.shape,
        "refusals": refusals,
        "warnings": warnings,
        "warning_classes": sorted({warning_class(w) for w in warnings}),
    }
    assert refusals == [], f"{case.name} is refused, KubeSpawner 7.1 runs it:\n" + "\n".join(
        refusals
    )


def test_the_corpus_covers_the_shapes_of_real_deployments():
    """At least 30 lists, each stating its shape, together covering every shape of issue #12."""
    assert len(CASES) >= 30
    texts = {c.name: (c.shape, yaml.safe_dump(c.raw)) for c in CASES}
    for name, (shape, _) in texts.items():
        assert "Shape:" in shape, f"{name} does not state its shape"
        assert "Mimics" in shape, f"{name} does not say what deployment it mimics"
    everything = "\n".join(t for _, t in texts.values())
    for key in ("image:", "cpu_limit:", "cpu_guarantee:", "mem_limit:", "mem_guarantee:",
                "node_selector:", "extra_resource_limits:", "nvidia.com/gpu", "environment:",
                "init_containers:", "default_url:", "image_pull_policy:", "tolerations:",
                "volumes:", "volume_mounts:", "validation_regex:", "validation_message:",
                "display_name_in_choices:", "description_in_choices:", "dynamic_image_building:",
                "allowed_groups:", "slug:", "callable:"):  # fmt: skip
        assert key in everything, f"no list in the corpus uses {key}"
    assert any(isinstance(c.raw["profile_list"], dict) for c in CASES)
    assert any(c.raw.get("callable") == "async_per_user" for c in CASES)
    shapes = " ".join(c.shape for c in CASES)
    for phrase in ("only an unlisted choice", "two profiles with default: true",
                   "two choices with default: true", "inside kubespawner_override", "HTML"):  # fmt: skip
        assert phrase in shapes, f"no list states the shape {phrase!r}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_typed_samples_are_what_the_lists_regex_says(case: Case):
    """Valid samples fully match validation_regex; invalid ones fail KubeSpawner's own check
    (re.match) or are empty, so KubeSpawner rejects them too; every unlisted-only option has one."""
    for user in case.users:
        for profile in case.initialized(user):
            for key, option in (profile.get("profile_options") or {}).items():
                unlisted = option.get("unlisted_choice") or {}
                if not unlisted.get("enabled"):
                    continue
                regex = unlisted.get("validation_regex") or ""
                valid = case.samples(profile["slug"], key, "valid")
                if not option.get("choices"):
                    assert valid, (
                        f"{profile['slug']}/{key} has only an unlisted choice: add samples"
                    )
                for value in valid:
                    assert not regex or re.fullmatch(regex, value), (key, value)
                for value in case.samples(profile["slug"], key, "invalid"):
                    assert value == "" or not re.match(regex, value), (key, value)


# --- the same choice gives the same pod ------------------------------------------------------


_KUBESPAWNER_PAGES: dict[str, str] = {}


async def kubespawner_side(case: Case, user: str, choice: UserChoice, last=None):
    from kubespawner import KubeSpawner

    config = spawner_config("kubespawner.KubeSpawner", case.profile_list(), case.kubespawner)
    spawner = new_spawner(hub_user(user, case.users[user], KubeSpawner, config), last)
    # KubeSpawner compiles its template on every render (~40 ms); its page depends only on
    # the list, the user (callables) and the last user_options, so each is rendered once
    key = json.dumps([case.name, user, last], sort_keys=True)
    if key not in _KUBESPAWNER_PAGES:
        _KUBESPAWNER_PAGES[key] = await spawner.get_options_form()
    page = KubeSpawnerPage(_KUBESPAWNER_PAGES[key])
    return page, spawner, act(page, choice)


async def our_side(case: Case, user: str, choice: UserChoice, last=None):
    from hub_extensions.spawners.profiles_kubernetes import ProfilesKubeSpawner

    config = spawner_config("profiles-kubernetes", case.profile_list(), case.kubespawner)
    spawner = new_spawner(hub_user(user, case.users[user], ProfilesKubeSpawner, config), last)
    page = PlainPage(await spawner.get_options_form())
    return page, spawner, act(page, choice)


async def both(case: Case, user: str, choice: UserChoice, last=(None, None)):
    """Our launch and KubeSpawner's for the same user choice (ours as shown: what our page
    shows is the choice the KubeSpawner user makes)."""
    page, spawner, data = await our_side(case, user, choice, last[1])
    shown = displayed_choice(page) if choice.profile is None else choice
    ours = await launch(spawner, data)
    _, ks_spawner, ks_data = await kubespawner_side(case, user, shown, last[0])
    reference = await launch(ks_spawner, ks_data)
    return ours, reference, shown


def check_pod(ours: Launch, reference: Launch, what: str) -> None:
    import kubernetes_validate

    assert reference.pod is not None, f"KubeSpawner cannot launch {what}: {reference.describe()}"
    assert ours.failure is None, f"{what}: {ours.describe()}"
    assert ours.refused is None, f"{what} is refused, KubeSpawner launches it: {ours.describe()}"
    if ours.pod != reference.pod:
        a = yaml.safe_dump(reference.pod).splitlines()
        b = yaml.safe_dump(ours.pod).splitlines()
        diff = "\n".join(
            difflib.unified_diff(a, b, "kubespawner", "profiles-kubernetes", lineterm="")
        )
        pytest.fail(f"{what}: the pod differs from KubeSpawner's:\n{diff}")
    kubernetes_validate.validate(ours.pod, kubernetes_validate.latest_version(), strict=True)


@pytest.mark.parametrize(
    ("case", "user", "choice"), _params(lambda c, u: [(x,) for x in combinations(c, u)])
)
@in_module_loop
async def test_a_choice_launches_kubespawners_pod(case: Case, user: str, choice: UserChoice):
    from hub_extensions.spawners.profiles_kubernetes import ProfilesKubeSpawner

    ours, reference, shown = await both(case, user, choice)
    what = f"{case.name}, {user} choosing {shown.label()}"
    empty = [p for p in shown.picks if p.kind == UNLISTED and not p.value]
    if empty:  # the page as shown needs a typed value first: a 400 (KubeSpawner fails)
        assert reference.pod is None, f"KubeSpawner launches {what}"
        check_refused(ours, f"profile-option-{shown.profile}--{empty[0].option}--unlisted-choice")
        return
    REPORT["compared"] += 1
    check_pod(ours, reference, what)
    # the same choice through the REST API: KubeSpawner's form's user_options, as a script sends
    config = spawner_config("profiles-kubernetes", case.profile_list(), case.kubespawner)
    spawner = new_spawner(hub_user(user, case.users[user], ProfilesKubeSpawner, config), None)
    rest = await launch(spawner, None, rest=reference.user_options)
    check_pod(rest, reference, f"{what} (REST user_options {reference.user_options})")


@pytest.mark.parametrize(("case", "user", "first", "then"), _params(second_visits))
@in_module_loop
async def test_a_second_visit_after_other_launches_what_the_user_picks(
    case: Case, user: str, first: UserChoice, then: UserChoice
):
    ours_first, reference_first, _ = await both(case, user, first)
    check_pod(ours_first, reference_first, f"{case.name}: the first start ({first.label()})")
    last = (reference_first.user_options, ours_first.user_options)
    ours, reference, shown = await both(case, user, then, last)
    REPORT["second_visits"] += 1
    if then.profile is None:  # the page offers the last start's typed value again
        offered = shown.profile == first.profile and set(first.picks) <= set(shown.picks)
        assert offered, f"after {first.label()} our page shows {shown.label()}"
    check_pod(ours, reference, f"{case.name}: {then.label()} after {first.label()}")


@pytest.mark.parametrize(
    ("case", "user", "choice"), _params(lambda c, u: [(x,) for x in rejected(c, u)])
)
@in_module_loop
async def test_a_value_kubespawner_rejects_is_a_400_naming_the_field(
    case: Case, user: str, choice: UserChoice
):
    pick = choice.picks[0]
    assert pick.kind == UNLISTED
    _, ks_spawner, ks_data = await kubespawner_side(case, user, choice)
    reference = await launch(ks_spawner, ks_data)
    assert reference.pod is None, f"KubeSpawner launches {pick.value!r}: not a rejected sample"
    _, spawner, data = await our_side(case, user, choice)
    ours = await launch(spawner, data)
    check_refused(ours, f"profile-option-{choice.profile}--{pick.option}--unlisted-choice")


def check_refused(ours: Launch, field: str) -> None:
    REPORT["refusals_checked"] += 1
    assert ours.failure is None, ours.describe()
    assert ours.refused is not None, ours.describe()
    assert ours.refused.status_code == 400, ours.describe()
    assert field in ours.refused.log_message, ours.describe()
