"""Options are checked before the hub starts, and the wiring keeps the admin's own settings."""

import json
import re
from pathlib import Path
from unittest.mock import ANY

import pytest
from tornado.web import StaticFileHandler
from traitlets.config import Config

from hub_extensions import page_style
from hub_extensions.checks import check_config
from hub_extensions.service.app import read_config
from hub_extensions.wiring import SERVICE_CONFIG_ENV, SERVICE_ROLE, wire

pytestmark = pytest.mark.unit


def cfg(**options) -> Config:
    c = Config()
    for key, value in options.items():
        setattr(c.HubExtensions, key, value)
    return c


def test_valid_options_have_no_problems():
    assert check_config(cfg(service_url="http://hub:10101", service_name="extras")) == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {"service_url": "localhost"},
            "HubExtensions.service_url: 'localhost' needs a scheme, host and port",
        ),
        (
            {"service_url": "http://127.0.0.1:10101/x"},
            "HubExtensions.service_url: 'http://127.0.0.1:10101/x' has a path",
        ),
        (
            {"service_name": "Hub Extensions"},
            "HubExtensions.service_name: 'Hub Extensions' is not a valid service name",
        ),
        (
            {"service_bind_ip": "everywhere"},
            "HubExtensions.service_bind_ip: 'everywhere' is not an IP address",
        ),
        ({"service_log_level": "LOUD"}, "HubExtensions.service_log_level: "),
        (
            {"service_url": 10101},
            "HubExtensions.service_url: expected a unicode string, not the int 10101.",
        ),
        (
            {"servce_url": "http://x:1"},
            "HubExtensions.servce_url: unknown option. Did you mean HubExtensions.service_url?",
        ),
    ],
)
def test_each_bad_option_is_named_with_its_fix(options, expected):
    problems = check_config(cfg(**options))
    assert len(problems) == 1
    assert problems[0].startswith(expected), problems[0]


def test_all_problems_are_reported_at_once():
    problems = check_config(cfg(service_url="nope", service_name="X"))
    assert [p.split(":")[0] for p in problems] == [
        "HubExtensions.service_url",
        "HubExtensions.service_name",
    ]


def test_wire_adds_service_role_and_templates_and_keeps_admin_settings():
    c = cfg(service_url="http://127.0.0.1:12345")
    c.JupyterHub.services = [{"name": "idle-culler", "command": ["cull"]}]
    c.JupyterHub.load_roles = [
        {"name": "culler", "scopes": ["admin:servers"], "services": ["idle-culler"]}
    ]
    c.JupyterHub.template_paths = ["/srv/my-templates"]
    c.JupyterHub.extra_user_scopes = {"read:groups!user"}
    added = wire(c, hub_version=(6, 1)).JupyterHub

    names = [s["name"] for s in added.services]
    assert names == ["idle-culler", "hub-extensions"]
    ours = added.services[1]
    assert ours["url"] == "http://127.0.0.1:12345"
    assert ours["command"][1:] == ["-m", "hub_extensions.service"]
    assert json.loads(ours["environment"][SERVICE_CONFIG_ENV]) == {
        "HubExtensions": {"service_url": "http://127.0.0.1:12345"}
    }
    assert [r["name"] for r in added.load_roles] == ["culler", SERVICE_ROLE]
    assert added.extra_user_scopes == {"read:groups!user", "access:services!service=hub-extensions"}
    assert added.template_paths[0] == "/srv/my-templates"
    assert added.template_paths[1].endswith("hub_extensions/templates")
    style = page_style.load()
    assert added.template_vars == {
        "hub_extensions": {
            "service_prefix": "/services/hub-extensions/",
            "page_scripts_after_form": True,  # /srv/my-templates has no page.html
            "page_style": {
                "href": (href := f"/services/hub-extensions/page-style.css?v={style.version}"),
                "imports": list(style.imports),
                "links": page_style.links(style, None, "/", href),
            },
        }
    }


def test_template_vars_keep_the_admins_and_follow_base_url():
    c = cfg(service_name="extras")
    c.JupyterHub.base_url = "/jupyter"
    c.JupyterHub.template_vars = {"announcement": "Maintenance on Friday"}
    added = wire(c).JupyterHub
    style = page_style.load()
    assert added.template_vars == {
        "announcement": "Maintenance on Friday",
        "hub_extensions": {
            "service_prefix": "/jupyter/services/extras/",
            "page_scripts_after_form": True,
            "page_style": {
                "href": (href := f"/jupyter/services/extras/page-style.css?v={style.version}"),
                "imports": list(style.imports),
                "links": page_style.links(style, None, "/jupyter/", href),
            },
        },
    }


