"""The hub image Dockerfiles in images/hub/ install a working suite on their charts' images.

No image registry is reachable here, so a Dockerfile is checked by pip's own resolution of its
install (`pip install --dry-run --report`, from PyPI) against the image it would run in: the
chart's frozen requirements.txt (../shared/z2jh/) are what the image has installed, and pip
keeps an installed version unless the new requirements exclude it. So the resolution is made
with every frozen version as a constraint except the ones the install is meant to change, for
the image's Python, and must keep JupyterHub and KubeSpawner as frozen. The suite's
requirements are this checkout's (pyproject.toml), as a wheel of it would declare them.

Not covered: building the images (scripts/check-hub-images installs into a fresh venv for a
closer check), and charts whose requirements are not in ../shared/z2jh/ (4.2.0 to 4.3.1 share
the 4.2-4.3 Dockerfile with 4.3.2, whose JupyterHub 5.4 and oauthenticator 17.3 they bracket).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import tomllib

from hub_extensions.requirements_check import MIN_OAUTHENTICATOR, parse_version

from .conftest import need
from .infra.common import ROOT, Unavailable
from .infra.z2jh import chart_path

pytestmark = pytest.mark.unit

IMAGES = ROOT / "images" / "hub"
#: Dockerfile -> (the chart data of an image it is for, that image's Python, what may change)
CHECKED = {
    "chart-4.2-4.3.Dockerfile": ("chart-4.3.2/requirements.txt", "3.12", {"oauthenticator"}),
    "chart-after-4.3.Dockerfile": ("hub/requirements.txt", "3.14", set()),
}
#: JupyterHub of charts 4.0.0 to 4.1.0 (below the suite's floor)
UNSUPPORTED_CHART_JUPYTERHUB = "5.2.1"
NETWORK_ERRORS = ("NewConnectionError", "Could not fetch URL", "Failed to establish", "timed out")


def frozen(requirements: Path) -> dict[str, str]:
    """name -> version of a pip-compile'd requirements.txt."""
    pins = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)", line)
        if match:
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def dockerfile_parts(path: Path) -> tuple[str, str]:
    """(the grep pattern of the packages it pins, the requirement it installs)."""
    text = path.read_text(encoding="utf-8")
    [pattern] = re.findall(r"grep -iE '([^']+)' > /tmp/hub-image-pins.txt", text)
    [requirement] = re.findall(r'^ARG HUB_EXTENSIONS_REQUIREMENT="([^"]+)"', text, re.M)
    assert "--constraint /tmp/hub-image-pins.txt" in text
    assert re.search(r"^FROM quay\.io/jupyterhub/k8s-hub:\$\{CHART_VERSION\}$", text, re.M)
    return pattern, requirement


def suite_requirements(requirement: str) -> list[str]:
    """What `hub-extensions[extra]` requires, from this checkout's pyproject.toml."""
    match = re.fullmatch(r"hub-extensions\[([a-z,]+)\]", requirement)
    assert match, f"unexpected requirement {requirement!r}"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    return [*project["dependencies"], *(r for e in match.group(1).split(",") for r in extras[e])]


def resolve(requirements: list[str], constraints: dict[str, str], python: str, tmp: Path):
    """pip's resolution: (name -> version it would install, None) or (None, pip's error)."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "constraints.txt").write_text("".join(f"{n}=={v}\n" for n, v in constraints.items()))
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
           "--report", "-", "--python-version", python, "--only-binary=:all:",
           "--target", str(tmp / "target"), "--constraint", str(tmp / "constraints.txt"),
           "--disable-pip-version-check", *requirements]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        if any(e in done.stderr for e in NETWORK_ERRORS):
            raise Unavailable(f"PyPI is not reachable for pip's resolution: {done.stderr[-500:]}")
        return None, done.stderr
    report = json.loads(done.stdout)
    return {
        canonical(i["metadata"]["name"]): i["metadata"]["version"] for i in report["install"]
    }, ""


@pytest.fixture(scope="module")
def resolutions(tmp_path_factory):
    """Every resolution at once (each takes seconds, mostly waiting for PyPI)."""
    jobs = {}
    for name, (requirements, python, may_change) in CHECKED.items():
        pins = frozen(need(lambda r=requirements: chart_path(*r.split("/"))))
        _, requirement = dockerfile_parts(IMAGES / name)
        kept = {n: v for n, v in pins.items() if n not in may_change}
        jobs[name] = (suite_requirements(requirement), kept, python)
    pattern, requirement = dockerfile_parts(IMAGES / "chart-4.2-4.3.Dockerfile")
    image = {"jupyterhub": UNSUPPORTED_CHART_JUPYTERHUB, "jupyterhub-kubespawner": "7.0.0"}
    only_pinned = {n: v for n, v in image.items() if re.match(pattern, f"{n}=={v}", re.I)}
    jobs["chart-4.1"] = (suite_requirements(requirement), only_pinned, "3.12")
    tmp = tmp_path_factory.mktemp("pip-resolutions")
    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = {k: pool.submit(resolve, *job, tmp / k) for k, job in jobs.items()}
        return {k: need(f.result) for k, f in futures.items()}


@pytest.mark.parametrize("dockerfile", sorted(CHECKED))
def test_the_install_keeps_the_charts_jupyterhub_and_meets_the_extras(resolutions, dockerfile):
    requirements, _, may_change = CHECKED[dockerfile]
    pins = frozen(chart_path(*requirements.split("/")))
    installed, error = resolutions[dockerfile]
    assert installed is not None, f"pip cannot install the suite on this image:\n{error}"
    assert installed["jupyterhub"] == pins["jupyterhub"]
    assert parse_version(installed["oauthenticator"]) >= MIN_OAUTHENTICATOR
    changed = {n for n, v in installed.items() if n in pins and pins[n] != v}
    assert changed <= may_change, f"the install would change {changed} in the image"


def test_chart_4_3_images_get_oauthenticator_upgraded(resolutions):
    """Their oauthenticator 17.3 is what broke CILogon logins: the [cilogon] extra replaces it."""
    pins = frozen(chart_path("chart-4.3.2", "requirements.txt"))
    assert pins["oauthenticator"] == "17.3.0"
    installed, _ = resolutions["chart-4.2-4.3.Dockerfile"]
    assert installed is not None
    assert installed["oauthenticator"] != "17.3.0"


def test_the_pins_name_the_images_jupyterhub_and_kubespawner():
    for name in CHECKED:
        pattern, _ = dockerfile_parts(IMAGES / name)
        assert re.match(pattern, "jupyterhub==5.4.3", re.I)
        assert re.match(pattern, "jupyterhub-kubespawner==7.0.0", re.I)
        assert not re.match(pattern, "jupyterhub-idle-culler==1.4.0", re.I)
        assert not re.match(pattern, "oauthenticator==17.3.0", re.I)


def test_an_unsupported_charts_jupyterhub_is_refused_not_upgraded(resolutions):
    """On charts 4.0.0-4.1.0 (JupyterHub 5.2) the pin makes pip fail: without it, pip would
    silently put a newer JupyterHub into the chart's image."""
    installed, error = resolutions["chart-4.1"]
    assert installed is None
    assert "ResolutionImpossible" in error
    assert "Cannot install jupyterhub>=5.3" in error  # the suite's floor against the image's pin


def test_every_dockerfile_is_checked():
    assert sorted(p.name for p in IMAGES.glob("*.Dockerfile")) == sorted(CHECKED)
