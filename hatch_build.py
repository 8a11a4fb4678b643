"""Hatch build hook: build the browser assets before packaging.

The TypeScript sources in ``frontend/`` are built with Vite into
``src/hub_extensions/static/dist/`` (gitignored, shipped as a hatch artifact in
both the sdist and the wheel). This hook runs for every target and version
(wheel, sdist, editable) and:

* does nothing if ``HUB_EXTENSIONS_SKIP_FRONTEND_BUILD=1``;
* does nothing if the built files exist and are newer than every input file
  (``frontend/src/**``, ``package.json``, ``package-lock.json``,
  ``tsconfig.json``, ``vite.config.ts``), or if ``frontend/src`` is absent but
  the built files are there (building a wheel from an sdist);
* otherwise runs ``npm ci`` (when ``node_modules`` is missing or older than the
  lockfile) and ``npm run build`` in ``frontend/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SKIP_ENV = "HUB_EXTENSIONS_SKIP_FRONTEND_BUILD"
NPM_MISSING = (
    "Node.js/npm is needed to build the frontend from a git checkout; "
    "wheels from PyPI ship the built assets"
)

FRONTEND_DIR = "frontend"
DIST_DIR = "src/hub_extensions/static/dist"
# Files the build must produce (one per Vite entry); their age is what is checked.
REQUIRED_OUTPUTS = ("service-home.js",)
# Inputs besides frontend/src/**.
CONFIG_INPUTS = ("package.json", "package-lock.json", "tsconfig.json", "vite.config.ts")


class FrontendBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def _say(self, message: str) -> None:
        self.app.display_info(f"[hub-extensions frontend] {message}")

    @property
    def _frontend(self) -> Path:
        return Path(self.root) / FRONTEND_DIR

    @property
    def _dist(self) -> Path:
        return Path(self.root) / DIST_DIR

    def _outputs(self) -> list[Path]:
        return [self._dist / name for name in REQUIRED_OUTPUTS]

    def _inputs(self) -> list[Path]:
        src = self._frontend / "src"
        files = [p for p in src.rglob("*") if p.is_file()]
        files += [self._frontend / name for name in CONFIG_INPUTS]
        return [p for p in files if p.is_file()]

    def _up_to_date(self) -> bool:
        outputs = self._outputs()
        if not all(p.is_file() for p in outputs):
            return False
        oldest_output = min(p.stat().st_mtime for p in outputs)
        inputs = self._inputs()
        newest_input = max((p.stat().st_mtime for p in inputs), default=0.0)
        return oldest_output >= newest_input

    def _needs_npm_ci(self) -> bool:
        node_modules = self._frontend / "node_modules"
        if not node_modules.is_dir():
            return True
        # npm writes node_modules/.package-lock.json on every install: if the
        # committed lockfile is newer, the installed dependencies are stale.
        installed = node_modules / ".package-lock.json"
        lockfile = self._frontend / "package-lock.json"
        return not installed.is_file() or (
            lockfile.is_file() and lockfile.stat().st_mtime > installed.stat().st_mtime
        )

    def _run(self, npm: str, *args: str) -> None:
        command = [npm, *args]
        self._say(f"running `npm {' '.join(args)}` in {self._frontend}")
        try:
            subprocess.run(command, cwd=self._frontend, check=True)
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(
                f"`npm {' '.join(args)}` failed with exit code {exc.returncode} in "
                f"{self._frontend}; fix the frontend build, or set {SKIP_ENV}=1 to "
                "package without (re)building it"
            ) from exc

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        target = f"{self.target_name} ({version})"
        if os.environ.get(SKIP_ENV, "").strip().lower() in {"1", "true", "yes"}:
            missing = [p.name for p in self._outputs() if not p.is_file()]
            note = f"; WARNING: {', '.join(missing)} missing from {DIST_DIR}" if missing else ""
            self._say(f"{SKIP_ENV} is set: not building the frontend for {target}{note}")
            return

        if not (self._frontend / "src").is_dir():
            if all(p.is_file() for p in self._outputs()):
                self._say(f"no frontend sources (sdist build): using the built {DIST_DIR}/")
                return
            raise RuntimeError(
                f"Neither the frontend sources ({FRONTEND_DIR}/src) nor the built assets "
                f"({DIST_DIR}/{REQUIRED_OUTPUTS[0]}) are present; cannot build {target}"
            )

        if self._up_to_date():
            self._say(f"{DIST_DIR}/ is up to date for {target}: not rebuilding")
            return

        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(NPM_MISSING)

        self._say(f"building the frontend into {DIST_DIR}/ for {target}")
        if self._needs_npm_ci():
            self._run(npm, "ci", "--no-audit", "--no-fund")
        self._run(npm, "run", "build")

        missing = [str(p) for p in self._outputs() if not p.is_file()]
        if missing:
            raise RuntimeError(f"`npm run build` did not produce {', '.join(missing)}")

    def clean(self, versions: list[str]) -> None:
        # Only remove built assets in a checkout that can rebuild them.
        if (self._frontend / "src").is_dir() and self._dist.is_dir():
            self._say(f"removing {DIST_DIR}/")
            shutil.rmtree(self._dist)
