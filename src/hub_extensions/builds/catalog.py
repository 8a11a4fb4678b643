"""The build providers users can pick, shaped like BinderHub's `/api/repoproviders`.

Shared by the service's API and the spawn form (which gets them embedded, saving a request).
"""

from __future__ import annotations

PROVIDERS: dict[str, dict] = {
    "gh": {"displayName": "GitHub", "spec": {"validateRegex": r"[^/]+/[^/]+/.+"}},
    "gl": {"displayName": "GitLab", "spec": {"validateRegex": r".+/.+"}},
    "git": {"displayName": "Git repository", "spec": {"validateRegex": r".+/.+"}},
}


def providers_for(allowed: list[str]) -> list[dict]:
    """The allowed providers, in the admin's order, as `{"id", "displayName", "spec"}`."""
    return [{"id": p, **PROVIDERS[p]} for p in allowed if p in PROVIDERS]
