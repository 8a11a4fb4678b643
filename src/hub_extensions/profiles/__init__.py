"""KubeSpawner-compatible `profile_list` for any spawner: model, selection, overrides, page data."""

from .model import (
    Choice,
    Option,
    Profile,
    ProfileListError,
    Resources,
    Unlisted,
    normalize,
    resolve,
    visible,
)
from .overrides import apply_overrides, check_override_keys, overrides_for
from .page_data import description_html, page_data
from .patterns import full_match, pattern_problem, substitute
from .selection import (
    FORM_PROFILE,
    Selection,
    SelectionError,
    UnlistedValue,
    option_field,
    select,
    unlisted_field,
    user_options_from_form,
)

__all__ = [
    "FORM_PROFILE",
    "Choice",
    "Option",
    "Profile",
    "ProfileListError",
    "Resources",
    "Selection",
    "SelectionError",
    "Unlisted",
    "UnlistedValue",
    "apply_overrides",
    "check_override_keys",
    "description_html",
    "full_match",
    "normalize",
    "option_field",
    "overrides_for",
    "page_data",
    "pattern_problem",
    "resolve",
    "select",
    "substitute",
    "unlisted_field",
    "user_options_from_form",
    "visible",
]
