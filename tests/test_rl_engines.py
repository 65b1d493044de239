"""Rollout engines (mimo_eval/rl/engines.py): the vLLM colocate weight-sync order against a fake LLM (vLLM is not
installable here and has NOT run on hardware), bucketing, and the hf engine's end-of-sequence handling.

    python -m pytest -q tests/test_rl_engines.py
"""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from mimo_eval.rl.engines import HFEngine, VLLMColocateEngine, weight_buckets  # noqa: E402


class FakeLLM:
    """Records calls; load_weights into sleeping weights is recorded as lost (TRL #5312's failure)."""

    def __init__(self):
        self.calls, self.weights_awake = [], True
        runner = self
        self.llm_engine = type("E", (), {})()
        self.llm_engine.model_executor = type("X", (), {})()
        self.llm_engine.model_executor.driver_worker = type("D", (), {})()
        self.llm_engine.model_executor.driver_worker.worker = type("W", (), {})()
        self.llm_engine.model_executor.driver_worker.worker.model_runner = type("R", (), {})()
        self.llm_engine.model_executor.driver_worker.worker.model_runner.model = runner

    def sleep(self, level):
        self.calls.append(("sleep", level))
        self.weights_awake = False

    def wake_up(self, tags):
        self.calls.append(("wake_up", tuple(tags)))
        self.weights_awake = self.weights_awake or "weights" in tags

    def load_weights(self, named):
        self.calls.append(("load_weights" if self.weights_awake else "load_weights_LOST", len(named)))

    def reset_prefix_cache(self):
        self.calls.append(("reset_prefix_cache",))


def test_vllm_sync_wakes_weights_before_loading_then_the_kv_cache():
    policy = torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.Linear(256, 256))
    llm = FakeLLM()
    engine = VLLMColocateEngine(policy, None, model_path="unused", temperature=1.0, top_p=1.0, max_new_tokens=4,
                                seed=0, bucket_mb=0, llm=llm)
    engine.sleep()
    engine.sync_weights()
    names = [c[0] for c in llm.calls]
    assert names[:2] == ["sleep", "wake_up"] and llm.calls[1] == ("wake_up", ("weights",))
    assert "load_weights_LOST" not in names and names.count("load_weights") == 4  # one bucket per tensor at 0 MB
    assert llm.calls[-2:] == [("wake_up", ("kv_cache",)), ("reset_prefix_cache",)]


def test_weight_buckets_cover_every_tensor_once():
    named = [(f"p{i}", torch.zeros(1000)) for i in range(10)]  # 4000 bytes each
    buckets = list(weight_buckets(named, bucket_bytes=10_000))
    assert [len(b) for b in buckets] == [3, 3, 3, 1]
    assert [n for b in buckets for n, _ in b] == [n for n, _ in named]


class _Tok:
    eos_token_id, pad_token_id = 2, 0

    def decode(self, ids, skip_special_tokens=True):
        return " ".join(str(i) for i in ids if i not in (0, 2))


def test_hf_rollout_keeps_the_end_token_and_flags_truncation():
    engine = HFEngine.__new__(HFEngine)
    engine.tokenizer, engine.eos_id = _Tok(), 2
    done, cut = engine._rollout([5, 2, 0, 0]), engine._rollout([5, 6, 7, 8])
    assert (done.completion_ids, done.truncated) == ((5, 2), False)
    assert (cut.completion_ids, cut.truncated) == ((5, 6, 7, 8), True)
