"""The real RL frameworks driving our reward adapters (graders/rewards/): each `tests/frameworks/check_<name>.py`
runs inside that framework's own virtual environment (.venvs/<name>, made by tools/setup_frameworks.sh with
the exact releases: verl 0.9.1, TRL 1.16.0, OpenRLHF 0.11.2, verifiers 0.4.0), so their conflicting pins never
reach this environment. A missing venv skips here and fails in CI (CI=true or MIMO_REQUIRE_DOCKER=1).

Run: python -m pytest -q tests/test_frameworks.py      (after `bash tools/setup_frameworks.sh`; minutes)
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import venv_python

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = ["trl", "verl", "openrlhf", "verifiers"]
CHECK_TIMEOUT_S = 1800


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_framework_drives_our_adapters(name):
    python = venv_python(name, "the framework tests")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([str(python), "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider",
                           f"tests/frameworks/check_{name}.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=CHECK_TIMEOUT_S)
    sys.stdout.write(proc.stdout[-3000:])
    assert proc.returncode == 0, f"{name} check failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
