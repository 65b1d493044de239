"""The framework adapters (graders/rewards/{verl,trl,openrlhf,verifiers}.py) called as their frameworks call
them, here without the frameworks (tests/test_rewards_frameworks*.py drive the real ones).

    python -m pytest -q tests/test_rewards_adapters.py

Covers: verl's fixed key set and masked-as-0.0-with-masked=1, TRL's None for undecided samples, its column
and log_metric, OpenRLHF's prompt/special-token stripping, the legacy verifiers function; every adapter from
a thread, from asyncio, after a pickle round trip and in a spawned process; the stall property (one
pathological sample in a batch of 256 costs at most the deadline + 1 s and is never scored 1).
"""
from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import threading

import pytest

from graders.rewards import openrlhf, trl, verl
from graders.rewards import verifiers as vf_adapter

BRACES = "\\boxed{" + "{" * 10000 + "1" + "}" * 10000 + "}"    # as in tests/test_math_grader.py PATHOLOGICAL
TOWER = "\\boxed{9^{9^{9^{9^{9^{9}}}}}}"


# (data_source, solution, ground_truth, score, masked): a correct, a wrong, a missing box, an unparseable gold.
VERL_CASES = [
    ("lighteval/MATH", "so \\boxed{\\frac{1}{2}}", "0.5", 1.0, 0),
    ("math_dapo", "\\boxed{3}", "4", 0.0, 0),
    ("aime24", "The answer is 4.", "4", 0.0, 0),
    ("HuggingFaceH4/MATH-500", "\\boxed{1}", "\\frac{1}{", 0.0, 1),
]


@pytest.mark.parametrize("source,solution,gold,score,masked", VERL_CASES)
def test_verl_dict_has_the_same_keys_every_time(source, solution, gold, score, masked):
    out = verl.compute_score(data_source=source, solution_str=solution, ground_truth=gold, extra_info={"index": 0})
    assert tuple(out) == verl.KEYS
    assert (out["score"], out["masked"]) == (score, masked)


def test_verl_positional_as_prime_and_batch_line_up():
    assert verl.compute_score("lighteval/MATH", "\\boxed{2}", "2", None)["score"] == 1.0   # prime: positional
    rows = [[c[i] for c in VERL_CASES] for i in range(3)]
    out = verl.compute_score_batch(data_sources=rows[0], solution_strs=rows[1], ground_truths=rows[2],
                                   extra_infos=[{}] * len(VERL_CASES))
    assert [(o["score"], o["masked"]) for o in out] == [(c[3], c[4]) for c in VERL_CASES]
    assert all(tuple(o) == verl.KEYS for o in out)


def test_verl_async_twin():
    out = asyncio.run(verl.acompute_score(data_source="aime25", solution_str="\\boxed{7}", ground_truth="7"))
    assert out["score"] == 1.0 and tuple(out) == verl.KEYS


def test_verl_code_options_from_extra_info_are_checked():
    with pytest.raises(ValueError, match="code reward must be one of"):
        verl.compute_score("apps", "x", "{}", {"reward_options": {"reward": "partial"}})


def test_verl_unknown_reward_kwarg_is_an_error_naming_the_known_ones():
    with pytest.raises(TypeError, match="unknown reward settings \\['wrokers'\\]"):
        verl.compute_score("aime24", "\\boxed{1}", "1", None, wrokers=4)


CUT = "So it is \\boxed{7}, but let me check"          # cut inside a thinking the prompt opened
CLOSED = "So maybe 6.</think> It is \\boxed{7}."


def test_verl_thinking_opened_per_run_and_per_sample():
    # per run: a reward kwarg (+reward.custom_reward_function.reward_kwargs.thinking_opened=true)
    assert verl.compute_score("aime24", CUT, "7", {}, thinking_opened=True)["score"] == 0.0
    assert verl.compute_score("aime24", CLOSED, "7", {}, thinking_opened=True)["score"] == 1.0
    assert verl.compute_score("aime24", CUT, "7", {})["score"] == 1.0     # unknown: the response alone
    # per sample (extra_info wins over the run's value), also in the batch and async twins
    assert verl.compute_score("aime24", CUT, "7", {"thinking_opened": True})["score"] == 0.0
    assert verl.compute_score("aime24", CUT, "7", {"thinking_opened": False}, thinking_opened=True)["score"] == 1.0
    out = verl.compute_score_batch(["aime24"] * 2, [CUT, CLOSED], ["7", "7"], [{}, {}], thinking_opened=True)
    assert [o["score"] for o in out] == [0.0, 1.0]
    assert asyncio.run(verl.acompute_score("aime24", CUT, "7", {}, thinking_opened=True))["score"] == 0.0


