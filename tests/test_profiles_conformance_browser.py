"""Conformance with KubeSpawner 7.1 in Chromium: a sample of the corpus, both forms' scripts running.

Our form is served by a real hub (ProfilesKubeSpawner, the corpus list of each test user) with
its script; KubeSpawner's own form (rendered by KubeSpawner in the test) runs in Chromium with
its jQuery script. The same user actions are made on both pages, the POST bodies Chromium
sends are captured (route interception), and each goes through its spawner's pipeline in the
test process (tests/infra/kubespawner_launch.py) to the pod manifest: they must be equal, and
KubeSpawner's body must equal what the unit tier's replay of its script (`KubeSpawnerPage`)
posts. The second visit's "Other..." start goes through the hub for real, so the hub stores
the user_options that its next page pre-fills.

Not covered: a cluster. The hub's spawner is ProfilesKubeSpawner with `start()` replaced by one
that fails after 1.5 s (no Kubernetes here); everything before `start()` is the real code.
Each user's list comes from a callable choosing the corpus file by user name (one hub for all).
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .infra.browser import sign_in
from .infra.common import wait_until
from .infra.html_form import form_data_from_body
from .infra.kubespawner_form import UNLISTED_CHOICE, KubeSpawnerPage
from .infra.kubespawner_launch import hub_user, launch_body, new_spawner, spawner_config
from .infra.profile_corpus import UNLISTED, Pick, UserChoice, load_corpus
from .infra.profile_form_actions import act

# KubeSpawner and ProfilesKubeSpawner are imported where they are used: kubespawner's import
# (kubernetes_asyncio, kubernetes_validate, jsonschema) takes over two seconds of every collection.
pytestmark = pytest.mark.browser
# Playwright's sync API owns the main thread's event loop: the spawners run in one worker
# thread (its own loop each time; the in-memory hub database stays in that thread)
WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spawners")


def run(coroutine):
    return WORKER.submit(asyncio.run, coroutine).result(timeout=60)


CASES = {c.name: c for c in load_corpus()}
USERS = {  # hub user -> (corpus list, that list's user whose groups it gets)
    "c03": ("03-image-choices-other", "alice"),
    "c13": ("13-default-url-pull-policy", "alice"),
    "c30": ("30-2i2c-community-hub", "gpuuser"),
    "c09": ("09-unlisted-only-option", "alice"),
}
KUBESPAWNER_PAGE = "http://kubespawner.test/hub/spawn"
JQUERY = "components/jquery/dist/jquery.min.js"

HUB_CONFIG = """
import asyncio, pathlib, yaml
from hub_extensions.spawners.profiles_kubernetes import ProfilesKubeSpawner

class NoClusterKubeSpawner(ProfilesKubeSpawner):
    async def start(self):  # test stand-in: no Kubernetes cluster here
        await asyncio.sleep(1.5)
        raise RuntimeError("no Kubernetes cluster in this test")

LISTS = {LISTS!r}

def corpus_list(spawner):
    return yaml.safe_load(pathlib.Path(LISTS[spawner.user.name]).read_text())["profile_list"]

