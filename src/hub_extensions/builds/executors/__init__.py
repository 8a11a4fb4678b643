"""Build executors: turn a resolved repository + SHA into an image and stream BinderHub events."""

from .images import image_exists
from .local_repo2docker import JOB_LABEL, BuildJob, BuildResult, LocalRepo2DockerExecutor

__all__ = ["JOB_LABEL", "BuildJob", "BuildResult", "LocalRepo2DockerExecutor", "image_exists"]
