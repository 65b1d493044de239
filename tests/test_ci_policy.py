"""What CI must not hide (tests/conftest.py, tests/allowed_skips.txt, .ci/run): under the environment `.ci/run`
exports, a skip outside the allow-list fails the session (a module-level importorskip too), an allowed one does
not, an allow-list line without its reason is refused, and a test that needs an installed component (verl for
tests/test_rl_export.py) fails instead of skipping. Each case runs pytest in a subprocess on a small test file.

Run: python -m pytest -q tests/test_ci_policy.py
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def ci_environment() -> dict[str, str]:
    """The variables .ci/run exports, read from the script itself (so the test follows what CI really sets)."""
    exported = dict(re.findall(r"^export (\w+)=(\S+)$", (ROOT / ".ci" / "run").read_text(), re.M))
    assert exported, ".ci/run exports nothing"
    return exported


def pytest_in(folder: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "MIMO_REQUIRE_DOCKER", "MIMO_FAIL_ON_SKIP")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(folder),
                           *args], cwd=folder, capture_output=True, text=True, timeout=300,
                          env={**clean, **env, "PYTHONPATH": str(ROOT)})


def write_test(folder: Path, name: str, body: str) -> Path:
    """A test file in FOLDER/tests beside copies of the real conftest.py and allowed_skips.txt."""
    tests = folder / "tests"
    tests.mkdir(parents=True, exist_ok=True)
    for policy in ("conftest.py", "allowed_skips.txt"):
        shutil.copy(ROOT / "tests" / policy, tests / policy)
    (tests / name).write_text(body)
    return tests / name


SKIPS = "import pytest\n\ndef test_passes():\n    pass\n\ndef test_needs_it():\n    pytest.skip('not installed')\n"


def test_ci_run_sets_the_skip_policy_and_ci():
    env = ci_environment()
    assert env.get("MIMO_FAIL_ON_SKIP") == "1" and env.get("CI") == "true"


def test_a_skip_outside_the_allow_list_fails_under_ci(tmp_path):
    write_test(tmp_path, "test_thing.py", SKIPS)
    result = pytest_in(tmp_path, "tests", env=ci_environment())
    assert result.returncode == 1, result.stdout
    assert "1 skip(s) not in tests/allowed_skips.txt" in result.stdout
    assert "tests/test_thing.py::test_needs_it: " in result.stdout and "not installed" in result.stdout
    assert pytest_in(tmp_path, "tests", env={}).returncode == 0   # locally a skip stays a skip


def test_a_module_skipped_at_collection_fails_under_ci(tmp_path):
    write_test(tmp_path, "test_module.py", "import pytest\n\npytest.importorskip('no_such_module_here')\n\n"
                                           "def test_x():\n    pass\n")
    result = pytest_in(tmp_path, "tests", env=ci_environment())
    assert result.returncode == 1 and "tests/test_module.py" in result.stdout, result.stdout


def test_an_allowed_skip_passes_under_ci(tmp_path):
    # tests/allowed_skips.txt allows tests/test_rl_gpu.py::* (CUDA); the same id here is allowed
    write_test(tmp_path, "test_rl_gpu.py", SKIPS)
    result = pytest_in(tmp_path, "tests", env=ci_environment())
    assert result.returncode == 0, result.stdout


def test_every_allowed_skip_has_a_reason(tmp_path):
    from conftest import allowed_skip_patterns

    assert allowed_skip_patterns()   # the real list parses: each line has its reason
    bad = tmp_path / "allowed.txt"
    bad.write_text("tests/test_x.py::*\n")
    with pytest.raises(pytest.UsageError, match="allowed.txt:1: an allowed skip needs its reason"):
        allowed_skip_patterns(bad)


def test_rl_export_fails_instead_of_skipping_under_ci_without_verl():
    env = {**ci_environment(), "MIMO_VERL_PYTHON": "/nonexistent/verl/bin/python"}
    result = pytest_in(ROOT, "tests/test_rl_export.py::test_the_bundled_example_exports_and_validates", env=env)
    assert "1 failed" in result.stdout and "skipped" not in result.stdout, result.stdout
    assert "verl /nonexistent/verl/bin/python is missing" in result.stdout
