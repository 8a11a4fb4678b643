"""KubeSpawner-compatible `profile_list` for any spawner: model, selection, overrides, page data."""

from .checks import Checked, evaluate, normalize, read, resolve
from .model import (
    Choice,
    Groups,
    Option,
    Problem,
    Profile,
    ProfileListError,
    Resources,
    Unlisted,
    github_teams,
    visible,
)
from .overrides import apply_overrides, override_problems, overrides_for
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
    "Checked",
    "Choice",
    "Groups",
    "Option",
    "Problem",
    "Profile",
    "ProfileListError",
    "Resources",
    "Selection",
    "SelectionError",
    "Unlisted",
    "UnlistedValue",
    "apply_overrides",
    "description_html",
    "evaluate",
    "full_match",
    "github_teams",
    "normalize",
    "option_field",
    "override_problems",
    "overrides_for",
    "page_data",
    "pattern_problem",
    "read",
    "resolve",
    "select",
    "substitute",
    "unlisted_field",
    "user_options_from_form",
    "visible",
]
