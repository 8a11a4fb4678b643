"""`hub-extensions cilogon`: render, migrate, refresh-idps."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from traitlets.config import Config

from .auth.idp_snapshot import DEFAULT_LIST_PATH, DEFAULT_URL, SnapshotError, refresh
from .auth.migrate import as_python as migration_as_python
from .auth.migrate_resolve import migrate_config
from .auth.presets import SECTIONS, PresetConfigError, configured
from .auth.render import as_python, as_z2jh_yaml, compile_file_config, load_config_file

PROG = "hub-extensions cilogon"


def _load(file: str, command: str) -> Config | None:
    """The config file's Config, or None after printing why it cannot be read."""
    path = Path(file).resolve()
    if not path.is_file():
        print(f"{PROG} {command}: {path} does not exist", file=sys.stderr)
        return None
    try:
        return load_config_file(path)
    except Exception as err:  # a config file can raise anything; report it, no traceback
        print(f"{PROG} {command}: cannot load {path}: {err}", file=sys.stderr)
        return None


def _render(args: argparse.Namespace) -> int:
    config = _load(args.file, "render")
    if config is None:
        return 2
    try:
        compiled, users = compile_file_config(config)
    except PresetConfigError as err:
        print(f"{PROG} render: invalid CILogon presets in {args.file}:", file=sys.stderr)
        for problem in err.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    for warning in compiled.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for line in compiled.info:
        print(f"note: {line}", file=sys.stderr)
    print(as_python(compiled, users))
    print(as_z2jh_yaml(compiled, users), end="")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    config = _load(args.file, "migrate")
    if config is None:
        return 2
    out = migrate_config(config)
    print(migration_as_python(out), end="")
    return 1 if out.incomplete else 0


def _refresh(args: argparse.Namespace) -> int:
    url, output = args.url, args.output
    if args.config:
        config = _load(args.config, "refresh-idps")
        if config is None:
            return 2
        url = url or configured(config, SECTIONS, "idp_list_url", None)
        output = output or configured(config, SECTIONS, "idp_list_path", None)
    url, output = url or DEFAULT_URL, Path(output or DEFAULT_LIST_PATH)
    try:
        count = refresh(url, output)
    except SnapshotError as err:
        print(f"{PROG} refresh-idps: {err}", file=sys.stderr)
        return 1
    print(f"wrote {count} identity providers from {url} to {output}")
    return 0


def add_cilogon_parser(sub: argparse._SubParsersAction) -> None:
    """Add `cilogon` and its subcommands to the `hub-extensions` parser's subparsers."""
    cilogon = sub.add_parser("cilogon", help="CILogon presets: render, migrate, refresh-idps")
    commands = cilogon.add_subparsers(dest="cilogon_command", required=True)

    render = commands.add_parser(
        "render", help="print what the providers of a config file compile to (Python and YAML)"
    )
    render.add_argument("file", help="jupyterhub_config.py using CILogonPresetsAuthenticator")
    render.set_defaults(func=_render)

    migrate = commands.add_parser(
        "migrate", help="turn CILogonOAuthenticator.idps or allowed_idps into providers"
    )
    migrate.add_argument("file", help="jupyterhub_config.py using CILogonOAuthenticator")
    migrate.set_defaults(func=_migrate)

    refresh = commands.add_parser(
        "refresh-idps", help="fetch CILogon's IdP list into the copy the hub checks against"
    )
    refresh.add_argument(
        "--config",
        help="jupyterhub_config.py: write to its idp_list_path, fetch its idp_list_url",
    )
    refresh.add_argument("--url", help=f"where to fetch it (default {DEFAULT_URL})")
    refresh.add_argument(
        "--output",
        help=f"where to write it (default: the config's idp_list_path, else {DEFAULT_LIST_PATH} "
        "in the current directory, i.e. the hub's data directory when run there)",
    )
    refresh.set_defaults(func=_refresh)


def main(argv: list[str] | None = None) -> int:
    """`hub-extensions cilogon ...` on its own (the same parser as in `hub-extensions`)."""
    parser = argparse.ArgumentParser(prog="hub-extensions")
    add_cilogon_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["cilogon", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
