"""Run oidc-provider-mock over TLS on 127.0.0.1, with CILogon's endpoint paths as aliases.

Started by `tests.infra.oidc.OIDCProvider` as ``python oidc_launcher.py --pem PEM --port-file F``
(by path, so it needs nothing from the test package). It binds a free port itself and writes the
number to the port file once it listens, so there is no race over the port.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import ssl
from pathlib import Path

import flask
import jinja2
import oidc_provider_mock
from werkzeug.serving import make_server

# CILogon path -> endpoint of the mock that serves it (/oauth2/token is the same on both)
CILOGON_ALIASES = {
    "/authorize": "oidc-provider-mock.authorize",
    "/oauth2/userinfo": "oidc-provider-mock.userinfo",
}


_CDN_LINK = re.compile(r"<link[^>]*cdn\.jsdelivr\.net[^>]*>", re.S)


class _OfflineTemplates(jinja2.BaseLoader):
    """The mock's templates without their CDN stylesheet: a browser here must not reach out,
    and the failed load would be a console error on every authorization page."""

    def __init__(self, inner: jinja2.BaseLoader) -> None:
        self.inner = inner

    def get_source(self, environment: jinja2.Environment, template: str):  # type: ignore[override]
        source, filename, uptodate = self.inner.get_source(environment, template)
        return _CDN_LINK.sub("", source), filename, uptodate


def build_app(
    require_registration: bool = False, users: list[dict[str, object]] | None = None
) -> flask.Flask:
    predefined = [
        oidc_provider_mock.User(
            sub=str(u["sub"]), claims={k: v for k, v in u.items() if k != "sub"}
        )
        for u in users or []
    ]
    app = oidc_provider_mock.app(
        require_client_registration=require_registration, user_claims=predefined
    )
    app.jinja_env.loader = _OfflineTemplates(app.jinja_env.loader)  # type: ignore[arg-type]
    app.add_url_rule("/favicon.ico", "favicon", lambda: ("", 204))
    for path, endpoint in CILOGON_ALIASES.items():
        # rules added after the blueprint's, so url_for (discovery document) keeps the mock's paths
        app.add_url_rule(path, endpoint=endpoint, methods=["GET", "POST"])
    return app


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--pem", required=True, help="private key + certificate chain (PEM)")
    p.add_argument("--port-file", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--require-registration", action="store_true")
    p.add_argument("--users-json", default="[]", help='[{"sub": ..., claim: value}, ...]')
    args = p.parse_args(argv)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.pem)
    app = build_app(args.require_registration, json.loads(args.users_json))
    server = make_server("127.0.0.1", args.port, app, threaded=True, ssl_context=ctx)
    tmp = Path(args.port_file + ".tmp")
    tmp.write_text(str(server.server_port))
    os.replace(tmp, args.port_file)
    print(f"oidc-provider-mock listening on https://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
