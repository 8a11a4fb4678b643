"""TEST-ONLY ``docker-buildx`` CLI plugin for engines without buildx (Debian's docker.io).

Installed by ``buildx_adapter.install_buildx_adapter`` into ``$DOCKER_CONFIG/cli-plugins/``.
Real installations have the buildx plugin and never use this. It understands exactly what
repo2docker's ``DockerEngine.build`` sends (``docker buildx build --progress plain [--load]
[--push] --build-arg K=V ... --file F --tag T --label K=V ... --platform P PATH``) and runs
``DOCKER_BUILDKIT=1 /usr/bin/docker build`` with it: BuildKit is required because repo2docker's
generated Dockerfiles use ``COPY --chmod``. ``--load`` is dropped (the classic ``docker build``
always loads) and ``--push`` becomes a ``docker push`` of every tag after the build.
Standard library only: the docker CLI runs it with whatever Python the shebang names.
"""

import json
import os
import subprocess
import sys

DOCKER = "/usr/bin/docker"
METADATA = {
    "SchemaVersion": "0.1.0",
    "Vendor": "hub-extensions tests",
    "Version": "v0.0.0-test-adapter",
    "ShortDescription": "TEST-ONLY buildx adapter over 'DOCKER_BUILDKIT=1 docker build'",
}


def build(args: list[str]) -> int:
    passed, tags, push = [], [], False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--load":
            pass
        elif arg == "--push":
            push = True
        elif arg in ("--tag", "-t"):
            tags.append(args[i + 1])
            passed += [arg, args[i + 1]]
            i += 1
        else:
            passed.append(arg)
        i += 1
    # HUB_EXTENSIONS_TEST_BUILDKIT=0 selects the classic builder, for tests of options that
    # Docker 20.10's embedded BuildKit ignores (--cgroup-parent, moby#45796); plain
    # Dockerfiles only (repo2docker's generated ones need BuildKit).
    env = {**os.environ, "DOCKER_BUILDKIT": os.environ.get("HUB_EXTENSIONS_TEST_BUILDKIT", "1")}
    record = os.environ.get("HUB_EXTENSIONS_TEST_BUILDX_ARGS")
    if record:  # what repo2docker asked buildx for, one JSON list per build
        with open(record, "a") as f:
            f.write(json.dumps(args) + "\n")
    # stdout/stderr are inherited: repo2docker reads the build output line by line.
    rc = subprocess.call([DOCKER, "build", *passed], env=env)
    if rc != 0 or not push:
        return rc
    for tag in tags:
        rc = subprocess.call([DOCKER, "push", tag], stderr=subprocess.STDOUT)
        if rc != 0:
            return rc
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["docker-cli-plugin-metadata"]:
        print(json.dumps(METADATA))
        return 0
    if argv[:1] == ["buildx"]:  # the CLI passes the plugin's name first
        argv = argv[1:]
    if argv[:1] == ["version"]:
        print("github.com/docker/buildx v0.0.0-hub-extensions-test-adapter")
        return 0
    if argv[:1] == ["build"]:
        return build(argv[1:])
    print(f"buildx test adapter: unsupported command {argv!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
