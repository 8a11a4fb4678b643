"""`allowed_groups` as real hubs use them: exact by default, optionally case-insensitive, and
extended by a hook from `auth_state` (GitHub `org:team` names from oauthenticator).

Real JupyterHub objects: orm users and groups in an in-memory hub database, a `User` and a
profiles spawner built on them. Not covered: auth_state encryption (the user's
`get_auth_state` is replaced by the dict GitHubOAuthenticator stores; its shape is checked
against oauthenticator's own code below), and a real GitHub login.
"""

from __future__ import annotations

import inspect
import logging

import pytest
from jupyterhub import orm
from jupyterhub.user import User
from tornado import web

from hub_extensions.problems import CONFIG_PROBLEMS
from hub_extensions.profiles import github_teams, select
from hub_extensions.spawners.profiles_local import ProfilesSimpleLocalProcessSpawner

pytestmark = pytest.mark.unit

PROFILES = [
    {"display_name": "Everyone", "slug": "everyone"},
    {"display_name": "Staff", "slug": "staff", "allowed_groups": ["Staff"]},
    {"display_name": "Team", "slug": "team", "allowed_groups": ["2i2c-org:hub-admins"]},
]
#: what GitHubOAuthenticator keeps under auth_state["teams"] (GitHub's GET /user/teams items)
GITHUB_AUTH_STATE = {
    "access_token": "not-a-token",
    "github_user": {"login": "ann"},
    "teams": [
        {"name": "Hub admins", "slug": "hub-admins", "organization": {"login": "2i2c-org"}},
        {"name": "Other", "slug": "other", "organization": {"login": "elsewhere"}},
    ],
}


@pytest.fixture
def records():
    """What the suite logs (its logger may not propagate to pytest's capture)."""
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("hub_extensions")
    logger.addHandler(handler)
    yield seen
    logger.removeHandler(handler)


def spawner_for(groups: list[str], **traits) -> ProfilesSimpleLocalProcessSpawner:
    db = orm.new_session_factory("sqlite://")()
    user = orm.User(name="ann")
    db.add(user)
    for name in groups:
        user.groups.append(orm.Group(name=name))
    db.commit()
    spawner = ProfilesSimpleLocalProcessSpawner(
        user=User(user, db=db), **{"profile_list": PROFILES, **traits}
    )
    return spawner


async def slugs(spawner) -> list[str]:
    return [p.slug for p in await spawner.hx_profiles()]


async def test_allowed_groups_match_exactly_by_default():
    assert await slugs(spawner_for(["staff"])) == ["everyone"]
    assert await slugs(spawner_for(["Staff"])) == ["everyone", "staff"]
    spawner = spawner_for(["staff"])
    profiles = await spawner.hx_all_profiles()
    with pytest.raises(ValueError, match="staff"):
        select(profiles, {"profile": "staff"}, spawner.hx_groups())


async def test_an_option_makes_the_match_case_insensitive():
    spawner = spawner_for(["STAFF"], allowed_groups_ignore_case=True)
    assert await slugs(spawner) == ["everyone", "staff"]
    chosen = select(await spawner.hx_all_profiles(), {"profile": "staff"}, spawner.hx_groups())
    assert chosen.profile.slug == "staff"


async def test_github_teams_from_auth_state_count_as_groups():
    spawner = spawner_for([], groups_from_auth_state=github_teams)

    async def auth_state():
        return GITHUB_AUTH_STATE

    spawner.user.get_auth_state = auth_state
    assert await slugs(spawner) == ["everyone", "team"]
    assert spawner.hx_groups() == {"2i2c-org:hub-admins", "elsewhere:other"}


async def test_without_allowed_groups_a_render_reads_no_groups():
    """A list with no `allowed_groups` anywhere looks the same to everyone: the form neither
    queries the user's groups nor calls the auth_state hook. With one choice restricted, both
    are read again."""
    calls: list[str] = []

    def hook(spawner, auth_state):
        calls.append(spawner.user.name)
        return []

    open_list = [{"display_name": "Everyone", "slug": "everyone"}, {"display_name": "Big"}]
    spawner = spawner_for(["Staff"], profile_list=open_list, groups_from_auth_state=hook)
    type(spawner.user).groups = property(lambda user: pytest.fail("the groups were read"))
    try:
        assert await slugs(spawner) == ["everyone", "big"]
        assert calls == []
    finally:
        del type(spawner.user).groups
    restricted = [
        *open_list,
        {"display_name": "Tuned", "profile_options": {"size": {"display_name": "Size", "choices": {
            "s": {"display_name": "S"}, "xl": {"display_name": "XL", "allowed_groups": ["Staff"]},
        }}}},
    ]  # fmt: skip
    spawner = spawner_for(["Staff"], profile_list=restricted, groups_from_auth_state=hook)
    assert await slugs(spawner) == ["everyone", "big", "tuned"]
    assert calls == ["ann"]
    tuned = (await spawner.hx_profiles())[2]
    assert [c.key for c in tuned.options[0].choices] == ["s", "xl"]
    other = spawner_for([], profile_list=restricted)
    assert [c.key for c in (await other.hx_profiles())[2].options[0].choices] == ["s"]


def test_the_team_shape_is_oauthenticators():
    # GitHubOAuthenticator stores the items of GET /user/teams under "teams", and spells
    # allowed teams "org:team-slug" from the same fields
    from oauthenticator import github  # here: oauthenticator's import takes over a second

    source = inspect.getsource(github)
    assert 'auth_model["auth_state"]["teams"] = user_teams' in source
    assert "/user/teams" in source
    assert github_teams(None, None) == []
    assert github_teams(None, {"teams": None}) == []


async def test_an_async_hook_works_and_a_failing_one_adds_nothing_and_is_reported(records):
    async def from_claims(spawner, auth_state):
        return ["Staff"]

    assert await slugs(spawner_for([], groups_from_auth_state=from_claims)) == [
        "everyone",
        "staff",
    ]

    def broken(spawner, auth_state):
        return auth_state["groups"]  # auth_state is None: auth state is off

    spawner = spawner_for(["Staff"], groups_from_auth_state=broken)
    assert await slugs(spawner) == ["everyone", "staff"]  # the user's own groups still count
    assert await slugs(spawner) == ["everyone", "staff"]
    message = (
        "ProfilesSimpleLocalProcessSpawner.groups_from_auth_state: failed: TypeError: "
        "'NoneType' object is not subscriptable; no extra groups were added."
    )
    assert (
        records.count(
            f"hub-extensions: groups of ann: {message} Fix: make it return a list of group names."
        )
        == 1
    )
    assert any(p["message"].startswith(message) for p in CONFIG_PROBLEMS.runtime)


async def test_a_callable_list_is_checked_and_a_broken_profile_withheld(records):
    def by_group(spawner):
        return [*PROFILES, {"display_name": "Broken", "profile_options": {"o": {}}}]

    spawner = spawner_for(["Staff"], profile_list=by_group)
    for _ in range(2):
        assert await slugs(spawner) == ["everyone", "staff"]
    refusals = [r for r in records if "withheld from users" in r]
    assert len(refusals) == 1
    with pytest.raises(web.HTTPError) as err:
        await spawner.apply_user_options(spawner, {"profile": "broken"})
    assert err.value.status_code == 400
