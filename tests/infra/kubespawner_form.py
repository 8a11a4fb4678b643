"""KubeSpawner 7.1's own profile form as its page posts it: the HTML it renders plus the effect
of the jQuery script in its template (kubespawner/templates/form.html).

That script is part of what KubeSpawner's page submits: the "Other..." text input carries only
`data-name`, and the script moves the `name` between the <select> and the text input on each
`change`, so a listed choice posts only the select and "Other..." posts only the text. On load
it pre-selects the saved `user_options` (an unlisted value selects "Other..." and fills the
text) and fires `change` on every select. `KubeSpawnerPage` replays exactly these steps on an
`HtmlForm`; the browser tier checks the replay against the real script in Chromium.
"""

from __future__ import annotations

import json
import re

from .html_form import Control, FormError, HtmlForm

UNLISTED_CHOICE = "unlisted-choice"
_USER_OPTIONS = re.compile(r"const userOptions = (.*);\s*$", re.M)


class KubeSpawnerPage:
    """KubeSpawner's form after its page script ran on load (document.ready)."""

    def __init__(self, html: str):
        self.form = HtmlForm(html)
        self.user_options = self._saved_user_options()
        self._data_name: dict[int, str | None] = {}  # jQuery .data('name') of each select
        self._on_load()

    def _saved_user_options(self) -> dict:
        for script in self.form.scripts:
            if m := _USER_OPTIONS.search(script):
                return json.loads(m[1]) or {}
        raise FormError("KubeSpawner's form script (const userOptions = ...) is missing")

    # --- the template's script ----------------------------------------------------------
    def _profile_label(self, control: Control):
        return next(a for a in control.element.ancestors() if "js-profile-label" in a.classes())

    def _options_container(self, control: Control):
        return next(a for a in control.element.ancestors() if "js-options-container" in a.classes())

    def _other_input(self, select: Control) -> Control | None:
        box = self._options_container(select)
        inputs = [
            c
            for c in self.form.controls
            if "js-other-input" in (c.attrs.get("class") or "").split()
            and box in c.element.ancestors()
        ]
        return inputs[0] if inputs else None

    def _on_change(self, select: Control) -> None:
        other = self._other_input(select)
        container = (
            next(a for a in other.element.ancestors() if "js-other-input-container" in a.classes())
            if other
            else None
        )
        if select.selected_values() == [UNLISTED_CHOICE]:
            self._data_name[id(select)] = select.attrs.get("name")
            select.attrs.pop("name", None)
            if other is not None:
                other.attrs["name"] = other.attrs.get("data-name")
            if container is not None:
                container.attrs["class"] = " ".join(container.classes() - {"hidden"})
        else:
            if other is not None:
                other.attrs.pop("name", None)
            name = self._data_name.get(id(select))
            if name is not None:  # jQuery's .attr('name', undefined) changes nothing
                select.attrs["name"] = name
            if container is not None:
                container.attrs["class"] = " ".join(sorted(container.classes() | {"hidden"}))

    def _on_load(self) -> None:
        saved = self.user_options.get("profile")
        if saved:
            for select in self.form.selects():
                if self._profile_label(select).attrs.get("for") != f"profile-item-{saved}":
                    continue
                key = (select.attrs.get("name") or "").split("--")[-1]
                unlisted = self.user_options.get(f"{key}--unlisted-choice")
                value = self.user_options.get(key)
                if unlisted:
                    self._set_value(select, UNLISTED_CHOICE)
                    other = self._other_input(select)
                    if other is not None:
                        other.value = unlisted
                elif value:
                    self._set_value(select, value)
        for select in self.form.selects():
            self._on_change(select)

    @staticmethod
    def _set_value(select: Control, value: str) -> None:
        # jQuery .val(x): selects the matching option, or none when there is no match
        for o in select.options:
            o.selected = o.value == value

    # --- what a user does ---------------------------------------------------------------
    def choose_profile(self, slug: str) -> None:
        self.form.check_radio("profile", slug)

    def choose(self, slug: str, option: str, choice: str) -> None:
        """Click the option's select (which checks its profile's radio) and pick `choice`."""
        select = self.form.by_id(f"profile-option-{slug}--{option}")
        label = self._profile_label(select)
        radio = next(r for r in self.form.radios("profile") if label in r.element.ancestors())
        self.form.check_radio("profile", radio.attrs.get("value") or "")
        if self.form.choose(select, choice):
            self._on_change(select)

    def type_unlisted(self, slug: str, option: str, text: str) -> None:
        self.choose(slug, option, UNLISTED_CHOICE)
        self.form.type_text(
            self.form.by_id(f"profile-option-{slug}--{option}--unlisted-choice"), text
        )

    def form_data(self) -> dict[str, list[str]]:
        return self.form.form_data()
