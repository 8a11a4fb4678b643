"""A callable profile_list on a real hub: broken profiles are withheld, the rest work, no 500.

The callable filters by JupyterHub group (as Z2JH setups do) and returns, for staff, one
profile that would fail at spawn (an option with neither choices nor an "Other..." field)
among good ones, plus a key with no effect. Asserted: what the user's form shows, that a good
profile starts (LocalProcessSpawner, its environment), that the bad one is refused with a
400 on every path (form POST, REST `user_options`), that a callable raising for a user gives
that user an explanation (the form's alert, a 503 on every start path) and never a 500, that the problem is logged once however
often the form renders, and that the admin's page in the service lists it while a user gets a
403. Not covered here: KubeSpawner (test_profiles_kubespawner.py, unit tier).
"""

from __future__ import annotations

import pytest

from .test_profiles_hub import post_form, server_env

pytestmark = pytest.mark.hub

PROFILES = """
c.JupyterHub.allow_named_servers = True

def profiles_for(spawner):
    groups = {g.name for g in spawner.user.groups}
    if "oops" in groups:  # the admin's own code failing for some users
        raise KeyError("quota-table")
    profiles = [
        {"display_name": "Everyone", "slug": "everyone",
         "kubespawner_override": {"environment": {"HX_PROFILE": "everyone"}}},
    ]
    if "staff" in groups:
        profiles += [
            {"display_name": "Staff", "slug": "staff",
             "profile_options": {"size": {"choices": {
                 "s": {"display_name": "S", "slug": "small",
                       "kubespawner_override": {"environment": {"HX_SIZE": "s"}}}}}},
             "kubespawner_override": {"environment": {"HX_PROFILE": "staff"}}},
            {"display_name": "Broken", "slug": "broken",
             "profile_options": {"image": {"display_name": "Image"}}},
        ]
    return profiles

c.ProfilesSimpleLocalProcessSpawner.profile_list = profiles_for
"""
BROKEN = (
    "profile_list (callable profiles_for)[2].profile_options.image: has no choices and no "
    "enabled unlisted_choice: KubeSpawner fails at spawn. Fix: add choices."
)
NO_EFFECT = "profile_list (callable profiles_for)[1].profile_options.size.choices.s.slug"


HUB = {"base_url": "/jh/", "config": PROFILES}


@pytest.fixture(scope="module")
def hub(hub_factory, request):
    demo = hub_factory.shared(request, **HUB)
    admin = demo.api(demo.token(demo.login("demo"), "demo"))
    r = admin.post(demo.hub_url("api/users"), json={"usernames": ["sam"]}, timeout=10)
    assert r.status_code == 201, r.text
    r = admin.post(demo.hub_url("api/groups/staff"), json={"users": ["sam"]}, timeout=10)
    assert r.status_code == 201, r.text
    r = admin.post(demo.hub_url("api/users"), json={"usernames": ["ola"]}, timeout=10)
    assert r.status_code == 201, r.text
    r = admin.post(demo.hub_url("api/groups/oops"), json={"users": ["ola"]}, timeout=10)
    assert r.status_code == 201, r.text
    return demo


def test_the_form_offers_the_good_profiles_and_withholds_the_broken_one(hub):
    session = hub.login("sam")
    for _ in range(3):  # several renders: the problem is still logged once
        page = session.get(hub.hub_url("spawn"), timeout=30)
        assert page.status_code == 200
        assert 'name="profile" value="everyone"' in page.text
        assert 'name="profile" value="staff"' in page.text
        assert 'value="broken"' not in page.text
        assert "could not be loaded" not in page.text
    other = hub.login("val").get(hub.hub_url("spawn"), timeout=30)
    assert 'value="everyone"' in other.text
    assert 'value="staff"' not in other.text
    log = hub.log()
    assert log.count(BROKEN) == 1, log[-3000:]
    assert log.count(NO_EFFECT) == 1


def test_a_good_profile_starts_and_the_broken_one_is_refused_without_500(hub):
    session = hub.login("sam")
    refused = post_form(hub, session, {"profile": "broken"})
    assert refused.status_code == 400, refused.text
    assert "broken" in refused.text
    api = hub.api(hub.token(session, "sam"))
    rest = api.post(hub.hub_url("api/users/sam/server"), json={"profile": "broken"}, timeout=30)
    assert rest.status_code == 400, rest.text

    started = post_form(hub, session, {"profile": "staff", "profile-option-staff--size": "s"})
    assert started.status_code == 302, started.text
    hub.spawn_wait(api, "sam")
    env = server_env(hub, "sam")
    assert (env["HX_PROFILE"], env["HX_SIZE"]) == ("staff", "s")
    hub.stop_server(api, "sam")


def test_the_admins_page_lists_the_problem_and_users_get_nothing(hub):
    hub.login("sam").get(hub.hub_url("spawn"), timeout=30)  # evaluated at least once
    admin = hub.api(hub.token(hub.login("demo"), "demo"))
    r = admin.get(hub.service_url("api/config-problems"), timeout=15)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["available"] is True
    assert body["warnings"] == []  # a callable is not checked at start
    runtime = {p["message"]: p["refused"] for p in body["runtime"]}
    assert runtime[BROKEN] is True
    assert any(m.startswith(NO_EFFECT) and not refused for m, refused in runtime.items())

    user = hub.api(hub.token(hub.login("sam"), "sam"))
    r = user.get(hub.service_url("api/config-problems"), timeout=15)
    assert r.status_code == 403
    assert "admins" in r.json()["message"]


def test_a_callable_that_raises_gives_a_503_that_explains_not_a_500(hub):
    session = hub.login("ola")
    page = session.get(hub.hub_url("spawn"), timeout=30)
    assert page.status_code == 200
    assert "could not be loaded" in page.text
    posted = post_form(hub, session, {"profile": "everyone"})
    assert posted.status_code == 503, posted.text
    assert "nothing can start right now" in posted.text
    api = hub.api(hub.token(session, "ola"))
    rest = api.post(hub.hub_url("api/users/ola/server"), json={"profile": "everyone"}, timeout=30)
    assert rest.status_code == 503, rest.text
    assert "The hub's admin has been told" in rest.json()["message"]
    admin = hub.api(hub.token(hub.login("demo"), "demo"))
    body = admin.get(hub.service_url("api/config-problems"), timeout=15).json()
    assert any("raised KeyError: 'quota-table'" in p["message"] for p in body["runtime"])
