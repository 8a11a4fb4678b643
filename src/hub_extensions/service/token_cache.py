"""What the hub says of a token, kept no longer than the token lives (issue #13).

JupyterHub's `HubAuth` keeps the hub's answer about a token (`GET /hub/api/user`) for
`cache_max_age` seconds, whatever the token's own expiry: a token that expires one second
after it was last checked kept working here for the rest of that window. Here an answer is
kept until the earlier of `cache_max_age` (how soon a revocation is seen) and the token's
`expires_at`.

The expiry comes from the hub's record of the token, `GET /hub/api/users/{name}/tokens/{id}`
(JupyterHub 5+ names the token's id in `/hub/api/user`). That needs the `read:tokens` scope,
which shows tokens' metadata (id, scopes, note, dates), never their secrets; the wiring gives
it to the service's role. An expiry never changes, so it is asked once per token and kept
(a bounded map keyed by the token's hash, not its id: ids of deleted rows can come back).

When the expiry cannot be learnt (the service's token lacks `read:tokens`, a hub older than
5, the token was revoked between the two requests), the answer is not kept at all: every
request asks the hub, slower but never past an expiry. Tokens of services (not users) have
no such record; they are kept `cache_max_age` seconds as before.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Any, NamedTuple
from urllib.parse import quote

from jupyterhub.services.auth import HubOAuth
from jupyterhub.utils import url_path_join
from tornado.web import HTTPError

log = logging.getLogger("hub_extensions.service")

#: Tokens whose expiry is remembered (about 200 bytes each); the oldest are forgotten first.
MAX_KNOWN_EXPIRIES = 10_000
#: Kept answers are swept of stale entries when there are more than this many.
SWEEP_ABOVE = 1_000
_UNKNOWN = object()  # "the expiry could not be learnt" (None means "never expires")


class _Answer(NamedTuple):
    model: dict | None
    fresh_until: float  # time.monotonic(): the revocation window
    expires_at: float | None  # time.time() of the token's expiry; None: it does not expire

    def usable(self) -> bool:
        return self.fresh_until > time.monotonic() and (
            self.expires_at is None or self.expires_at > time.time()
        )


def parse_expiry(value: str | None) -> float | None:
    """The hub's `expires_at` ("2026-12-06T08:20:01.123456Z", naive UTC) as a timestamp."""
    if not value:
        return None
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf8", "replace")).hexdigest()


class ExpiryAwareHubOAuth(HubOAuth):
    """`HubOAuth` whose cached answers end at the token's expiry (see the module's doc)."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._answers: dict[str, _Answer] = {}
        self._expiries: OrderedDict[str, float | None] = OrderedDict()
        self._cannot_read_tokens = False

    async def _check_hub_authorization(
        self, url: str, api_token: str, cache_key: str | None = None, use_cache: bool = True
    ) -> dict | None:
        # HubAuth.user_for_token() comes here with the hub's /user URL and the caller's token;
        # JupyterHub's own time-only cache is bypassed (use_cache=False below)
        if use_cache and cache_key is not None:
            kept = self._answers.get(cache_key)
            if kept is not None and kept.usable():
                return kept.model
        model = await super()._check_hub_authorization(url, api_token, use_cache=False)
        if not use_cache or cache_key is None:
            return model
        expires_at: Any = None  # an unknown token's "no" does not change: kept the window
        if model is not None and model.get("kind", "user") == "user":
            expires_at = await self._expiry(api_token, model)
        if expires_at is _UNKNOWN:
            self._answers.pop(cache_key, None)
            return model
        if len(self._answers) > SWEEP_ABOVE:
            self._answers = {k: a for k, a in self._answers.items() if a.usable()}
        self._answers[cache_key] = _Answer(model, time.monotonic() + self.cache_max_age, expires_at)
        return model

    async def _expiry(self, token: str, model: dict) -> Any:
        """The token's expiry (a timestamp, or None for never), or _UNKNOWN."""
        key = _token_hash(token)
        if key in self._expiries:
            self._expiries.move_to_end(key)
            return self._expiries[key]
        token_id = model.get("token_id")
        if not token_id or self._cannot_read_tokens:
            return _UNKNOWN
        url = url_path_join(
            self.api_url, "users", quote(model["name"], safe=""), "tokens", quote(token_id)
        )
        try:
            # with the service's own token (the default header of _api_request)
            record = await self._api_request("GET", url, allow_403=True)
        except HTTPError as err:  # e.g. revoked since the hub identified it: not kept
            log.info("token %s of %s: no expiry (%s)", token_id, model["name"], err.log_message)
            return _UNKNOWN
        if record is None:  # 403: the service's role lacks read:tokens
            self._cannot_read_tokens = True
            log.warning(
                "The hub refuses the service's token access to token records (read:tokens): "
                "what the hub says of a token is not cached, so every request asks the hub. "
                "Add read:tokens to the %s role's scopes (hub_extensions.setup does this).",
                "hub-extensions-service",
            )
            return _UNKNOWN
        expires_at = parse_expiry(record.get("expires_at"))
        self._expiries[key] = expires_at
        if len(self._expiries) > MAX_KNOWN_EXPIRIES:
            self._expiries.popitem(last=False)
        return expires_at
