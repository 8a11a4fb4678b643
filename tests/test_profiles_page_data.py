"""The spawn page gets display fields only, with descriptions that cannot run script."""

import importlib
import json
from html.parser import HTMLParser

import pytest

from hub_extensions.profiles import normalize, page_data, visible
from hub_extensions.profiles.page_data import description_html

pytestmark = pytest.mark.unit

SECRET = "s3cr3t-t0ken-do-not-leak"

PROFILE_LIST = [
    {
        "display_name": "Data <script>alert(1)</script> science",
        "description": "Python <em>and</em> R. <a href='https://docs.example.org'>Docs</a>",
        "resources": {"cpu": 2, "memory": "4G"},
        "kubespawner_override": {
            "environment": {"API_TOKEN": SECRET},
            "image": lambda spawner: SECRET,
        },
        "profile_options": {
            "image": {
                "display_name": "Image",
                "choices": {
                    "base": {
                        "display_name": "Base",
                        "description": "Small <strong>and</strong> quick",
                        "kubespawner_override": {"environment": {"TOKEN": SECRET}},
                    },
                    "gpu": {
                        "display_name": "GPU",
                        "default": True,
                        "allowed_groups": ["gpu"],
                        "resources": {"gpu": 1, "gpu_type": "T4", "memory": 1536 * 2**20},
                    },
                },
                "unlisted_choice": {
                    "enabled": True,
                    "display_name": "Your image",
                    "validation_regex": "jupyter/.+:.+",
                    "validation_message": "Like jupyter/base-notebook:latest",
                    "kubespawner_override": {"image": "{value}", "environment": {"K": SECRET}},
                },
            }
        },
    },
    {"display_name": "Plain", "slug": "plain"},
]
PROFILES = normalize(PROFILE_LIST)
SLUG = PROFILES[0].slug


def test_overrides_and_secrets_never_reach_the_page():
    for profiles in (PROFILES, visible(PROFILES, {"gpu"})):
        text = json.dumps(page_data(profiles, {"profile": SLUG, "image": "gpu"}))
        assert SECRET not in text
        assert "kubespawner_override" not in text
        assert "environment" not in text


def test_display_data_for_the_form():
    assert SLUG == "data-script-alert-1-script-science"
    data = page_data(visible(PROFILES, {"gpu"}), None)
    first = data["profiles"][0]
    # plain text: the page escapes it
    assert first["display_name"] == "Data <script>alert(1)</script> science"
    assert first["resources"] == {
        "cpu": 2.0,
        "memory": "4 GiB",
        "memory_bytes": 4 * 2**30,
        "gpu": None,
        "gpu_type": None,
    }
    option = first["options"][0]
    assert option["field"] == f"profile-option-{SLUG}--image"
    assert [(c["key"], c["default"]) for c in option["choices"]] == [("base", False), ("gpu", True)]
    assert option["choices"][1]["resources"]["memory"] == "1.5 GiB"
    assert option["unlisted"] == {
        "enabled": True,
        "display_name": "Your image",
        "display_name_in_choices": "Other...",
        "pattern": "jupyter/.+:.+",
        "message": "Like jupyter/base-notebook:latest",
        "field": f"profile-option-{SLUG}--image--unlisted-choice",
    }
    assert data["profiles"][1]["options"] == []


def test_users_outside_a_group_get_its_choices_neither_shown_nor_selected():
    data = page_data(visible(PROFILES, {"students"}), None)
    option = data["profiles"][0]["options"][0]
    assert [c["key"] for c in option["choices"]] == ["base"]
    assert option["choices"][0]["default"] is True


@pytest.mark.parametrize(
    ("last", "profile", "image"),
    [
        (None, SLUG, {"choice": "gpu", "unlisted": None}),
        ({}, SLUG, {"choice": "gpu", "unlisted": None}),
        ({"profile": SLUG, "image": "base"}, SLUG, {"choice": "base", "unlisted": None}),
        (
            {"profile": SLUG, "image--unlisted-choice": "jupyter/r:4"},
            SLUG,
            {"choice": None, "unlisted": "jupyter/r:4"},
        ),
        ({"profile": "plain"}, "plain", {"choice": "gpu", "unlisted": None}),
        # stale or invalid options fall back to the defaults, as KubeSpawner's form does
        ({"profile": "gone"}, SLUG, {"choice": "gpu", "unlisted": None}),
        ({"profile": SLUG, "image": "removed"}, SLUG, {"choice": "gpu", "unlisted": None}),
        (
            {"profile": SLUG, "image--unlisted-choice": "evil/image:1"},
            SLUG,
            {"choice": "gpu", "unlisted": None},
        ),
    ],
)
def test_the_last_valid_options_are_preselected(last, profile, image):
    selected = page_data(visible(PROFILES, {"gpu"}), last)["selected"]
    assert selected["profile"] == profile
    assert selected["options"][SLUG]["image"] == image
    assert selected["options"]["plain"] == {}