def test_trl_thinking_opened_from_column_keyword_or_text_prompt():
    # a text prompt rendered by a template that opens the thinking is read; a conversational one cannot be
    texts = ["<|im_start|>assistant\n<think>\n", "<|im_start|>assistant\n"]
    assert trl.reward(texts, [CUT, CUT], ground_truth=["7", "7"]) == [0.0, 1.0]
    conversational = [[{"role": "user", "content": "Q"}]] * 2
    assert trl.reward(conversational, [CUT, CLOSED], ground_truth=["7", "7"]) == [1.0, 1.0]
    assert trl.make_reward(thinking_opened=True)(conversational, [CUT, CLOSED], ground_truth=["7", "7"]) == [0.0, 1.0]
    assert trl.reward(conversational, [CUT, CUT], ground_truth=["7", "7"], thinking_opened=[True, False]) == [0.0, 1.0]


def test_openrlhf_thinking_opened_read_from_the_rendered_prompt():
    prompt = "<｜User｜>Q<｜Assistant｜><think>\n"
    out = openrlhf.reward_func([prompt + CUT, prompt + CLOSED], [prompt, prompt], ["7", "7"])
    assert out["rewards"].tolist() == [0.0, 1.0]
    plain = "<｜User｜>Q<｜Assistant｜>"
    assert openrlhf.reward_func([plain + CUT], [plain], ["7"])["rewards"].tolist() == [1.0]
    forced = openrlhf.make_reward_func(thinking_opened=True)
    assert forced([plain + CUT], [plain], ["7"])["rewards"].tolist() == [0.0]


def test_verifiers_legacy_thinking_opened_from_info():
    assert asyncio.run(vf_adapter.correct_answer(CUT, "7", {"thinking_opened": True})) == 0.0
    assert asyncio.run(vf_adapter.correct_answer(CLOSED, "7", {"thinking_opened": True})) == 1.0


def test_thinking_opened_must_be_a_bool():
    with pytest.raises(TypeError, match="thinking_opened must be a bool"):
        verl.compute_score("aime24", CUT, "7", {"reward_options": {"thinking_opened": "yes"}})


def test_verl_batch_length_mismatch():
    with pytest.raises(ValueError, match="batch lists differ in length"):
        verl.compute_score_batch(["aime24"], ["a", "b"], ["1"], [None])


def test_trl_standard_and_conversational_completions():
    metrics: dict[str, float] = {}
    out = trl.reward(prompts=["p"] * 3, completions=["\\boxed{2}", [{"role": "assistant", "content": "\\boxed{3}"}],
                                                     "\\boxed{1}"],
                     completion_ids=None, ground_truth=["2", "3", "\\frac{1}{"], log_metric=metrics.__setitem__)
    assert out == [1.0, 1.0, None]          # None: TRL leaves the unparseable-gold sample out
    assert metrics == {"mimo_reward/masked": pytest.approx(1 / 3), "mimo_reward/timeouts": 0.0,
                       "mimo_reward/accuracy": 1.0}


def test_trl_routes_by_data_source_column_and_reads_the_named_column():
    fn = trl.make_reward("answer", name="acc")
    assert fn.__name__ == "acc"
    assert fn(["p"], ["\\boxed{9}"], answer=["9"], data_source=["aime24"]) == [1.0]
    with pytest.raises(KeyError, match="no 'answer' column.*make_reward\\(column=...\\)"):
        fn(["p"], ["\\boxed{9}"], ground_truth=["9"])
    with pytest.raises(ValueError, match="unknown data_source"):
        fn(["p"], ["\\boxed{9}"], answer=["9"], data_source=["my/set"])


