"""GPU check of the loop (tools/gpu_check.py) as a test: skipped without CUDA (CI has none).

    python -m pytest -q tests/test_rl_gpu.py -m gpu
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def test_gpu_check_runs_a_few_steps():
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, str(root / "tools" / "gpu_check.py"), "--steps", "2", "--new-tokens", "32"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "peak GPU memory" in proc.stdout
