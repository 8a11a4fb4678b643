"""The profiles form on a real hub (LocalProcessSpawner): page, submission, refusal, memory.

What a user sees is asserted: the form's HTML, the HTTP status and message, and the
environment of the server process that starts. DockerSpawner and the browser are covered in
test_profiles_docker.py and test_profiles_browser.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from .infra.hub import DemoHub, marked_processes

pytestmark = pytest.mark.hub

SECRET = "s3cr3t-never-in-the-page"
PROFILES = f"""
c.JupyterHub.allow_named_servers = True
c.ProfilesSimpleLocalProcessSpawner.profile_list = [
    {{
        "display_name": "Python",
        "default": True,
        # a callable override: called with the spawner at spawn, never sent to the page
        "kubespawner_override": {{
            "environment": lambda spawner: {{
                "HX_PROFILE": "python", "HX_USER": spawner.user.name, "API_KEY": {SECRET!r},
            }},
        }},
    }},
    {{
        "display_name": "GPU <script>alert('name')</script>",
        "slug": "gpu",
        "allowed_groups": ["gpu-users"],
        "kubespawner_override": {{"environment": {{"HX_PROFILE": "gpu"}}}},
    }},
    {{
        "display_name": "Custom",
        "slug": "custom",
        "description": "<a href='https://example.org/docs' onclick='steal()'>Docs</a>"
                       "<script>alert('description')</script> for <em>experts</em>",
        "kubespawner_override": {{"environment": {{"HX_PROFILE": "custom"}}}},
        "profile_options": {{
            "flavour": {{
                "display_name": "Flavour",
                "choices": {{
                    "vanilla": {{"display_name": "Vanilla",
                                 "kubespawner_override": {{"environment": {{"HX_FLAVOUR": "vanilla"}}}}}},
                    "mint": {{"display_name": "Mint", "allowed_groups": ["mint-fans"],
                              "kubespawner_override": {{"environment": {{"HX_FLAVOUR": "mint"}}}}}},
                }},
                "unlisted_choice": {{
                    "enabled": True,
                    "display_name": "Your flavour",
                    "validation_regex": "[a-z]+",
                    "kubespawner_override": {{"environment": {{"HX_FLAVOUR": "{{value}}"}}}},
                }},
            }},
        }},
    }},
]
"""


HUB = {"base_url": "/jh/", "config": PROFILES}


@pytest.fixture(scope="module")
def hub(hub_factory, request):
    demo = hub_factory.shared(request, **HUB)
    admin = demo.api(demo.token(demo.login("demo"), "demo"))
    r = admin.post(demo.hub_url("api/users"), json={"usernames": ["gpu-user", "minty"]}, timeout=10)
    assert r.status_code == 201, r.text
    for group, users in (("gpu-users", ["gpu-user"]), ("mint-fans", ["minty"])):
        r = admin.post(demo.hub_url(f"api/groups/{group}"), json={"users": users}, timeout=10)
        assert r.status_code == 201, r.text
    return demo


def server_env(demo: DemoHub, user: str) -> dict[str, str]:
    """The environment of `user`'s single-user server process."""
    for pid in marked_processes(demo.run_id):
        proc = Path(f"/proc/{pid}")
        if b"jupyterhub.singleuser" not in (proc / "cmdline").read_bytes():
            continue
        env = dict(
            item.split("=", 1)
            for item in (proc / "environ").read_bytes().decode().split("\0")
            if "=" in item
        )
        if env.get("JUPYTERHUB_USER") == user:
            return env
    raise AssertionError(f"no server process for {user}")


def post_form(demo: DemoHub, session, fields: dict, server: str = "", user: str = ""):
    url = demo.hub_url(f"spawn/{user}/{server}" if server else "spawn")
    data = {**fields, "_xsrf": session.cookies.get("_xsrf", path="/jh/hub/")}
    return session.post(url, data=data, timeout=60, allow_redirects=False)