def test_an_admins_page_html_keeps_jupyterhubs_page_scripts_on_the_spawn_page(tmp_path):
    """The suite's spawn.html loads JupyterHub's bootstrap and jQuery after its form only under
    JupyterHub's own page.html: an admin's page.html may run scripts that need them at once."""
    (tmp_path / "page.html").write_text('{% extends "templates/page.html" %}')
    c = cfg()
    c.JupyterHub.template_paths = [str(tmp_path)]
    added = wire(c).JupyterHub.template_vars["hub_extensions"]
    assert added["page_scripts_after_form"] is False
    assert added["page_style"] is None  # JupyterHub's own stylesheet link, as the page has it
    (tmp_path / "page.html").unlink()
    (tmp_path / "home.html").write_text('{% extends "templates/home.html" %}')
    assert wire(c).JupyterHub.template_vars["hub_extensions"]["page_scripts_after_form"] is True


def render_spawn_page(hub: Config, template: str = "spawn.html", **context) -> str:
    """The spawn page as JupyterHub renders it for the wired `JupyterHub` section `hub`: its own
    loader arrangement (app.py, init_tornado_settings: `templates/` for its defaults, then the
    template paths with its default folder last), the wired template vars, the suite's form."""
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader
    from jupyterhub._data import DATA_FILES_PATH

    default = str(Path(DATA_FILES_PATH) / "templates")
    loader = ChoiceLoader([
        PrefixLoader({"templates": FileSystemLoader([default])}, "/"),
        FileSystemLoader([*hub.template_paths, default]),
    ])  # fmt: skip
    env = Environment(loader=loader, autoescape=True)
    form = '<div id="hub-extensions-profiles"><input name="profile" value="python"></div>'
    return env.get_template(template).render(
        static_url=lambda path, include_version=True: f"/hub/static/{path}",
        spawner_options_form=form,
        **hub.template_vars,
        **context,
    )


def test_the_spawn_page_defers_jupyterhubs_bundles_only_under_its_own_page_html(tmp_path):
    """Rendered through JupyterHub's own templates: with the suite's form and JupyterHub's
    page.html, bootstrap and jQuery leave <head> and come through require.js; with an admin's
    page.html, the page keeps them in <head>, JupyterHub's jQuery snippet and the admin's own
    script."""
    (tmp_path / "home.html").write_text('{% extends "templates/home.html" %}')
    c = cfg()
    c.JupyterHub.template_paths = [str(tmp_path)]
    html = render_spawn_page(wire(c).JupyterHub)
    head = html[: html.index("</head>")]
    assert "bootstrap.bundle.min.js" not in head
    assert "jquery.min.js" not in head
    assert '<script src="/hub/static/components/requirejs/require.js"' in head
    assert 'require(["jquery", "components/bootstrap/dist/js/bootstrap.bundle.min"]' in html
    assert "$('form').submit(" not in html
    # JupyterHub's stylesheet: the sheets it @imports linked by versioned URLs (static_url),
    # then the rest from the service, with JupyterHub's own as the fallback (page_style.py)
    style = page_style.load()
    links = re.findall(r'<link rel="stylesheet" href="([^"?]+)\?v=([^"]+)"', head)
    assert links == [
        ("/hub/static/components/@fortawesome/fontawesome-free/css/fontawesome.css", ANY),
        ("/hub/static/components/@fortawesome/fontawesome-free/css/solid.css", ANY),
        ("/services/hub-extensions/page-style.css", style.version),
    ]
    # the versions tornado's static_url gives (the hub test compares them with JupyterHub's)
    root = page_style.static_root()
    for path, version in links[:2]:
        file = root / path.removeprefix("/hub/static/")
        assert version == StaticFileHandler.get_content_version(str(file))
    assert 'onerror="this.onerror=null;this.href=&#34;/hub/static/css/style.min.css?v=' in head

    (tmp_path / "page.html").write_text(
        '{% extends "templates/page.html" %}'
        "{% block script %}<script>adminsOwnScript($)</script>{% endblock script %}"
    )
    html = render_spawn_page(wire(c).JupyterHub)
    head = html[: html.index("</head>")]
    assert '<script src="/hub/static/components/jquery/dist/jquery.min.js"' in head
    assert '<script src="/hub/static/components/bootstrap/dist/js/bootstrap.bundle.min.js"' in head
    assert "adminsOwnScript($)" in html
    assert "$('form').submit(" in html
    assert "require([" not in html
    assert 'id="hub-extensions-profiles"' in html
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', head) == [
        "/hub/static/css/style.min.css"  # static_url as this test's render gives it
    ]


