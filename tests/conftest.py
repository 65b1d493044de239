"""Shared test helpers, and the CI skip policy.

    python -m pytest -q            # the whole suite

Skip policy: with MIMO_FAIL_ON_SKIP=1 (`.ci/run` sets it) the session fails when any test or module is skipped
unless its id matches a line of tests/allowed_skips.txt (a pattern and the reason CI may skip it). A test that
needs something CI installs (Docker, a framework venv, torch, the shared data) therefore fails there instead of
passing by skipping. Locally, skips stay skips.
"""
from __future__ import annotations

import fnmatch
import os
from pathlib import Path

import pytest

ALLOWED_SKIPS = Path(__file__).with_name("allowed_skips.txt")
# the shared data folder beside the checkout (`../shared`), as in CI; not a fixed absolute path
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def in_ci() -> bool:
    """Whether this is the CI run, where a missing component is a failure, never a skip."""
    return any(os.environ.get(k) in ("true", "1") for k in ("CI", "MIMO_REQUIRE_DOCKER", "MIMO_FAIL_ON_SKIP"))


def shared_data(relative: str) -> Path:
    """A file or folder of ../shared/data; a skip locally when it is missing (a failure in CI, by the policy)."""
    path = SHARED / "data" / relative
    if not path.exists():
        pytest.skip(f"{path} is missing: the shared data must be beside the checkout (../shared)")
    return path


ROOT = Path(__file__).resolve().parent.parent


def venv_python(name: str, what: str) -> Path:
    """.venvs/<name>/bin/python (made by tools/setup_frameworks.sh), or a skip; in CI a missing or half-built venv
    fails instead, so `what` can never pass by skipping there."""
    python = ROOT / ".venvs" / name / "bin" / "python"
    if python.exists() and (python.parent.parent / ".mimo-stamp").exists():
        return python
    message = f".venvs/{name} is missing or half-built: run `bash tools/setup_frameworks.sh {name}`"
    if in_ci():
        pytest.fail(f"{what} must run here: {message}")
    pytest.skip(message)


def docker_sandbox_or_skip(workers: int):
    """A DockerSandbox, or a skip when no engine or image is here; in CI (CI=true or MIMO_REQUIRE_DOCKER=1)
    a missing engine fails instead, so the Docker tests can never pass by skipping."""
    from sandboxes.docker import DockerSandbox, DockerUnavailable

    try:
        return DockerSandbox(workers=workers)
    except DockerUnavailable as exc:
        if in_ci():
            pytest.fail(f"the Docker tests must run here: {exc}")
        pytest.skip(str(exc))


def allowed_skip_patterns(path: Path = ALLOWED_SKIPS) -> list[str]:
    patterns = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        pattern, _, reason = line.partition("#")
        if not pattern.strip():
            continue
        if not reason.strip():
            raise pytest.UsageError(f"{path}:{number}: an allowed skip needs its reason after '#'")
        patterns.append(pattern.strip())
    return patterns


_skipped: list[tuple[str, str]] = []


def _record_skip(report) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped.append((report.nodeid, reason))


def pytest_runtest_logreport(report) -> None:
    _record_skip(report)


def pytest_collectreport(report) -> None:
    _record_skip(report)   # a module-level importorskip skips a whole file at collection


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus) -> None:
    if os.environ.get("MIMO_FAIL_ON_SKIP") != "1" or not _skipped:
        return
    patterns = allowed_skip_patterns()
    unexpected = [(node, why) for node, why in _skipped if not any(fnmatch.fnmatch(node, p) for p in patterns)]
    if not unexpected:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"MIMO_FAIL_ON_SKIP: {len(unexpected)} skip(s) not in tests/allowed_skips.txt:", red=True)
        for node, why in unexpected:
            reporter.write_line(f"  {node}: {why}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