def test_form_shows_what_the_user_may_choose_and_nothing_secret(hub):
    page = hub.login("ann").get(hub.hub_url("spawn"), timeout=30)
    assert page.status_code == 200
    html = page.text
    assert 'name="profile" value="python"' in html
    assert 'id="profile-item-python" checked' in html  # the default profile
    assert 'name="profile-option-custom--flavour"' in html
    assert 'value="vanilla"' in html
    assert 'value="mint"' not in html  # a choice for another group
    assert 'value="gpu"' not in html  # a profile for another group
    assert SECRET not in html
    assert "HX_PROFILE" not in html  # no override reaches the page
    assert "<script>alert" not in html
    assert "onclick" not in html
    assert '<a href="https://example.org/docs" rel="noopener noreferrer">Docs</a>' in html
    assert "<em>experts</em>" in html
    script = re.search(r'<script type="module" async src="([^"]+)"', html)
    assert script, "the form's script tag"
    assert re.fullmatch(
        r"/jh/services/hub-extensions/static/dist/profiles-form\.js\?v=[0-9a-f]{16}", script[1]
    )
    # JupyterHub's bootstrap and jQuery bundles come after the form, through require.js (its
    # own page scripts need neither); require.js and darkmode.js come as JupyterHub sends them
    head = html[: html.index("</head>")]
    assert not re.search(r"<script[^>]*(bootstrap\.bundle|jquery)", head)
    for page_script in ("components/requirejs/require.js", "js/darkmode.js"):
        assert re.search(rf'<script src="/jh/hub/static/{page_script}\?v=', head)
    bundles = '["jquery", "components/bootstrap/dist/js/bootstrap.bundle.min"]'
    assert html.index(f"require({bundles}") > html.index('id="hub-extensions-profiles"')
    assert "$('form')" not in html  # spawn.html's jQuery snippet, here in plain JavaScript
    assert 'form.addEventListener("submit"' in html
    # the versioned URL is cached for good (tornado's static handler, in the service)
    r = requests.get(f"http://127.0.0.1:{hub.port}{script[1]}", timeout=10)
    assert r.status_code == 200
    assert "max-age=" in r.headers.get("Cache-Control", "")
    assert int(r.headers["Cache-Control"].split("max-age=")[1].split(",")[0]) >= 86400


