"""The `hub-extensions` command: demo, check-config."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from traitlets.config import PyFileConfigLoader

from ._version import __version__
from .cli_cilogon import add_cilogon_parser

# `checks` and `reference` load every feature's options and checks (SQLAlchemy among them, about
# 0.9 s): the subcommands that need them import them when they run, so that `demo`, which
# supervises its hub for as long as it runs, starts without them.


def _demo(args: argparse.Namespace) -> int:
    from .demo.runner import DemoError, DemoOptions, run

    opts = DemoOptions(
        ip=args.ip,
        port=args.port,
        base_url=args.base_url,
        spawner=args.spawner,
        image=args.image,
        state_dir=Path(args.state_dir),
        config=Path(args.config) if args.config else None,
    )
    try:
        return run(opts)
    except DemoError as err:
        print(f"hub-extensions demo: {err}", file=sys.stderr)
        return 2


def _check_config(args: argparse.Namespace) -> int:
    from .checks import CONFIGURABLES, check_config

    if args.help_all:
        for cls in CONFIGURABLES:
            print(cls.class_config_section())
        return 0
    if not args.file:
        print("hub-extensions check-config: give a jupyterhub_config.py", file=sys.stderr)
        return 2
    path = Path(args.file).resolve()
    if not path.is_file():
        print(f"hub-extensions check-config: {path} does not exist", file=sys.stderr)
        return 2
    config = PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
    warnings: list[str] = []
    problems = check_config(config, warnings)
    for problem in problems:
        print(problem, file=sys.stderr)
    for warning in warnings:
        print(f"{'error' if args.strict else 'warning'}: {warning}", file=sys.stderr)
    failed = bool(problems) or (args.strict and bool(warnings))
    if not failed:
        note = f" ({len(warnings)} warning(s))" if warnings else ""
        print(f"{path}: hub-extensions options are valid{note}")
    return 1 if failed else 0


def _config_reference(args: argparse.Namespace) -> int:
    from .reference import reference_markdown

    print(reference_markdown(), end="")
    return 0


def _base_url(value: str) -> str:
    if not value.startswith("/"):
        raise argparse.ArgumentTypeError("must start with '/', e.g. /jupyter/")
    return value if value.endswith("/") else value + "/"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hub-extensions", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run a real local hub with the suite wired in")
    demo.add_argument(
        "--ip", default="127.0.0.1", help="address the hub listens on (default 127.0.0.1)"
    )
    demo.add_argument("--port", type=int, default=8000, help="port of the hub (default 8000)")
    demo.add_argument(
        "--base-url", type=_base_url, default="/", help="the hub's base_url (default /)"
    )
    demo.add_argument(
        "--spawner",
        choices=["auto", "docker", "local"],
        default="auto",
        help="auto: DockerSpawner when a Docker engine answers, else LocalProcessSpawner",
    )
    demo.add_argument(
        "--image",
        help="single-user image for DockerSpawner (default: the suite's "
        "base image, built locally when missing)",
    )
    demo.add_argument(
        "--state-dir",
        default=".hub-extensions-demo",
        help="where the demo keeps its SQLite database and secrets",
    )
    demo.add_argument(
        "--config",
        metavar="FILE",
        help="a jupyterhub_config.py loaded after the demo's own configuration, to try your "
        "own settings on the demo (profile_list, c.HubExtensionsCost prices, an authenticator, "
        "...)",
    )
    demo.set_defaults(func=_demo)

    check = sub.add_parser("check-config", help="check the hub-extensions options of a config file")
    check.add_argument("file", nargs="?", help="jupyterhub_config.py")
    check.add_argument("--help-all", action="store_true", help="list every option with its help")
    check.add_argument(
        "--strict",
        action="store_true",
        help="fail on warnings too (keys with no effect, several defaults, deprecated names)",
    )
    check.set_defaults(func=_check_config)

    ref = sub.add_parser("config-reference", help="print the configuration reference (Markdown)")
    ref.set_defaults(func=_config_reference)
    add_cilogon_parser(sub)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
