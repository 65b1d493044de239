"""The transformers backend on CPU with a tiny Llama and tokenizer built locally (mimo_eval/tiny.py, no Hub).

Covers: the chat template applied with one BOS (raw prompts get the tokenizer's BOS), one completion per request,
max_tokens, per-sample seeds independent of batch composition, temperature 0 equal to transformers' own greedy
decoding, the sampler's draw frequencies and top-p cut, EOS handling, and one-line errors (missing model directory,
a directory without a model, no chat template, missing extras). The `gpu` test runs on CUDA and prints throughput.
Skips when torch or transformers is not installed (`pip install 'mimo-eval[hf]'`).

Run: python -m pytest -q tests/test_backends_hf.py      (GPU: python -m pytest -q -s -m gpu tests/test_backends_hf.py)
"""
from __future__ import annotations

import importlib.util
import time

import pytest

torch = pytest.importorskip("torch", reason="torch not installed: pip install 'mimo-eval[hf]'")
pytest.importorskip("transformers", reason="transformers not installed: pip install 'mimo-eval[hf]'")

from mimo_eval.tiny import build_tiny_model  # noqa: E402

from mimo_eval.backends import BackendError, make_backend  # noqa: E402
from mimo_eval.backends.common import prompt_token_ids, render_prompt  # noqa: E402
from mimo_eval.backends.hf import HFBackend, PerSampleSampler, _completion, _top_p_filter  # noqa: E402
from mimo_eval.types import Request, SamplingParams  # noqa: E402

QUESTION = "What is 1 + 1? Please reason step by step, and put your final answer within \\boxed{}."


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="module")
def backend(model_dir) -> HFBackend:
    return HFBackend(model=model_dir, batch_size=4, device="cpu")


def chat(problem: int, index: int, seed: int | None = None) -> Request:
    seed = seed if seed is not None else 10 * problem + index
    return Request(problem_id=f"p{problem}", sample_index=index, seed=seed,
                   messages=({"role": "system", "content": ""}, {"role": "user", "content": QUESTION * (problem + 1)}))


def texts(completions) -> dict:
    return {(c.problem_id, c.sample_index): c.text for c in completions}


def test_chat_template_is_applied_with_one_bos(backend):
    _, tokenizer = backend._load()
    request = chat(0, 0)
    assert render_prompt(tokenizer, request) == (
        f"<s><|im_start|>system\n<|im_end|>\n<|im_start|>user\n{QUESTION}<|im_end|>\n<|im_start|>assistant\n")
    ids = prompt_token_ids(tokenizer, request)
    assert ids.count(tokenizer.bos_token_id) == 1 and ids[0] == tokenizer.bos_token_id


def test_raw_prompt_skips_the_template_and_gets_bos(backend):
    _, tokenizer = backend._load()
    raw = Request(problem_id="p", sample_index=0, messages=(), seed=0, prompt="Question: 1+1?\nAnswer:")
    assert render_prompt(tokenizer, raw) == "Question: 1+1?\nAnswer:"
    ids = prompt_token_ids(tokenizer, raw)
    assert ids[0] == tokenizer.bos_token_id and tokenizer.decode(ids[1:]) == "Question: 1+1?\nAnswer:"


def test_one_completion_per_request_within_max_tokens(backend):
    requests = [chat(p, i) for p in range(3) for i in range(3)]
    completions = list(backend.generate(requests, SamplingParams(max_tokens=12)))
    assert [(c.problem_id, c.sample_index, c.seed) for c in completions] == \
        [(r.problem_id, r.sample_index, r.seed) for r in requests]
    assert all(1 <= c.num_tokens <= 12 and c.finish_reason in ("stop", "length") for c in completions)


def test_a_sample_does_not_depend_on_its_batch(model_dir, backend):
    requests = [chat(p, i) for p in range(3) for i in range(2)]
    sampling = SamplingParams(temperature=1.0, top_p=0.95, max_tokens=16)
    batched = texts(backend.generate(requests, sampling))
    alone = texts(HFBackend(model=model_dir, batch_size=1, device="cpu").generate(requests[::-1], sampling))
    assert batched == alone


def test_seeds_decide_the_sample(backend):
    sampling = SamplingParams(temperature=1.0, top_p=1.0, max_tokens=16)
    same = [chat(0, 0, seed=5), chat(0, 1, seed=5)]
    different = [chat(0, 0, seed=5), chat(0, 1, seed=6)]
    first, second = [c.text for c in backend.generate(same, sampling)]
    assert first == second
    first, second = [c.text for c in backend.generate(different, sampling)]
    assert first != second


def test_temperature_zero_is_transformers_greedy(backend):
    model, tokenizer = backend._load()
    request = chat(1, 0)
    [completion] = backend.generate([request], SamplingParams(temperature=0.0, max_tokens=10))
    ids = torch.tensor([prompt_token_ids(tokenizer, request)])
    reference = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=10,
                               pad_token_id=tokenizer.pad_token_id)
    assert completion.text == tokenizer.decode(reference[0, ids.shape[1]:], skip_special_tokens=True)


