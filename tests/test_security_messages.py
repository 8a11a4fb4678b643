"""Messages reach users as written: a '%' shows once (#13), on the service's JSON errors and
pages, through the real tornado application of the service (no hub needed for a 404)."""

from __future__ import annotations

import pytest
from jupyterhub.services.auth import HubOAuth
from tornado.testing import AsyncHTTPTestCase

from hub_extensions.options import HubExtensions
from hub_extensions.service.app import make_app
from hub_extensions.service.context import HubURLs, ServiceContext

pytestmark = pytest.mark.unit

PREFIX = "/services/hub-extensions/"


def service_app(auth_class: type[HubOAuth] = HubOAuth):
    """The service's real tornado application, its hub at an address where nothing listens."""
    urls = HubURLs("/", PREFIX, "http://127.0.0.1:1/hub/api", "http://127.0.0.1:10101")
    ctx = ServiceContext(
        options=HubExtensions(),
        urls=urls,
        hub_auth=auth_class(api_token="unused", api_url=urls.api_url),
        version="test",
    )
    return make_app(ctx)  # builds are not configured: ctx.builds is None


class TestPercentShowsOnce(AsyncHTTPTestCase):
    def get_app(self):
        return service_app()

    def test_json_error(self):
        r = self.fetch(PREFIX + "api/100%25-done")
        assert r.code == 404
        assert r.body.decode().count("%") == 1
        assert '"No such API endpoint: /services/hub-extensions/api/100%25-done"' in r.body.decode()

    def test_page_error(self):
        r = self.fetch(PREFIX + "50%25-off")
        assert r.code == 404
        assert "No such page: /services/hub-extensions/50%25-off" in r.body.decode()
        assert "%%" not in r.body.decode()


class _SignedIn(HubOAuth):
    """The hub's answer for a plain user's token, without a hub: this test is about messages."""

    def get_user(self, handler, **kwargs):
        return {"name": "ana", "admin": False, "scopes": ["access:services"], "groups": []}


class TestBuildStreamErrors(AsyncHTTPTestCase):
    """The build stream's errors (HTTP 200 + `failed`, BinderHub's shape) say what the service
    means to say: a deliberate 5xx keeps its message, '%' shows once. Not covered: the hub's
    real token check (tests/test_security_tokens.py does that on a real hub)."""

    def get_app(self):
        return service_app(_SignedIn)

    def test_builds_off_is_said_not_hidden_as_an_internal_error(self):
        r = self.fetch(PREFIX + "build/gh/org/100%25-repo/HEAD")
        assert r.code == 200
        assert r.headers["Content-Type"].startswith("text/event-stream")
        assert r.body.decode().strip() == (
            'data: {"phase": "failed", "status_code": 501, '
            '"message": "Builds are not enabled on this hub.\\n"}'
        )
