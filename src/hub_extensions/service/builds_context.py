"""The service's build machinery: options, broker, executor and signing key, made once."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..builds.broker import Build, BuildBroker, Executor
from ..builds.config import HubExtensionsBuilds, cross_check
from ..builds.signing import load_key

log = logging.getLogger(__name__)


@dataclass
class BuildsContext:
    options: HubExtensionsBuilds
    broker: BuildBroker
    key: bytes


ImageExists = Callable[[str], Awaitable[bool]]


def make_builds_context(options: HubExtensionsBuilds) -> BuildsContext:
    """The broker over the executor `HubExtensionsBuilds.executor` names."""
    if options.executor == "binderhub":
        execute, exists = _binderhub(options)
    else:
        execute, exists = _local_repo2docker(options)
    broker = BuildBroker(
        execute,
        exists,
        max_builds=options.max_builds,
        max_builds_per_user=options.max_builds_per_user,
        max_queued=options.max_queued_builds,
        max_queued_per_user=options.max_queued_builds_per_user,
        retry_after=options.queue_retry_after,
    )
    return BuildsContext(options=options, broker=broker, key=load_key(options))


def _binderhub(options: HubExtensionsBuilds) -> tuple[Executor, ImageExists]:
    from ..builds.executors.binderhub import BinderHubExecutor

    problems = cross_check(options)  # the hub checks this at start; a standalone run may not
    if problems:
        raise ValueError(problems[0])
    executor = BinderHubExecutor(
        options.binderhub_url, options.binderhub_token, timeout=options.build_timeout
    )
    return executor, executor.image_exists


def _local_repo2docker(options: HubExtensionsBuilds) -> tuple[Executor, ImageExists]:
    from ..builds.executors.images import image_exists
    from ..builds.executors.local_repo2docker import BuildJob, LocalRepo2DockerExecutor

    # gh/ and gl/ clone over https whatever HubExtensionsBuilds.git_url_schemes allows for git/ URLs
    schemes = tuple(dict.fromkeys(["https", *options.git_url_schemes]))
    executor = LocalRepo2DockerExecutor(
        env=dict(os.environ),
        allowed_schemes=schemes,
        internal_hosts=tuple(options.allowed_internal_hosts),
    )
    try:  # what builds of this service's previous run left (it died mid-build)
        executor.clean_previous_run()
    except Exception as err:  # e.g. no Docker engine yet: builds will say so
        log.warning("could not clean up after earlier builds: %s", err)

    async def execute(build: Build, emit) -> tuple[str, dict]:
        job = BuildJob(
            job_id=build.id,
            repo_url=build.repo_url,
            ref=build.sha,
            image_name=build.image,
            push=bool(options.registry),
            memory_limit=options.build_memory_limit or None,
            timeout=options.build_timeout,
            extra_args=list(options.repo2docker_extra_args),
            extra_ca_certs=list(options.extra_ca_certs),
            labels={"hub-extensions.build-user": build.user},
        )
        last: dict = {}

        def keep_last(event: dict) -> None:
            if event.get("phase") == "failed":
                last.update(event)  # the broker sends the closing event, with these fields
            else:
                emit(event)

        result = await executor.build(job, keep_last)
        last.pop("phase", None)
        return result.status, last

    async def exists(image: str) -> bool:
        return await image_exists(image, options.registry or None)

    return execute, exists