def test_the_home_page_links_jupyterhubs_stylesheet_as_the_spawn_page_does(tmp_path):
    c = cfg()
    c.JupyterHub.template_paths = [str(tmp_path)]
    home = {"default_server": {"active": False}, "allow_named_servers": False}
    html = render_spawn_page(wire(c).JupyterHub, "home.html", **home)
    head = html[: html.index("</head>")]
    links = re.findall(r'<link rel="stylesheet" href="([^"?]+)', head)
    assert links == [
        "/hub/static/components/@fortawesome/fontawesome-free/css/fontawesome.css",
        "/hub/static/components/@fortawesome/fontawesome-free/css/solid.css",
        "/services/hub-extensions/page-style.css",
    ]
    assert '<script src="/hub/static/components/jquery/dist/jquery.min.js"' in head  # unchanged
    (tmp_path / "page.html").write_text('{% extends "templates/page.html" %}')
    html = render_spawn_page(wire(c).JupyterHub, "home.html", **home)
    head = html[: html.index("</head>")]
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', head) == [
        "/hub/static/css/style.min.css"
    ]


def test_admins_appended_services_and_template_paths_are_kept():
    c = Config()
    c.JupyterHub.services.append({"name": "grafana", "url": "http://127.0.0.1:3000"})
    c.JupyterHub.template_paths.append("/srv/templates")
    added = wire(c).JupyterHub
    assert [s["name"] for s in added.services] == ["grafana", "hub-extensions"]
    assert added.template_paths[0] == "/srv/templates"


def test_admin_defined_user_role_is_extended_not_replaced():
    c = Config()
    c.JupyterHub.load_roles = [{"name": "user", "scopes": ["self", "read:groups"]}]
    roles = {r["name"]: r for r in wire(c, hub_version=(6, 1)).JupyterHub.load_roles}
    assert roles["user"]["scopes"] == [
        "self",
        "read:groups",
        "access:services!service=hub-extensions",
    ]


def test_jupyterhub_5_gets_a_user_role_instead_of_extra_user_scopes():
    added = wire(Config(), hub_version=(5, 4)).JupyterHub
    roles = {r["name"]: r for r in added.load_roles}
    assert roles["user"]["scopes"] == ["self", "access:services!service=hub-extensions"]
    assert "extra_user_scopes" not in added


def test_a_service_with_our_name_is_a_clear_error():
    c = Config()
    c.JupyterHub.services = [{"name": "hub-extensions", "url": "http://x:1"}]
    with pytest.raises(ValueError, match=r"already has a service named 'hub-extensions'"):
        wire(c)


def test_service_reads_the_options_the_hub_passed():
    env = {SERVICE_CONFIG_ENV: json.dumps({"HubExtensions": {"service_log_level": "DEBUG"}})}
    assert read_config(None, env=env).HubExtensions.service_log_level == "DEBUG"
    assert read_config(None, env={}) == Config()


@pytest.mark.parametrize(
    ("section", "option", "expected"),
    [
        ("Buidls", "max_builds", "Buidls: unknown configuration class; the hub would ignore "
         "Buidls.max_builds. Did you mean HubExtensionsBuilds.max_builds?"),
        ("Cots", "currency", "Cots: unknown configuration class; the hub would ignore "
         "Cots.currency. Did you mean HubExtensionsCost.currency?"),
        ("Usgae", "enabled", "Did you mean HubExtensionsUsage.enabled?"),
        ("HubExtension", "service_url", "Did you mean HubExtensions.service_url?"),
        ("ProfilesDockerSpawnr", "profile_list", "Did you mean ProfilesDockerSpawner.profile_list?"),
        ("CILogonPresetAuthenticator", "presets", "Did you mean CILogonPresetsAuthenticator"),
    ],
)  # fmt: skip
def test_a_misspelt_class_of_the_suite_is_an_error_with_the_likely_name(section, option, expected):
    c = Config()
    c[section][option] = 1
    problems = check_config(c)
    assert len(problems) == 1, problems
    assert expected in problems[0]


def test_other_classes_are_left_alone():
    """JupyterHub's and other packages' classes, also those close to the suite's names."""
    c = Config()
    for section in (
        "JupyterHub",
        "Spawner",
        "LocalProcessSpawner",
        "SimpleLocalProcessSpawner",
        "DockerSpawner",
        "KubeSpawner",
        "CILogonOAuthenticator",
        "ConfigurableHTTPProxy",
        "Authenticator",
        "Host",
        "MyOwnThing",
    ):
        c[section]["some_option"] = 1
    assert check_config(c) == []


def test_the_service_listens_where_its_url_says_unless_told_otherwise():
    from hub_extensions.options import HubExtensions

    assert HubExtensions().bind_ip == "127.0.0.1"  # the default URL's host
    assert HubExtensions(service_url="http://hub:10101").bind_ip == "0.0.0.0"  # a pod
    assert HubExtensions(service_bind_ip="10.0.0.5").bind_ip == "10.0.0.5"
    # empty, as earlier versions documented for "the default", still means the default
    assert HubExtensions(service_bind_ip="", service_url="http://hub:10101").bind_ip == "0.0.0.0"