def test_trl_factory_result_pickles_and_async_twin():
    fn = pickle.loads(pickle.dumps(trl.make_reward(asynchronous=True, workers=2)))
    assert asyncio.run(fn(prompts=["p", "p"], completions=["\\boxed{1}", "\\boxed{2}"], ground_truth=["1", "1"])) == [1.0, 0.0]
    assert asyncio.run(trl.areward(["p"], ["\\boxed{x+1}"], ground_truth=["1+x"])) == [1.0]


# (query, prompt, response seen by the grader): OpenRLHF decodes prompt + response with special tokens.
OPENRLHF_QUERIES = [
    ("<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>hmm</think> \\boxed{2}<|im_end|>",
     "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n", "<think>hmm</think> \\boxed{2}"),
    ("<s>Q put it in \\boxed{} </s>A: \\boxed{2}</s>", "Q put it in \\boxed{} </s>", "A: \\boxed{2}"),
    ("<｜begin▁of▁sentence｜>Q<｜Assistant｜>\\boxed{2}<｜end▁of▁sentence｜>", "Q<｜Assistant｜>", "\\boxed{2}"),
]


@pytest.mark.parametrize("query,prompt,response", OPENRLHF_QUERIES)
def test_openrlhf_strips_prompt_and_special_tokens(query, prompt, response):
    assert openrlhf.response_from_query(query, prompt) == response
    out = openrlhf.reward_func([query], [prompt], ["2"])
    assert out["rewards"].tolist() == [1.0] and out["scores"].tolist() == [1.0]
    assert out["extra_logs"]["masked"].tolist() == [0.0]


def test_openrlhf_prompt_box_never_counts_and_missing_prompt_is_masked():
    # The prompt's own example box must not be read as the answer when the response has none.
    out = openrlhf.reward_func(["Q: answer in \\boxed{2}<|im_end|>I do not know"], ["Q: answer in \\boxed{2}"], ["2"])
    assert out["rewards"].tolist() == [0.0] and out["extra_logs"]["masked"].tolist() == [0.0]
    out = openrlhf.reward_func(["something else \\boxed{2}"], ["Q: answer in \\boxed{2}"], ["2"])
    assert out["rewards"].tolist() == [0.0] and out["extra_logs"]["masked"].tolist() == [1.0]


def test_verifiers_legacy_function_binds_by_name():
    done = asyncio.run(vf_adapter.correct_answer(completion=[{"role": "assistant", "content": "\\boxed{7}"}],
                                                 answer="7", info={"data_source": "aime24"}))
    assert done == 1.0
    assert asyncio.run(vf_adapter.correct_answer(completion="\\boxed{1}", answer="\\frac{1}{")) == 0.0


# Each adapter as (callable, args, kwargs, expected): used from a thread, asyncio, pickle and a spawned process.
ADAPTER_CALLS = [
    ("verl", verl.compute_score, ("aime24", "\\boxed{5}", "5", None), {}, lambda o: o["score"] == 1.0),
    ("verl_batch", verl.compute_score_batch, (["aime24"] * 2, ["\\boxed{5}", "\\boxed{6}"], ["5", "5"], [None] * 2), {},
     lambda o: [x["score"] for x in o] == [1.0, 0.0]),
    ("trl", trl.reward, (["p"], ["\\boxed{5}"]), {"ground_truth": ["5"]}, lambda o: o == [1.0]),
    ("trl_factory", trl.make_reward("gold"), (["p"], ["\\boxed{5}"]), {"gold": ["5"]}, lambda o: o == [1.0]),
    ("openrlhf", openrlhf.reward_func, (["Q\\boxed{5}"], ["Q"], ["5"]), {}, lambda o: o["rewards"].tolist() == [1.0]),
]
IDS = [c[0] for c in ADAPTER_CALLS]


@pytest.mark.parametrize("name,fn,args,kwargs,ok", ADAPTER_CALLS, ids=IDS)
def test_adapter_from_a_thread(name, fn, args, kwargs, ok):
    out = []
    thread = threading.Thread(target=lambda: out.append(fn(*args, **kwargs)))
    thread.start()
    thread.join()
    assert ok(out[0])


