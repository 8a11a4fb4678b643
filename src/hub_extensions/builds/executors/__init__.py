"""Build executors: turn a resolved repository + SHA into an image and stream BinderHub events."""

from .local_repo2docker import (
    JOB_LABEL,
    BuildJob,
    BuildResult,
    LocalRepo2DockerExecutor,
    image_exists,
)

__all__ = ["JOB_LABEL", "BuildJob", "BuildResult", "LocalRepo2DockerExecutor", "image_exists"]
