"""A real OpenID Connect provider over TLS on 127.0.0.1 (oidc-provider-mock + a trustme CA).

It also answers on CILogon's paths (`/authorize`, `/oauth2/token`, `/oauth2/userinfo`), so
oauthenticator's ``CILogonOAuthenticator`` works unmodified with
``cilogon_host=provider.host`` and ``http_request_kwargs={"ca_certs": str(provider.ca_file)}``.

The mock's authorization page is a form that POSTs ``sub=<subject>`` back to the same URL
(query string included) and answers with a 302 to the client's redirect_uri carrying
``code`` and ``state``. In a browser: fill ``input[name=sub]`` and click "Authorize".
With requests: see `complete_authorization`. Any client id/secret and redirect_uri is
accepted unless the provider was started with ``require_registration=True``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

from .common import ManagedProcess, Unavailable, wait_for_http, wait_until

LAUNCHER = Path(__file__).with_name("oidc_launcher.py")


class OIDCProvider:
    def __init__(
        self,
        tmpdir: Path,
        *,
        require_registration: bool = False,
        users: Sequence[dict[str, Any]] = (),
    ) -> None:
        """`users`: predefined users, each ``{"sub": ..., **claims}``; they appear as
        one-click buttons on the authorization page. `set_user` adds users at run time."""
        try:
            import oidc_provider_mock  # noqa: F401
            import trustme
        except ImportError as e:
            raise Unavailable(f"{e.name} is not installed (pip install -e .[test])") from e
        self._trustme = trustme
        self.tmpdir = Path(tmpdir)
        self.require_registration = require_registration
        self.users = list(users)
        self.ca_file = self.tmpdir / "oidc-ca.pem"
        self.cert_file = self.tmpdir / "oidc-server-cert.pem"  # leaf only: for Chromium's trust
        self.port = 0
        self.process: ManagedProcess | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"https://{self.host}"

    @property
    def issuer(self) -> str:
        return self.url  # the mock's issuer is the request's host URL without a trailing slash

    def start(self, timeout: float = 30) -> None:
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        ca = self._trustme.CA()
        ca.cert_pem.write_to_path(str(self.ca_file))
        pem = self.tmpdir / "oidc-server.pem"
        leaf = ca.issue_cert("127.0.0.1", "localhost")
        # the chain includes the CA, so Chromium's SPKI allow-list can name the CA (see browser.py)
        pem.write_bytes(leaf.private_key_and_cert_chain_pem.bytes() + ca.cert_pem.bytes())
        leaf.cert_chain_pems[0].write_to_path(str(self.cert_file))
        port_file = self.tmpdir / "oidc.port"
        port_file.unlink(missing_ok=True)
        cmd = [sys.executable, str(LAUNCHER), "--pem", str(pem), "--port-file", str(port_file)]
        cmd += ["--users-json", json.dumps(self.users)]
        if self.require_registration:
            cmd.append("--require-registration")
        self.process = proc = ManagedProcess("oidc-provider", cmd, self.tmpdir)

        def ready() -> bool:
            if not proc.alive():
                raise RuntimeError(f"OIDC provider exited:\n{proc.log_text()[-3000:]}")
            return port_file.exists()

        try:
            wait_until(ready, timeout, "the OIDC provider's port file")
        except TimeoutError as e:
            raise TimeoutError(f"{e}\n{proc.log_text()[-3000:]}") from e
        self.port = int(port_file.read_text())
        wait_for_http(self.discovery_url, timeout, verify=str(self.ca_file))

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def __enter__(self) -> OIDCProvider:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- talking to the provider -------------------------------------------------------------
    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def session(self) -> requests.Session:
        """A requests session that trusts the provider's CA.

        trust_env is off: otherwise REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE (set on these machines)
        silently override ``Session.verify``, and proxy variables could apply."""
        s = requests.Session()
        s.trust_env = False
        s.verify = str(self.ca_file)
        return s

    def discovery(self) -> dict[str, Any]:
        return requests.get(self.discovery_url, verify=str(self.ca_file), timeout=10).json()

    def set_user(self, sub: str, claims: dict[str, Any]) -> None:
        """Create or replace user `sub` with `claims` (``PUT /users/{sub}``).

        Standard claims (email, preferred_username, name, ...) are released only for the scopes
        that cover them (email, profile); any other claim (idp, eppn, ...) is always released."""
        r = requests.put(
            f"{self.url}/users/{sub}", json=claims, verify=str(self.ca_file), timeout=10
        )
        r.raise_for_status()

    def revoke_tokens(self, sub: str) -> None:
        r = requests.post(
            f"{self.url}/users/{sub}/revoke-tokens", verify=str(self.ca_file), timeout=10
        )
        r.raise_for_status()

    def register_client(
        self, redirect_uris: Sequence[str], auth_method: str = "client_secret_post"
    ) -> tuple[str, str]:
        """Register a client (needed only with require_registration=True).

        The mock chooses the id and secret itself: returns ``(client_id, client_secret)``."""
        body = {"redirect_uris": list(redirect_uris), "token_endpoint_auth_method": auth_method}
        r = requests.post(
            f"{self.url}/oauth2/clients", json=body, verify=str(self.ca_file), timeout=10
        )
        r.raise_for_status()
        data = r.json()
        return data["client_id"], data["client_secret"]

    @staticmethod
    def authorize_form_fields(sub: str) -> dict[str, str]:
        """The form fields that authorize `sub`, POSTed to the authorization URL itself."""
        return {"sub": sub}

    def complete_authorization(
        self, session: requests.Session, authorize_url: str, sub: str
    ) -> str:
        """Log `sub` in at `authorize_url` (the full URL with query string, as a client
        redirects to it); return the redirect (client callback URL with code and state)."""
        kw: dict[str, Any] = {"verify": str(self.ca_file), "timeout": 10}
        page = session.get(authorize_url, **kw)
        page.raise_for_status()
        r = session.post(
            authorize_url, data=self.authorize_form_fields(sub), allow_redirects=False, **kw
        )
        if r.status_code != 302:
            raise RuntimeError(f"authorization failed: {r.status_code} {r.text[:2000]}")
        return r.headers["Location"]
