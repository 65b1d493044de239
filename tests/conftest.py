"""Shared test helpers.

    python -m pytest -q            # the whole suite
"""
from __future__ import annotations

import os

import pytest


def docker_sandbox_or_skip(workers: int):
    """A DockerSandbox, or a skip when no engine or image is here; in CI (CI=true or MIMO_REQUIRE_DOCKER=1)
    a missing engine fails instead, so the Docker tests can never pass by skipping."""
    from sandboxes.docker import DockerSandbox, DockerUnavailable

    try:
        return DockerSandbox(workers=workers)
    except DockerUnavailable as exc:
        if os.environ.get("CI") == "true" or os.environ.get("MIMO_REQUIRE_DOCKER") == "1":
            pytest.fail(f"the Docker tests must run here: {exc}")
        pytest.skip(str(exc))
