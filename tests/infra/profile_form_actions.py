"""What a user does on a profiles form page: ours without JavaScript (plain HTML rules) or
KubeSpawner's (with its page script, `KubeSpawnerPage`). Both use KubeSpawner's field names
and element ids (`profile-item-<slug>`, `profile-option-<slug>--<key>[--unlisted-choice]`).
"""

from __future__ import annotations

from .html_form import HtmlForm
from .kubespawner_form import UNLISTED_CHOICE, KubeSpawnerPage
from .profile_corpus import UNLISTED, Pick, UserChoice


class PlainPage:
    """Our server-rendered form as a browser without JavaScript runs it."""

    def __init__(self, html: str):
        self.form = HtmlForm(html)

    def choose_profile(self, slug: str) -> None:
        self.form.check_radio("profile", slug)

    def choose(self, slug: str, option: str, choice: str) -> None:
        self.form.choose(self.form.by_id(f"profile-option-{slug}--{option}"), choice)

    def type_unlisted(self, slug: str, option: str, text: str) -> None:
        self.choose(slug, option, UNLISTED_CHOICE)
        field = self.form.by_id(f"profile-option-{slug}--{option}--unlisted-choice")
        self.form.type_text(field, text)

    def form_data(self) -> dict[str, list[str]]:
        return self.form.form_data()


Page = PlainPage | KubeSpawnerPage


def act(page: Page, choice: UserChoice) -> dict[str, list[str]]:
    """Make `choice` on `page` as a user would, and return the form data the browser posts."""
    if choice.profile is not None:
        page.choose_profile(choice.profile)
        for pick in choice.picks:
            if pick.kind == UNLISTED:
                page.type_unlisted(choice.profile, pick.option, pick.value)
            else:
                page.choose(choice.profile, pick.option, pick.value)
    return page.form_data()


def displayed_choice(page: Page) -> UserChoice:
    """What the page shows as chosen (checked profile, selected options, pre-filled text)."""
    form = page.form
    checked = [r for r in form.radios("profile") if r.checked]
    if not checked:
        return UserChoice(None)
    slug = checked[0].attrs.get("value") or ""
    prefix = f"profile-option-{slug}--"
    picks = []
    for select in form.selects():
        id_ = select.attrs.get("id") or ""
        if not id_.startswith(prefix) or "--" in id_[len(prefix) :]:
            continue
        key = id_[len(prefix) :]
        shown = select.selected_values()
        if shown == [UNLISTED_CHOICE]:
            picks.append(Pick(key, UNLISTED, form.by_id(f"{id_}--unlisted-choice").value))
        elif shown:
            picks.append(Pick(key, "listed", shown[0]))
    return UserChoice(slug, tuple(picks))
