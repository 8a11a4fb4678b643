"""The usage page and its JSON/CSV API: everyone's usage for holders of the usage scope, else
one's own. Every check is made here, on the server; the page only hides what it cannot show.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from datetime import date, datetime, timezone
from functools import partial
from typing import Any

from jupyterhub.services.auth import check_scopes
from tornado import web

from ..contract import USAGE_READ_SCOPE
from ..usage import charts
from ..usage.fail_open import UNAVAILABLE
from ..usage.reports import MAX_LIMIT
from . import usage_params as params
from .handlers import APIHandler, BaseHandler, has_admin_powers
from .usage_context import LedgerNotReady, UsageStore

CSV_PAGE = MAX_LIMIT
#: Seconds a client should wait after a database outage (503) before asking again.
RETRY_AFTER_OUTAGE = 30
log = logging.getLogger("hub_extensions.service.usage")


def holds_usage_scope(user: dict) -> bool:
    """Tokens with admin powers (see handlers.has_admin_powers: scopes, not the admin flag,
    which the hub reports whatever the token), and tokens that carry the usage scope."""
    if has_admin_powers(user):
        return True
    return bool(check_scopes(USAGE_READ_SCOPE, set(user.get("scopes") or ())))


def unavailable(message: str, retry_after: int) -> web.HTTPError:
    """A 503 whose Retry-After header survives tornado's clearing of headers on errors."""
    err = web.HTTPError(503, message)
    err.retry_after = retry_after  # type: ignore[attr-defined]  # sent by APIHandler.write_error
    return err