def test_the_spawn_page_links_jupyterhubs_stylesheet_by_urls_cached_for_good(hub):
    """page_style.py: the Font Awesome sheets JupyterHub's stylesheet @imports (by unversioned
    URLs, asked again on every visit) by their versioned URLs, the rest from the service:
    JupyterHub's file without its imports, versioned, gzipped when asked, revalidated (304)
    at any other URL."""
    session = hub.login("ann")
    html = session.get(hub.hub_url("spawn"), timeout=30).text
    head = html[: html.index("</head>")]
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', head)
    assert len(links) == 3, links
    # the fallback is JupyterHub's stylesheet at the URL its own pages have (static_url; the
    # token page is JupyterHub's own, where home and spawn are the suite's)
    token_page = session.get(hub.hub_url("token"), timeout=30).text
    own = re.findall(r'<link rel="stylesheet" href="([^"]+)"', token_page)
    assert own == [re.search(r"/jh/hub/static/css/style\.min\.css\?v=[0-9a-f]+", own[0])[0]]
    assert f'this.href=&#34;{own[0]}&#34;"' in head
    base = f"http://127.0.0.1:{hub.port}"
    for link, name in zip(links, ("fontawesome", "solid"), strict=False):
        path = f"/jh/hub/static/components/@fortawesome/fontawesome-free/css/{name}.css"
        assert re.fullmatch(re.escape(path) + r"\?v=[0-9a-f]+", link)
        r = requests.get(base + link, timeout=10)
        assert r.status_code == 200
        assert int(r.headers["Cache-Control"].split("max-age=")[1].split(",")[0]) >= 86400
    style = links[2]
    assert re.fullmatch(r"/jh/services/hub-extensions/page-style\.css\?v=[0-9a-f]{16}", style)

    jupyterhubs = requests.get(base + "/jh/hub/static/css/style.min.css", timeout=10)
    imports = re.findall(r'@import\s*"([^"]+)";', jupyterhubs.text)
    assert [i.rsplit("/", 1)[1] for i in imports] == ["fontawesome.css", "solid.css"]
    r = requests.get(base + style, headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/css; charset=utf-8"
    assert r.headers["Content-Encoding"] == "gzip"
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert int(r.headers["Content-Length"]) < len(r.content) / 4
    assert r.content == re.sub(rb'@import\s*"[^"]+";', b"", jupyterhubs.content)
    plain = requests.get(base + style, headers={"Accept-Encoding": "identity"}, timeout=10)
    assert "Content-Encoding" not in plain.headers
    assert plain.content == r.content
    # another version (a page from before an upgrade): the file, but asked again next time
    other = requests.get(base + style.split("?")[0] + "?v=0", timeout=10)
    assert other.status_code == 200
    assert other.headers["Cache-Control"] == "no-cache"
    again = requests.get(base + style, headers={"If-None-Match": r.headers["Etag"]}, timeout=10)
    assert again.status_code == 304
    assert not again.content
    near = requests.get(base + "/jh/services/hub-extensions/page-stylexcss", timeout=10)
    assert near.status_code == 404  # the route is that one file name, not a pattern


def test_a_callable_override_is_called_with_the_spawner(hub):
    session = hub.login("hal")
    r = post_form(hub, session, {"profile": "python"})
    assert r.status_code == 302, r.text
    api = hub.api(hub.token(session, "hal"))
    hub.spawn_wait(api, "hal")
    env = server_env(hub, "hal")
    assert (env["HX_PROFILE"], env["HX_USER"], env["API_KEY"]) == ("python", "hal", SECRET)
    hub.stop_server(api, "hal")


def test_group_members_see_their_profile_with_its_name_escaped(hub):
    html = hub.login("gpu-user").get(hub.hub_url("spawn"), timeout=30).text
    assert 'name="profile" value="gpu"' in html
    assert "GPU &lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in html


def test_submitting_the_form_starts_a_server_with_the_chosen_overrides(hub):
    session = hub.login("bea")
    r = post_form(hub, session, {"profile": "custom", "profile-option-custom--flavour": "vanilla"})
    assert r.status_code == 302, r.text
    api = hub.api(hub.token(session, "bea"))
    hub.spawn_wait(api, "bea")
    env = server_env(hub, "bea")
    assert env["HX_PROFILE"] == "custom"
    assert env["HX_FLAVOUR"] == "vanilla"
    assert "API_KEY" not in env
    hub.stop_server(api, "bea")
    # the last choice comes back pre-selected, from the hub's database
    html = session.get(hub.hub_url("spawn"), timeout=30).text
    assert 'id="profile-item-custom" checked' in html
    assert '<option value="vanilla" selected>' in html


def test_an_unlisted_value_is_substituted_and_a_later_listed_pick_replaces_it(hub):
    session = hub.login("cat")
    r = post_form(
        hub,
        session,
        {
            "profile": "custom",
            "profile-option-custom--flavour": "unlisted-choice",
            "profile-option-custom--flavour--unlisted-choice": "pistachio",
        },
    )
    assert r.status_code == 302, r.text
    api = hub.api(hub.token(session, "cat"))
    hub.spawn_wait(api, "cat")
    assert server_env(hub, "cat")["HX_FLAVOUR"] == "pistachio"
    hub.stop_server(api, "cat")
    html = session.get(hub.hub_url("spawn"), timeout=30).text
    assert '<option value="unlisted-choice" selected>' in html
    assert 'value="pistachio"' in html
    # second visit: without JavaScript the browser posts the listed pick and the pre-filled
    # "Other..." text; the pick starts, and the hub keeps only what was applied
    fields = {
        "profile": "custom",
        "profile-option-custom--flavour": "vanilla",
        "profile-option-custom--flavour--unlisted-choice": "pistachio",
    }
    assert post_form(hub, session, fields).status_code == 302
    hub.spawn_wait(api, "cat")
    assert server_env(hub, "cat")["HX_FLAVOUR"] == "vanilla"
    server = api.get(hub.hub_url("api/users/cat"), timeout=10).json()["servers"][""]
    assert server["user_options"] == {"profile": "custom", "flavour": "vanilla"}
    hub.stop_server(api, "cat")
    html = session.get(hub.hub_url("spawn"), timeout=30).text
    assert '<option value="vanilla" selected>' in html
    assert 'name="profile-option-custom--flavour--unlisted-choice"' in html
    assert 'value="pistachio"' not in html  # nothing left over to post next time


def test_an_invalid_unlisted_value_is_refused_with_a_message_and_nothing_starts(hub):
    session = hub.login("dan")
    r = post_form(
        hub,
        session,
        {
            "profile": "custom",
            "profile-option-custom--flavour": "unlisted-choice",
            "profile-option-custom--flavour--unlisted-choice": "Mint; rm -rf /",
        },
    )
    assert r.status_code == 400
    assert "profile-option-custom--flavour--unlisted-choice" in r.text
    assert "Mint; rm -rf /" in r.text.replace("&#39;", "'").replace("&amp;", "&")
    assert 'name="profile"' in r.text  # the form is shown again
    api = hub.api(hub.token(session, "dan"))
    assert api.get(hub.hub_url("api/users/dan"), timeout=10).json()["servers"] == {}


@pytest.mark.parametrize(
    ("user_options", "field", "text"),
    [
        ({"profile": "gpu"}, "profile", "not available to you"),
        ({"profile": "custom", "flavour": "mint"}, "flavour", "not available to you"),
        ({"profile": "custom", "flavour": "chocolate"}, "flavour", "chocolate"),
        ({"profile": "custom", "colour": "red"}, "colour", "colour"),
        ({"profile": "nope"}, "profile", "nope"),
        ({"profile": ["python"]}, "profile", "text"),
    ],
)
def test_rest_api_user_options_go_through_the_same_validation(hub, user_options, field, text):
    api = hub.api(hub.token(hub.login("eve"), "eve"))
    r = api.post(hub.hub_url("api/users/eve/server"), json=user_options, timeout=30)
    assert r.status_code == 400, r.text
    message = r.json()["message"]
    assert field in message
    assert text in message
    assert api.get(hub.hub_url("api/users/eve"), timeout=10).json()["servers"] == {}


def test_named_servers_remember_their_own_choice(hub):
    session = hub.login("fay")
    api = hub.api(hub.token(session, "fay"))
    r = post_form(
        hub,
        session,
        {"profile": "custom", "profile-option-custom--flavour": "vanilla"},
        server="lab2",
        user="fay",
    )
    assert r.status_code == 302, r.text
    hub.spawn_wait(api, "fay", server="lab2")
    hub.stop_server(api, "fay", server="lab2")
    default_form = session.get(hub.hub_url("spawn"), timeout=30).text
    named_form = session.get(hub.hub_url("spawn/fay/lab2"), timeout=30).text
    assert 'id="profile-item-python" checked' in default_form
    assert 'id="profile-item-custom" checked' in named_form


def test_a_query_string_link_starts_the_chosen_environment(hub):
    session = hub.login("gil")
    r = session.get(
        hub.hub_url("spawn?profile=custom&profile-option-custom--flavour=vanilla"),
        timeout=60,
        allow_redirects=False,
    )
    assert r.status_code == 302, r.text
    api = hub.api(hub.token(session, "gil"))
    hub.spawn_wait(api, "gil")
    assert server_env(hub, "gil")["HX_FLAVOUR"] == "vanilla"
    hub.stop_server(api, "gil")


ADMINS_FORM = "c.Spawner.options_form = \"<input name='flavour' value='the-admins-own-form'>\"\n"


@pytest.mark.hub_ahead(config=ADMINS_FORM)
def test_an_admins_own_form_gets_jupyterhubs_page_scripts_as_they_come(make_hub):
    """The suite's spawn.html defers JupyterHub's bundles only under its own form: another form
    (KubeSpawner's built-in one writes inline jQuery) finds jQuery loaded before it runs."""
    demo = make_hub(config=ADMINS_FORM)
    html = demo.login("ada").get(demo.hub_url("spawn"), timeout=30).text
    assert "the-admins-own-form" in html
    assert 'id="hub-extensions-profiles"' not in html
    head = html[: html.index("</head>")]
    assert "<script defer" not in head
    for bundle in ("bootstrap/dist/js/bootstrap.bundle.min.js", "jquery/dist/jquery.min.js"):
        assert re.search(rf'<script src="/hub/static/components/{bundle}\?v=', head)
    assert "$('form').submit(" in html  # JupyterHub's own snippet


def test_a_bad_profile_list_stops_the_hub_at_start_naming_the_entry(make_hub):
    demo = make_hub(
        config="c.ProfilesSimpleLocalProcessSpawner.profile_list = [\n"
        "    {'display_name': 'Small', 'kubespawner_override': {'mem_limt': '1G'}},\n"
        "    {'display_name': 'Small'},\n"
        "    {'display_name': 'Other', 'profile_options': {'image': {'choices': {}}}},\n"
        "]\n",
        wait=False,
    )
    code = demo.proc.proc.wait(60)
    log = demo.log()
    demo.proc.stop()
    assert code != 0
    # every refusal in one go (a typo in an override key is only a warning: see docs/profiles.md)
    assert (
        "ProfilesSimpleLocalProcessSpawner.profile_list[1].slug: 'small' is also the slug of "
        "ProfilesSimpleLocalProcessSpawner.profile_list[0]."
    ) in log
    assert (
        "ProfilesSimpleLocalProcessSpawner.profile_list[2].profile_options.image: has no choices "
        "and no enabled unlisted_choice"
    ) in log
    assert "JupyterHub is now running" not in log
    assert "Traceback" not in log
