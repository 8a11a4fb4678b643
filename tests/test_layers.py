"""The layers of `src/hub_extensions` run one way (docs/development.md, "Layers").

An import analysis of the source (the `ast` of every module, nothing imported): each import of
the suite's own modules goes to the same package or to a lower layer, never up or sideways to
a peer; module-level imports make no circle, inside a package or across; and an import inside
a function is only for an optional dependency (or a part of the suite that needs one).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SRC = Path(__file__).resolve().parent.parent / "src" / "hub_extensions"

#: The layers, lowest first: a module imports its own package and lower layers only. Modules
#: on one line are peers, which do not import each other.
LAYERS: list[set[str]] = [
    {"_version", "contract", "fields", "config_values", "lazy_backend", "options",
     "jupyterhub_internals", "requirements_check", "store", "images", "renames", "page_style"},
    {"hub_classes", "problems"},
    {"auth", "builds"},
    {"usage"},
    {"cost"},
    {"profiles"},
    {"spawners"},
    {"checks"},
    {"reference", "wiring", "service"},
    {"__init__"},  # `hub_extensions.setup`, the public face of the wiring
    {"cli_cilogon", "demo"},
    {"cli"},
]  # fmt: skip

#: Third-party packages that are optional (extras) or slow to import for a command that does
#: not need them: only these may be imported inside a function.
OPTIONAL = {
    "docker", "dockerspawner", "kubespawner", "kubernetes_asyncio", "oauthenticator",
    "psycopg2", "jupyter_server", "repo2docker", "ctypes",
}  # fmt: skip
#: The suite's own modules that need an optional package at import, imported where used.
NEEDS_OPTIONAL = {
    "hub_extensions.auth.cilogon",  # oauthenticator
    "hub_extensions.builds.executors.local_repo2docker",  # docker
    "hub_extensions.builds.executors.images",  # docker
    "hub_extensions.builds.executors.binderhub",
    "hub_extensions.demo.runner",  # docker, dockerspawner; the CLI starts without them
    "hub_extensions.images.base_image",  # docker
    "hub_extensions.wiring",  # `hub_extensions.setup` loads the suite only when called
}


#: Modules a subcommand of the `hub-extensions` command imports when it runs: they load every
#: feature's options and checks (about 0.9 s), which `demo` (a process that supervises its hub
#: for as long as it runs, started by many tests) does not need.
SUBCOMMANDS = {"hub_extensions.checks", "hub_extensions.reference"}
CLI = "hub_extensions.cli"

#: The one module that reads JupyterHub's internals; it imports JupyterHub's modules when used.
INTERNALS = "hub_extensions.jupyterhub_internals"


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, bool, bool]]:
    """(imported module, inside a function, under TYPE_CHECKING) for each import in `path`."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, bool, bool]] = []

    def targets(node: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        subs = [f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in MODULES]
        # `from . import x` of submodules imports those, not the (initialising) package again
        return subs if subs and len(subs) == len(node.names) else [module, *subs]

    def visit(node: ast.AST, in_function: bool, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, True, typing_only)
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit(child, in_function, True)
            elif isinstance(child, ast.Import | ast.ImportFrom):
                found.extend((t, in_function, typing_only) for t in targets(child))
            else:
                visit(child, in_function, typing_only)

    visit(ast.parse(path.read_text()), False, False)
    return found


def _own(target: str) -> str | None:
    """The suite's module an import names (`hub_extensions.x.y` or its nearest package)."""
    if not target.startswith("hub_extensions"):
        return None
    while target not in MODULES and "." in target:
        target = target.rpartition(".")[0]
    return target if target in MODULES else None


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(top: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if top in names)


def test_every_module_has_a_layer():
    unplaced = sorted({_top(m) for m in MODULES} - set().union(*LAYERS))
    assert not unplaced, f"add these to LAYERS (tests/test_layers.py): {unplaced}"


def test_imports_go_to_the_same_package_or_down():
    wrong = []
    for name, path in MODULES.items():
        here = _top(name)
        for target, _, _ in _imports(name, path):
            other = _own(target)
            if other is None or _top(other) == here:
                continue
            if _layer(_top(other)) >= _layer(here):
                wrong.append(f"{name} -> {other}")
    assert not wrong, "imports that run up or sideways:\n" + "\n".join(sorted(set(wrong)))


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return out


def test_module_level_imports_make_no_circle():
    edges: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        for target, in_function, typing_only in _imports(name, path):
            other = _own(target)
            if other and other != name and not in_function and not typing_only:
                edges.setdefault(name, set()).add(other)
    assert _cycles(edges) == []


def test_imports_inside_functions_are_for_optional_dependencies_only():
    wrong = []
    for name, path in MODULES.items():
        for target, in_function, _ in _imports(name, path):
            if not in_function:
                continue
            own = _own(target)
            if own is None and target.partition(".")[0] in OPTIONAL:
                continue
            if own is not None and own in NEEDS_OPTIONAL:
                continue
            if name == CLI and own in SUBCOMMANDS:
                continue
            if name == INTERNALS and target.startswith("jupyterhub."):
                continue  # JupyterHub's modules, loaded when a hub asks (jupyterhub.app: seconds)
            wrong.append(f"{name}: {target}")
    assert not wrong, "move these imports to the top of their module:\n" + "\n".join(wrong)


def test_the_analysis_sees_a_circle_and_an_upward_import():
    """The checks above can fail: a made-up circle is found, and so is an import up a layer."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _layer("usage") < _layer("profiles")
    assert _own("hub_extensions.profiles.selection.select") == "hub_extensions.profiles.selection"
