"""The vLLM backend's pure parts, which run without vLLM or a GPU: the `LLM(...)` arguments (tensor parallel,
MTP speculative decoding, pass-through), the per-sample `SamplingParams` arguments, token prompts through the chat
template, converting a `RequestOutput`, config/versions, and the install hint when vLLM is missing. Generation
itself needs vLLM on CUDA and is not exercised here.

Run: python -m pytest -q tests/test_backends_vllm.py
"""
from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import pytest

from mimo_eval.backends import BackendError, make_backend
from mimo_eval.backends.vllm import VLLMBackend, completion_from_output, engine_prompts, sampling_kwargs
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


def test_token_prompts_follow_the_chat_template_like_llm_chat():
    pytest.importorskip("transformers", reason="transformers not installed: pip install 'mimo-eval[hf]'")
    from tiny_hf_model import build_tokenizer

    tokenizer = build_tokenizer()
    raw = Request(problem_id="p", sample_index=0, messages=(), seed=0, prompt="Question: x?\nAnswer:")
    chat_prompt, raw_prompt = engine_prompts(tokenizer, [REQUEST, raw])
    text = tokenizer.apply_chat_template(list(REQUEST.messages), tokenize=False, add_generation_prompt=True)
    assert chat_prompt == {"prompt_token_ids": tokenizer(text, add_special_tokens=False)["input_ids"]}
    assert text.endswith("<|im_start|>assistant\n")
    assert chat_prompt["prompt_token_ids"].count(tokenizer.bos_token_id) == 1
    assert raw_prompt == {"prompt_token_ids": tokenizer("Question: x?\nAnswer:")["input_ids"]}


def test_versions_name_the_engines():
    versions = VLLMBackend(model="m").versions()
    assert set(versions) == {"mimo-eval", "vllm", "torch", "transformers"}