c.JupyterHub.spawner_class = NoClusterKubeSpawner
c.KubeSpawner.profile_list = corpus_list
c.KubeSpawner.namespace = "hub"
"""


@pytest.fixture(scope="module")
def hub(hub_factory, request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("conformance-browser")
    kubeconfig = tmp / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n"
        "clusters: [{name: nowhere, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody}}]\n"
        "users: [{name: nobody, user: {token: not-a-token}}]\n"
    )
    lists = {u: str(CASES[name].path) for u, (name, _) in USERS.items()}
    demo = hub_factory.shared(
        request,
        config=HUB_CONFIG.replace("{LISTS!r}", repr(lists)),
        env={"KUBECONFIG": str(kubeconfig)},
    )
    admin = demo.api(demo.token(demo.login("demo"), "demo"))
    r = admin.post(demo.hub_url("api/users"), json={"usernames": list(USERS)}, timeout=10)
    assert r.status_code == 201, r.text
    for hub_name, (name, user) in USERS.items():
        for group in CASES[name].users[user]:
            r = admin.post(demo.hub_url(f"api/groups/{group}"), json={"users": []}, timeout=10)
            assert r.status_code in (201, 409), r.text
            r = admin.post(demo.hub_url(f"api/groups/{group}/users"), json={"users": [hub_name]},
                           timeout=10)  # fmt: skip
            assert r.status_code == 200, r.text
    return demo


def in_browser(page, choice: UserChoice) -> tuple[bytes, str]:
    """Make `choice` with the page's script running; the POST body Chromium sends and its
    content type."""
    if choice.profile is not None:
        page.locator(f'[id="profile-item-{choice.profile}"]').check()
        for pick in choice.picks:
            select = page.locator(f'[id="profile-option-{choice.profile}--{pick.option}"]')
            if pick.kind == UNLISTED:
                select.select_option(UNLISTED_CHOICE)
                page.locator(f'[id="{select.get_attribute("id")}--unlisted-choice"]').fill(
                    pick.value
                )
            else:
                select.select_option(pick.value)
    with page.expect_request(lambda r: r.method == "POST" and "/hub/spawn" in r.url) as sent:
        page.get_by_role("button", name="Start", exact=True).click()
    request = sent.value
    return request.post_data_buffer or b"", request.headers.get("content-type", "")


def capture_posts(page) -> None:
    """Answer the spawn POST in the browser: it is launched in the test process instead."""

    def answer(route):
        if route.request.method == "POST":
            route.fulfill(status=200, content_type="text/plain", body="captured")
        else:
            route.continue_()

    page.route("**/hub/spawn**", answer)


def kubespawner_page(browser, html: str):
    """KubeSpawner's form in a page with jQuery, as JupyterHub's spawn.html wraps it."""
    from jupyterhub._data import DATA_FILES_PATH

    jquery = (Path(DATA_FILES_PATH) / "static" / JQUERY).read_bytes()
    page = browser.new_page()
    shell = (f'<!doctype html><html><head><script src="/{JQUERY}"></script></head><body>'
             f'<form id="spawn_form" action="/hub/spawn" method="post">{html}'
             '<button type="submit">Start</button></form></body></html>')  # fmt: skip

    def serve(route):
        if route.request.url.endswith(JQUERY):
            route.fulfill(body=jquery, content_type="text/javascript")
        elif route.request.method == "POST":
            route.fulfill(status=200, content_type="text/plain", body="captured")
        else:
            route.fulfill(body=shell, content_type="text/html")

    page.route("http://kubespawner.test/**", serve)
    page.goto(KUBESPAWNER_PAGE)
    return page


async def kubespawner_spawner(hub_name: str, last):
    from kubespawner import KubeSpawner

    name, user = USERS[hub_name]
    case = CASES[name]
    config = spawner_config("kubespawner.KubeSpawner", case.profile_list(), case.kubespawner)
    spawner = new_spawner(hub_user(hub_name, case.users[user], KubeSpawner, config), last)
    return spawner, await spawner.get_options_form()


def kubespawner_launch(browser, hub_name: str, choice: UserChoice, last=None):
    """KubeSpawner's page in Chromium, its POST body, the checked replay and the launch."""
    spawner, html = run(kubespawner_spawner(hub_name, last))
    page = kubespawner_page(browser, html)
    body, content_type = in_browser(page, choice)
    page.close()
    posted = form_data_from_body(body, content_type)
    assert posted == act(KubeSpawnerPage(html), choice), "the unit tier's replay differs"
    return run(launch_body(spawner, body, content_type))