def _json_default(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class UsageAPIHandler(APIHandler):
    """Shared by the usage endpoints: the store, the caller's reach, errors as 400/403/503."""

    @property
    def store(self) -> UsageStore:
        store = getattr(self.ctx, "usage", None)
        if store is None:
            raise web.HTTPError(503, "The usage ledger is not available in this service.")
        return store

    @property
    def can_read_all(self) -> bool:
        return holds_usage_scope(self.current_user_model)

    def args(self) -> dict[str, list[str]]:
        return {name: self.get_query_arguments(name) for name in self.request.query_arguments}

    def parse(self, parser, *args: Any):
        """Run a usage_params parser on the query; a bad parameter is a 400 naming it."""
        try:
            return parser(self.args(), *args)
        except params.ParamError as err:
            raise web.HTTPError(400, str(err)) from None

    def whose(self, requested: str | None) -> str | None:
        """The user to read: anyone (None = everyone) with the scope, else only oneself."""
        me = self.current_user_model["name"]
        if self.can_read_all:
            return requested
        if requested is None or requested == me:
            return me
        raise web.HTTPError(403, self.forbidden(f"user {requested!r}'s usage"))

    def forbidden(self, what: str) -> str:
        return (
            f"Reading {what} needs the {USAGE_READ_SCOPE} scope (hub admins hold it). "
            "You may read your own usage; ask the hub admin to grant the scope through a role "
            "in JupyterHub.load_roles."
        )

    async def query(self, fn, *args: Any, **kw: Any):
        try:
            return await self.store.run(fn, *args, **kw)
        except LedgerNotReady as err:
            raise unavailable(str(err), 60) from None
        except UNAVAILABLE as err:  # the database went away (PostgreSQL restarting, network)
            log.warning("usage ledger unavailable: %s", err)
            raise unavailable(
                "The usage ledger's database cannot be reached right now. Try again in "
                f"{RETRY_AFTER_OUTAGE} seconds; if this stays, the hub's log says why.",
                RETRY_AFTER_OUTAGE,
            ) from None
        except ValueError as err:  # the ledger's own checks name the parameter too
            raise web.HTTPError(400, str(err)) from None

    def finish_json(self, data: dict[str, Any]) -> None:
        self.finish(json.dumps(data, default=_json_default))


class SessionsHandler(UsageAPIHandler):
    @web.authenticated
    async def get(self) -> None:
        store = self.store
        filters = self.parse(params.session_filters, store.tz)
        user = self.whose(filters.user)
        kw = {**filters.ledger_kwargs(), "user": user}
        if filters.limit < MAX_LIMIT:  # one more row tells whether a next page exists
            rows = await self.query(
                lambda ledger: ledger.sessions(**{**kw, "limit": kw["limit"] + 1})
            )
            has_more, rows = len(rows) > filters.limit, rows[: filters.limit]
        else:
            rows = await self.query(lambda ledger: ledger.sessions(**kw))
            after = {**kw, "limit": 1, "offset": filters.offset + filters.limit}
            has_more = bool(await self.query(lambda ledger: ledger.sessions(**after)))
        self.finish_json(
            {
                "sessions": [params.session_json(s, store.tz) for s in rows],
                "limit": filters.limit,
                "offset": filters.offset,
                "has_more": has_more,
                "user": user,
                "timezone": store.tz.key,
            }
        )


class SessionsCSVHandler(UsageAPIHandler):
    """Every matching session as CSV, written page by page so memory stays flat."""

    @web.authenticated
    async def get(self) -> None:
        store = self.store
        filters = self.parse(partial(params.session_filters, paged=False), store.tz)
        user = self.whose(filters.user)
        # sessions requested from now on are left out, so pages do not shift while we read
        now = datetime.now(timezone.utc)
        end = min(filters.end, now) if filters.end is not None else now
        kw = {**filters.ledger_kwargs(), "user": user, "end": end}
        remaining = filters.limit
        await self.query(lambda ledger: None)  # 503 as JSON before any CSV is sent
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        name = f"usage-sessions-{store.today().isoformat()}.csv"
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        self.write(_csv_lines([params.CSV_COLUMNS]))
        offset = filters.offset
        while remaining is None or remaining > 0:
            size = CSV_PAGE if remaining is None else min(CSV_PAGE, remaining)
            page = {**kw, "limit": size, "offset": offset}
            rows = await self.query(lambda ledger, page=page: ledger.sessions(**page))
            self.write(_csv_lines(params.csv_row(s, store.tz) for s in rows))
            await self.flush()
            if len(rows) < size:
                break
            offset += size
            remaining = None if remaining is None else remaining - size
        self.finish()


def _csv_lines(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


class SummaryHandler(UsageAPIHandler):
    """Month to date: one's own, a user's (scope) or everyone's (`all=1`, scope)."""

    @web.authenticated
    async def get(self) -> None:
        month, requested, everyone = self.parse(params.summary_params)
        if everyone:
            if not self.can_read_all:
                raise web.HTTPError(403, self.forbidden("every user's usage (all=1)"))
            data = await self.query(lambda ledger: ledger.all_users_summary(month))
        else:
            user = self.whose(requested) or self.current_user_model["name"]
            data = await self.query(lambda ledger: ledger.summary(user, month))
        self.finish_json({**data, "timezone": self.store.tz.key})


class DailyHandler(UsageAPIHandler):
    """Sessions per day and hours per profile per day, for the charts."""

    @web.authenticated
    async def get(self) -> None:
        start, end, requested = self.parse(params.daily_params, self.store.today())
        user = self.whose(requested)
        data = await self.query(
            lambda ledger: charts.daily_by_profile(ledger.engine, start, end, user)
        )
        self.finish_json({**data, "user": user, "timezone": self.store.tz.key})


class ActiveUsersHandler(UsageAPIHandler):
    """Active users per day over a daily, weekly or monthly window (scope holders only)."""

    @web.authenticated
    async def get(self) -> None:
        if not self.can_read_all:
            raise web.HTTPError(403, self.forbidden("active-user counts"))
        start, end, window, group = self.parse(params.active_users_params, self.store.today())
        series = await self.query(
            lambda ledger: ledger.active_users_series(start, end, window, group)
        )
        self.finish_json(
            {
                "window": window,
                "group": group,
                "days": [d.isoformat() for d, _ in series],
                "counts": [n for _, n in series],
                "timezone": self.store.tz.key,
            }
        )


class UsagePageHandler(BaseHandler):
    @web.authenticated
    def get(self) -> None:
        store = getattr(self.ctx, "usage", None)
        self.render_page(
            "usage.html",
            can_read_all=holds_usage_scope(self.current_user_model),
            scope=USAGE_READ_SCOPE,
            timezone=store.tz.key if store else "UTC",
            today=(store.today() if store else date.today()).isoformat(),
            reasons=" ".join(params.REASONS),
        )
