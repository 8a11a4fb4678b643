"""repo2docker's arguments the admin may add (`HubExtensionsBuilds.repo2docker_extra_args`), and
sizes."""

from __future__ import annotations

import re

MEMORY_RE = re.compile(r"(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>[KMGT]?)", re.IGNORECASE)
UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}

# repo2docker options the executor sets itself (or that would change what it builds, where it
# pushes, or make repo2docker run the image), and the Repo2Docker traits behind them.
PROTECTED_OPTIONS = (
    "--image-name", "--ref", "--push", "--no-push", "--run", "--no-run", "--build", "--no-build",
    "--user-id", "--user-name", "--json-logs", "--build-memory-limit", "--engine", "--config",
    "--publish", "--publish-all", "--volume", "--editable", "--help-all", "--version",
)  # fmt: skip
PROTECTED_SHORT = ("-p", "-P", "-v", "-E", "-h")
PROTECTED_TRAITS = (
    "output_image_spec", "ref", "repo", "push", "run", "dry_run", "user_id", "user_name",
    "json_logs", "engine", "volumes", "ports", "all_ports", "run_cmd", "config_file",
)  # fmt: skip
# repo2docker flags that take no value: an argument after one of these would be the repository.
R2D_FLAGS = ("--debug", "--clean", "--no-clean", "--help")


def parse_memory(value: int | str) -> int:
    """Bytes from an int or a string such as '2G' (1024-based, like JupyterHub's limits)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("is negative")
        return value
    m = MEMORY_RE.fullmatch(str(value).strip())
    if not m:
        raise ValueError("is not a number of bytes or a size such as '2G'")
    return int(float(m.group("num")) * UNITS[m.group("unit").upper()])


def check_extra_arg_list(args: list[str]) -> str | None:
    """The first problem with repo2docker extra arguments, or None."""
    expects_value = False
    for arg in args:
        if not arg.startswith("-"):
            if not expects_value:
                return f"{arg!r} is not an option and would be read as the repository"
            expects_value = False
            continue
        name, has_value, _ = arg.partition("=")
        if name.startswith("--Repo2Docker.") or name.startswith("--Repo2Docker-"):
            trait = name[len("--Repo2Docker.") :].replace("-", "_")
            if trait in PROTECTED_TRAITS:
                return f"{name!r} overrides what the build executor sets"
        elif name.startswith("--") and len(name) > 2:
            # argparse accepts any unambiguous prefix: '--image' means '--image-name'.
            hit = [o for o in PROTECTED_OPTIONS if o.startswith(name)]
            if hit:
                return f"{name!r} overrides {hit[0]}, which the build executor sets"
        elif name[:2] in PROTECTED_SHORT or name == "--":
            return f"{name!r} overrides what the build executor sets"
        expects_value = not has_value and name not in R2D_FLAGS
    return None
