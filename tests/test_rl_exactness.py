"""Our GRPO advantages and loss equal the frameworks' own: tests/frameworks/exact_verl.py runs inside .venvs/verl
against verl 0.9.1's `core_algos`, tests/frameworks/exact_trl.py inside .venvs/trl against TRL 1.16.0's
`GRPOTrainer._compute_loss`; every case's max abs difference (values and gradients) must be <= 1e-6.

    python -m pytest -q tests/test_rl_exactness.py        # ~30 s; after `bash tools/setup_frameworks.sh verl trl`

A missing venv skips here and fails in CI (CI=true or MIMO_REQUIRE_DOCKER=1), as in tests/test_frameworks.py.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import venv_python

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = {  # the cases each script must report, so a script that silently skipped one fails here
    "verl": {"advantages/group", "advantages/none", "loss/token-mean/dual_clip=None", "loss/token-mean/dual_clip=3.0",
             "loss/seq-mean-token-mean/dual_clip=None", "grad/seq-mean-token-mean/dual_clip=3.0",
             "accumulated/token-mean", "accumulated/seq-mean-token-mean"},
    "trl": {"loss/dapo", "grad/dapo", "loss/bnpo", "loss/grpo", "grad/grpo", "loss/dapo/steps_per_generation=2"},
}


@pytest.mark.parametrize("name", ["verl", "trl"])
def test_loss_and_advantages_equal_the_frameworks(name):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    script = ROOT / "tests" / "frameworks" / f"exact_{name}.py"
    proc = subprocess.run([str(venv_python(name, "the exactness tests")), str(script)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    diffs = {k: v for k, v in report.items() if k != "framework"}
    assert report["framework"] == {"verl": "verl 0.9.1", "trl": "trl 1.16.0"}[name]
    assert EXPECTED[name] <= set(diffs), sorted(EXPECTED[name] - set(diffs))
    assert all(v <= 1e-6 for v in diffs.values()), diffs