async def _our_launch(hub_name: str, sent: tuple[bytes, str]):
    from hub_extensions.spawners.profiles_kubernetes import ProfilesKubeSpawner

    name, user = USERS[hub_name]
    case = CASES[name]
    config = spawner_config("profiles-kubernetes", case.profile_list(), case.kubespawner)
    spawner = new_spawner(hub_user(hub_name, case.users[user], ProfilesKubeSpawner, config), None)
    return await launch_body(spawner, *sent)


def our_launch(hub_name: str, sent: tuple[bytes, str]):
    return run(_our_launch(hub_name, sent))


def same_pod(ours, reference, what: str) -> None:
    import kubernetes_validate  # here, not at the top: kubernetes_validate imports jsonschema, over a second

    assert reference.pod is not None, f"KubeSpawner: {reference.describe()}"
    assert ours.pod is not None, f"{what}: {ours.describe()}"
    assert json.dumps(ours.pod, sort_keys=True) == json.dumps(reference.pod, sort_keys=True), what
    kubernetes_validate.validate(ours.pod, kubernetes_validate.latest_version(), strict=True)


FIRST_VISITS = [
    ("c13", UserChoice("rpy", (Pick("interface", "listed", "rstudio"),))),
    ("c30", UserChoice("gpu", (Pick("image", "listed", "tensorflow"),))),
    (
        "c30",
        UserChoice(
            "cpu",
            (
                Pick("image", UNLISTED, "quay.io/community/custom-env:v3"),
                Pick("resource_allocation", "listed", "mem_14_8"),
            ),
        ),
    ),
    ("c09", UserChoice("workshop", (Pick("tag", UNLISTED, "2025.03.1"),))),
]


@pytest.mark.parametrize(("hub_name", "choice"), FIRST_VISITS,
                         ids=[f"{CASES[USERS[u][0]].name}:{c.label()}" for u, c in FIRST_VISITS])  # fmt: skip
def test_the_same_choice_in_both_pages_gives_the_same_pod(
    browser, hub, kubeconfig, hub_name, choice
):
    page, errors = sign_in(browser, hub, hub_name, "**/hub/spawn")
    capture_posts(page)
    sent = in_browser(page, choice)
    assert errors.all() == []
    page.context.close()
    ours = our_launch(hub_name, sent)
    reference = kubespawner_launch(browser, hub_name, choice)
    same_pod(ours, reference, f"{hub_name} choosing {choice.label()}")


def test_a_second_visit_after_other_launches_the_listed_pick(browser, hub, kubeconfig):
    other = UserChoice(
        "small", (Pick("image", UNLISTED, "quay.io/jupyter/julia-notebook:2025-01-06"),)
    )
    listed = UserChoice("small", (Pick("image", "listed", "scipy"),))
    page, errors = sign_in(browser, hub, "c03", "**/hub/spawn")
    in_browser(page, other)  # the hub stores this start's user_options; its start fails
    page.wait_for_url("**/hub/spawn-pending/c03**")  # accepted (no 400, no 500)
    api = hub.api(hub.token(hub.login("c03"), "c03"))

    def start_over() -> bool:
        return api.get(hub.hub_url("api/users/c03"), timeout=5).json()["servers"] == {}

    wait_until(start_over, 30, "c03's start without a cluster to fail")
    page.goto(hub.hub_url("spawn"))
    other_field = page.locator('[id="profile-option-small--image--unlisted-choice"]')
    assert other_field.input_value() == other.picks[0].value  # the page offers it again
    capture_posts(page)
    sent = in_browser(page, listed)
    assert errors.page == []
    page.context.close()
    ours = our_launch("c03", sent)
    first = kubespawner_launch(browser, "c03", other)
    reference = kubespawner_launch(browser, "c03", listed, first.user_options)
    same_pod(ours, reference, "the listed image after an Other... start")
    assert ours.pod["spec"]["containers"][0]["image"] == "quay.io/jupyter/scipy-notebook:2025-03-10"