def test_a_choice_no_longer_allowed_is_not_preselected():
    selected = page_data(visible(PROFILES, {"students"}), {"profile": SLUG, "image": "gpu"})[
        "selected"
    ]
    assert selected["options"][SLUG]["image"] == {"choice": "base", "unlisted": None}


def test_no_profiles_no_selection():
    assert page_data([], {"profile": "x"}) == {
        "profiles": [],
        "selected": {"profile": None, "options": {}},
    }


class Inspector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(attrs)


def parsed(html: str) -> Inspector:
    inspector = Inspector()
    inspector.feed(html)
    return inspector


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<a href='javascript:alert(1)'>x</a>",
        "<a href='JaVaScRiPt:alert(1)'>x</a>",
        "<a href=' javascript:alert(1)'>x</a>",
        "<a href='data:text/html,<script>alert(1)</script>'>x</a>",
        "<a href='/hub/logout'>x</a>",
        "<a href='//evil.example'>x</a>",
        "<p onclick='alert(1)' style='x'>x</p>",
        "<svg onload=alert(1)>",
        "<iframe src='https://evil.example'></iframe>",
        "<em onmouseover=alert(1)>x</em>",
        "<<script>script>alert(1)<</script>/script>",
    ],
)
def test_script_in_a_description_comes_out_inert(attack):
    html = description_html(f"Before {attack} after")
    inspector = parsed(html)
    assert set(inspector.tags) <= {"a", "em", "strong", "code", "ul", "ol", "li", "p", "br"}
    for name, value in inspector.attributes:
        assert not name.startswith("on")
        assert name in {"href", "title", "rel"}
        if name == "href":
            assert value.startswith(("http://", "https://", "mailto:"))
    assert "<script" not in html.lower()


def test_simple_html_survives_and_links_get_noopener():
    html = description_html(
        "<p>Use <strong>R</strong> or <code>python</code>:</p><ul><li><a href='https://r-project.org' title='R'>R</a></li>"
        "<li><a href='mailto:help@example.org'>help</a></li></ul>"
    )
    assert html == (
        '<p>Use <strong>R</strong> or <code>python</code>:</p><ul><li><a href="https://r-project.org" '
        'title="R" rel="noopener noreferrer">R</a></li><li><a href="mailto:help@example.org" '
        'rel="noopener noreferrer">help</a></li></ul>'
    )
    assert description_html("CPU < 2 & RAM > 1") == "CPU &lt; 2 &amp; RAM &gt; 1"
    assert description_html(None) is None


def _spawner(config, name="ann"):
    from types import SimpleNamespace

    from hub_extensions.spawners.profiles_local import ProfilesSimpleLocalProcessSpawner

    return ProfilesSimpleLocalProcessSpawner(
        config=config, user=SimpleNamespace(name=name, groups=[])
    )


def test_a_profile_list_is_read_once_per_config_not_per_render(monkeypatch):
    """Issue #14: the list is read (and checked) once, while spawners' copies of it still
    equal it; a changed list, or another config, is read again."""
    from traitlets.config import Config

    module = importlib.import_module("hub_extensions.profiles.page_data")

    reads = []
    real = module.read
    monkeypatch.setattr(module, "read", lambda *a, **k: reads.append(1) or real(*a, **k))
    monkeypatch.setattr(module.FormCache, "_entries", {})
    config = Config()
    config.ProfilesSimpleLocalProcessSpawner.profile_list = [{"display_name": "Small"}]
    ann, bob = _spawner(config), _spawner(config, "bob")
    assert ann.profile_list is not bob.profile_list  # JupyterHub's spawners get copies
    assert module.FormCache.of(ann) is module.FormCache.of(bob)
    assert [p.slug for p in module.FormCache.of(ann).checked.profiles] == ["small"]
    assert len(reads) == 1
    bob.profile_list = [{"display_name": "Large"}]
    assert [p.slug for p in module.FormCache.of(bob).checked.profiles] == ["large"]
    other = Config()
    other.ProfilesSimpleLocalProcessSpawner.profile_list = [{"display_name": "Small"}]
    assert module.FormCache.of(_spawner(other)) is not module.FormCache.of(ann)
    assert len(reads) == 4  # bob's change, then ann's list again, the other config


def test_a_links_summary_names_every_choice_and_marks_typed_values():
    from hub_extensions.profiles.page_data import link_summary

    profiles = normalize(PROFILE_LIST)
    slug = profiles[0].slug
    typed = {
        "profile": slug,
        "image--unlisted-choice": "jupyter/base:1",
        "image--build-signature": "s",
    }
    summary = link_summary(profiles, typed)
    assert summary["built"] is True  # a signature came with it; it is not taken
    assert summary["items"] == [
        {"label": "Environment", "value": profiles[0].display_name, "typed": False},
        {"label": "Image", "value": "jupyter/base:1", "typed": True},
    ]
    refused = link_summary(profiles, {"profile": "nope"})
    assert refused["items"] == []
    assert "is not a profile" in refused["problem"]
