"""The conformance tests' HTML form model follows the HTML standard's form submission rules.

Each expectation is what a browser submits for the snippet (HTML standard, "constructing the
entry list" and the select element's selectedness rules); the browser tier also compares the
model with Chromium for KubeSpawner's real form.
"""

from __future__ import annotations

import pytest

from .infra.html_form import FormError, HtmlForm
from .infra.kubespawner_form import KubeSpawnerPage

pytestmark = pytest.mark.unit


def test_what_a_browser_submits():
    form = HtmlForm(
        '<input type="radio" name="p" value="a" checked><input type="radio" name="p" value="b" checked>'
        '<select name="one"><option value="x" selected>X<option value="y" selected>Y</select>'
        '<select name="first"><option disabled value="d">D</option><option>Plain  text</option></select>'
        '<input name="empty"><input data-name="unnamed" value="v"><input name="off" disabled value="1">'
        '<fieldset disabled><input name="in-disabled-fieldset" value="1"></fieldset>'
        '<input type="checkbox" name="box"><input type="checkbox" name="on" checked>'
        '<textarea name="t">hello</textarea><button name="b" value="1">Go</button>'
        '<input type="hidden" name="h" value="kept">'
    )  # fmt: skip
    assert form.entries() == [
        ("p", "b"),  # the last checked radio of a group wins
        ("one", "y"),  # a single select keeps the last option marked selected
        ("first", "Plain text"),  # none selected: the first enabled option, by its text
        ("empty", ""),  # an empty text input is submitted
        ("on", "on"),
        ("t", "hello"),
        ("h", "kept"),
    ]
    assert form.form_data()["empty"] == [""]  # tornado keeps blank values, as JupyterHub sees


def test_a_user_cannot_use_hidden_or_disabled_controls():
    form = HtmlForm(
        '<div class="hidden"><input id="secret" name="s"></div><select id="sel" name="x" disabled>'
        '<option value="1">1</option></select>'
    )
    with pytest.raises(FormError, match="hidden"):
        form.type_text(form.by_id("secret"), "typed")
    with pytest.raises(FormError, match="disabled"):
        form.choose(form.by_id("sel"), "1")
    with pytest.raises(FormError, match="no radio"):
        form.check_radio("profile", "gpu")


def test_kubespawners_script_moves_the_name_to_the_field_in_use():
    html = (
        '<label for="profile-item-a" class="js-profile-label"><input type="radio" name="profile" '
        'id="profile-item-a" value="a" checked><div class="js-options-container">'
        '<select name="profile-option-a--image" id="profile-option-a--image" '
        'class="js-profile-option-select"><option value="x" selected>X</option>'
        '<option value="unlisted-choice">Other...</option></select>'
        '<div class="option hidden js-other-input-container"><input '
        'data-name="profile-option-a--image--unlisted-choice" '
        'id="profile-option-a--image--unlisted-choice" class="form-control js-other-input" />'
        "</div></div></label><script>const userOptions = "
        '{"profile": "a", "image--unlisted-choice": "old:1"};\n</script>'
    )
    page = KubeSpawnerPage(html)  # the last start used "Other...": pre-filled and shown
    assert page.form_data() == {
        "profile": ["a"],
        "profile-option-a--image--unlisted-choice": ["old:1"],
    }
    page.choose("a", "image", "x")  # the text field loses its name again
    assert page.form_data() == {"profile": ["a"], "profile-option-a--image": ["x"]}