@pytest.mark.parametrize("name,fn,args,kwargs,ok", ADAPTER_CALLS, ids=IDS)
def test_adapter_from_asyncio_via_a_thread(name, fn, args, kwargs, ok):
    async def main():  # as verl's reward loop and OpenRLHF call a sync function: run_in_executor / to_thread
        return await asyncio.to_thread(fn, *args, **kwargs)

    assert ok(asyncio.run(main()))


@pytest.mark.parametrize("name,fn,args,kwargs,ok", ADAPTER_CALLS, ids=IDS)
def test_adapter_after_pickle(name, fn, args, kwargs, ok):
    assert ok(pickle.loads(pickle.dumps(fn))(*args, **kwargs))


def test_adapters_in_a_spawned_process():
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as child:
        outs = [child.apply(fn, args, kwargs) for _, fn, args, kwargs, _ in ADAPTER_CALLS]
    assert all(ok(out) for out, (*_, ok) in zip(outs, ADAPTER_CALLS))


def _run(fn, args: tuple, kwargs: dict):
    """An async adapter called the way its framework awaits it (module-level: it travels to a child)."""
    return asyncio.run(fn(*args, **kwargs))


# The async twins, each awaited in a thread, after a pickle round trip and in a spawned process.
ASYNC_CALLS = [
    (verl.acompute_score, ("aime24", "\\boxed{5}", "5", None), {}, {"score": 1.0}),
    (trl.areward, (["p"], ["\\boxed{5}"]), {"ground_truth": ["5"]}, [1.0]),
    (vf_adapter.correct_answer, ("\\boxed{5}", "5"), {}, 1.0),
]


def test_async_adapters_from_a_thread_after_pickle_and_in_a_spawned_process():
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as child:
        for fn, args, kwargs, expected in ASYNC_CALLS:
            out: list = []
            thread = threading.Thread(target=lambda: out.append(_run(pickle.loads(pickle.dumps(fn)), args, kwargs)))
            thread.start()
            thread.join()
            spawned = child.apply(_run, (fn, args, kwargs))
            for got in (out[0], spawned):
                assert (got["score"] == expected["score"]) if isinstance(expected, dict) else got == expected


def _batch(pathological: str | None, n: int = 256) -> tuple[list, list, list]:
    responses = [f"<think>...</think> \\boxed{{{i}}}" for i in range(n)]
    if pathological is not None:
        responses[n // 2] = pathological
    return ["aime24"] * n, responses, [str(i) for i in range(n)]


@pytest.mark.parametrize("pathological", [BRACES, TOWER], ids=["braces", "tower"])
def test_one_pathological_sample_delays_a_batch_of_256_by_at_most_the_deadline(pathological):
    deadline = 1.0
    verl.compute_score_batch(*_batch(None), None, timeout_s=deadline)   # warm the workers
    out = verl.compute_score_batch(*_batch(pathological), None, timeout_s=deadline)
    # the delay is bounded by the path taken (the worker killed at its deadline, or a guard deciding without it),
    # asserted below; the batch's wall time on a loaded 2-core machine is the benchmarks' business
    bad = out[128]
    assert bad["acc"] == 0.0 and (bad["masked"] == 1 or bad["reason"] in ("wrong", "response_too_costly"))
    if pathological is BRACES:   # cannot finish: 0 when the worker computed through it, masked when starved
        assert (bad["reason"], bad["score"], bad["masked"]) in (("response_too_costly", 0.0, 0), ("timeout", 0.0, 1))
        assert bad["timed_out"] == 1   # reported as a timeout either way
    assert [o["score"] for i, o in enumerate(out) if i != 128] == [1.0] * 255


def test_stall_through_trl_gives_none():
    n = 256
    fn = trl.make_reward(timeout_s=1.0)
    _, responses, golds = _batch(BRACES, n)
    golds[128] = "2"
    out = fn(["p"] * n, responses, ground_truth=golds)   # returns: the stalled comparison was killed at its deadline
    # 0.0 when the worker computed through the deadline (response_too_costly), None when starved by load
    assert out[128] in (None, 0.0) and out.count(1.0) == 255