def test_the_models_own_sampling_defaults_do_not_leak_in(tmp_path, backend):
    from transformers import GenerationConfig

    directory = build_tiny_model(tmp_path)  # same seed, same weights as the fixture's model
    config = GenerationConfig.from_pretrained(directory)
    config.update(do_sample=True, temperature=0.3, top_p=0.5, top_k=3, repetition_penalty=1.5, no_repeat_ngram_size=2)
    config.save_pretrained(directory)
    requests = [chat(0, i) for i in range(3)]
    for sampling in (SamplingParams(temperature=0.0, max_tokens=24), SamplingParams(temperature=1.0, max_tokens=24)):
        assert texts(HFBackend(model=directory, device="cpu").generate(requests, sampling)) == \
            texts(backend.generate(requests, sampling))


def test_sampler_draws_follow_the_distribution_and_top_p():
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    scores = probs.log().repeat(4000, 1)  # [B, V], one row per sample
    picks = PerSampleSampler(range(4000), temperature=1.0, top_p=1.0)(None, scores).argmax(-1)
    freq = torch.bincount(picks, minlength=4).float() / 4000
    assert torch.allclose(freq, probs, atol=0.03)
    picks = PerSampleSampler(range(4000), temperature=1.0, top_p=0.7)(None, scores).argmax(-1)
    assert set(picks.tolist()) == {0, 1}


@pytest.mark.parametrize("top_p, kept", [(1.0, [0, 1, 2, 3]), (0.5, [0]), (0.7, [0, 1]), (0.8, [0, 1]),
                                         (0.81, [0, 1, 2]), (0.01, [0])])
def test_top_p_filter(top_p, kept):
    filtered = _top_p_filter(torch.tensor([[0.15, 0.5, 0.05, 0.3]]), top_p)[0]
    order = [1, 3, 0, 2]  # tokens by probability
    assert [i for i, token in enumerate(order) if filtered[token] > 0] == kept


def test_end_token_stops_and_is_counted(backend):
    _, tokenizer = backend._load()
    eos = tokenizer.eos_token_id
    words = tokenizer("The answer", add_special_tokens=False)["input_ids"]
    stopped = _completion(chat(0, 0), words + [eos, tokenizer.pad_token_id], [eos], tokenizer)
    assert (stopped.text, stopped.finish_reason, stopped.num_tokens) == ("The answer", "stop", len(words) + 1)
    cut = _completion(chat(0, 0), words, [eos], tokenizer)
    assert (cut.finish_reason, cut.num_tokens) == ("length", len(words))


def test_missing_model_directory_is_a_one_line_error(tmp_path):
    with pytest.raises(BackendError, match="model directory .*nope does not exist: give a directory") as e:
        make_backend("hf", model=str(tmp_path / "nope"))
    assert "\n" not in str(e.value)


def test_directory_without_a_model_is_a_one_line_error(tmp_path):
    backend = HFBackend(model=str(tmp_path))
    with pytest.raises(BackendError, match="cannot load model .*give a local model directory") as e:
        list(backend.generate([chat(0, 0)], SamplingParams(max_tokens=2)))
    assert "\n" not in str(e.value)


def test_tokenizer_without_chat_template_asks_for_raw_prompts(backend):
    _, tokenizer = backend._load()
    template, tokenizer.chat_template = tokenizer.chat_template, None
    try:
        with pytest.raises(BackendError, match="no chat template.*Request.prompt"):
            render_prompt(tokenizer, chat(0, 0))
    finally:
        tokenizer.chat_template = template


def test_missing_extra_names_the_install_command(monkeypatch, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "transformers" else real(name, *a))
    with pytest.raises(BackendError, match=r"transformers is not installed: pip install 'mimo-eval\[hf\]'"):
        list(HFBackend(model=str(tmp_path)).generate([chat(0, 0)], SamplingParams()))


def test_config_and_versions(backend):
    assert backend.config() == {"backend": "hf", "model": backend.model, "device": "cpu", "dtype": "auto",
                                "batch_size": 4, "trust_remote_code": False}
    assert backend.versions()["torch"] == torch.__version__


@pytest.mark.gpu
def test_cuda_generation_throughput(model_dir):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    backend = HFBackend(model=model_dir, batch_size=32, device="cuda")
    requests = [chat(p, i) for p in range(4) for i in range(32)]
    list(backend.generate(requests[:32], SamplingParams(max_tokens=8)))  # warm-up
    started = time.perf_counter()
    completions = list(backend.generate(requests, SamplingParams(max_tokens=128)))
    elapsed = time.perf_counter() - started
    tokens = sum(c.num_tokens for c in completions)
    print(f"\nhf backend on {torch.cuda.get_device_name()}: {len(completions)} samples, {tokens} tokens, "
          f"{elapsed:.2f} s, {tokens / elapsed:.0f} tokens/s (tiny 2-layer Llama, batch 32)")
    assert len(completions) == len(requests)
