"""GPU check of the loop (tools/gpu_check.py) as a test: skipped without CUDA (CI has none); its reduced mode
(`--cpu`: toy-sized model, 2 steps) runs everywhere, so the script is not dead code where no GPU is lent.

    python -m pytest -q tests/test_rl_gpu.py            # the GPU test: add -m gpu on a GPU machine
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_check_runs_a_few_steps():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_check.py"), "--steps", "2"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "peak GPU memory" in proc.stdout


def test_gpu_check_reduced_mode_runs_on_cpu():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_check.py"), "--cpu"], capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "| 2 |" in proc.stdout and "generated tokens/s" in proc.stdout
