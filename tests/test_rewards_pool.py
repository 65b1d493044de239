"""The reward pool (graders/rewards/pool.py), the math reward and data-source routing.

    python -m pytest -q tests/test_rewards_pool.py

Covers: routing table and its one-line extension, the math reward's verdicts through the pool (order kept,
masked = None), caller mistakes as one-line errors, calls from threads and asyncio, the counters.
The code reward and the sandbox are in tests/test_rewards_code.py; the adapters in test_rewards_adapters.py.
"""
from __future__ import annotations

import asyncio
import threading

import pytest

from graders.rewards import routing
from graders.rewards.pool import RewardPool
from graders.rewards.types import RewardResult


@pytest.fixture(scope="module")
def pool():
    with RewardPool(workers=2) as p:
        yield p


# Names from verl's verl/utils/reward_score/__init__.py default_compute_score, plus LCB and our benchmarks.
ROUTES = [
    ("lighteval/MATH", "math"), ("HuggingFaceH4/MATH-500", "math"), ("DigitalLearningGmbH/MATH-lighteval", "math"),
    ("openai/gsm8k", "math"), ("math_dapo", "math"), ("aime24", "math"), ("aime_2025", "math"),
    ("numina_olympiads", "math"), ("codecontests", "code"), ("apps", "code"), ("taco", "code"),
    ("codeforces", "code"), ("livecodebench", "code"), ("livecodebench/code_generation_lite", "code"),
]


@pytest.mark.parametrize("source,kind", ROUTES)
def test_known_sources_route(source, kind):
    assert routing.kind_for(source) == kind


def test_unknown_source_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown data_source 'my/set'.*lighteval/MATH.*register"):
        routing.kind_for("my/set")


def test_register_exact_name_and_pattern():
    routing.register("my_org/olympiad-*", "math")
    routing.register("my_org/olympiad-code", "code")  # an exact name wins over a pattern
    assert routing.kind_for("my_org/olympiad-2024") == "math"
    assert routing.kind_for("my_org/olympiad-code") == "code"
    with pytest.raises(ValueError, match="kind must be one of"):
        routing.register("x", "chess")


# (gold, response, options, score, reason): from graders.math's reward-mode rules (tests/test_math_grader.py).
MATH = [
    ("\\frac{1}{2}", "<think>hmm</think> so $\\boxed{0.5}$", None, 1.0, "correct"),
    ("5", "<think>\\boxed{5}</think> The answer is 5.", None, 0.0, "no_answer"),       # box only in thinking
    ("5", "The answer is 5.", None, 0.0, "no_answer"),                                  # reward mode needs a box
    ("5", "The answer is 5.", {"mode": "eval"}, 1.0, "correct"),                         # eval mode on request
    ("5", "\\boxed{5} or maybe \\boxed{7}", None, 0.0, "wrong"),                        # a hedge
    ("\\frac{1}{", "\\boxed{1}", None, None, "gold_unparseable"),                       # masked, not scored
    (42, "\\boxed{42}", None, 1.0, "correct"),                                           # numeric gold from parquet
]


@pytest.mark.parametrize("gold,response,options,score,reason", MATH)
def test_math_reward(pool, gold, response, options, score, reason):
    result = pool.submit("math", response, gold, options).result()
    assert isinstance(result, RewardResult)
    assert (result.score, result.reason) == (score, reason)
    assert result.masked == (score is None) and result.correct == (None if score is None else score == 1.0)
    assert result.extra["latency_s"] >= 0


def test_score_many_keeps_order(pool):
    calls = [("math", f"\\boxed{{{i}}}", str(i if i % 3 else i + 1), None) for i in range(60)]
    scores = [r.score for r in pool.score_many(calls)]
    assert scores == [0.0 if i % 3 == 0 else 1.0 for i in range(60)]


def test_score_many_mixes_in_process_and_worker_answers_in_order(pool):
    # plain numbers are decided in the caller's thread, symbolic ones by the worker processes: one order
    calls = [("math", f"\\boxed{{{i}+x}}" if i % 2 else f"\\boxed{{{i}}}", f"x+{i}" if i % 2 else str(i), None)
             for i in range(40)]
    calls[7] = ("math", "\\boxed{x+8}", "x+7", None)
    results = pool.score_many(calls)
    assert [r.score for r in results] == [0.0 if i == 7 else 1.0 for i in range(40)]
    assert {r.extra["detail"].endswith("literal") for r in results[0::2]} == {True}
    assert all(r.extra["latency_s"] > 0 for r in results)


def test_score_many_counts_every_call_once():
    with RewardPool(workers=2) as p:
        p.score_many([("math", f"\\boxed{{{i}}}", "3", None) for i in range(5)]
                     + [("math", "\\boxed{x^2}", "x*x", None)])
        assert p.stats()["calls"] == 6 and p.stats()["masked"] == 0


def test_grade_in_process_decides_only_what_needs_no_worker():
    from graders.math import grade, grade_in_process

    assert grade_in_process(gold="0.5", response="so \\boxed{\\frac{1}{2}}").correct
    assert grade_in_process(gold="x+1", response="\\boxed{1+x}") is None   # SymPy's work: `grade` decides it
    assert grade(gold="x+1", response="\\boxed{1+x}").correct
    assert grade_in_process(gold="2", response="no box here", mode="reward").reason == "no_answer"


@pytest.mark.parametrize("call,error,match", [
    (("chess", "x", "1", None), ValueError, "kind must be one of"),
    (("math", None, "1", None), TypeError, "response must be"),
    (("math", "x", ["1"], None), TypeError, "math reference must be the gold answer as a str"),
    (("math", "x", "1", {"mdoe": "eval"}), ValueError, "unknown math reward options \\['mdoe'\\]"),
    (("math", "x", "1", {"mode": "lenient"}), ValueError, "mode must be 'reward' or 'eval'"),
    (("code", "x", {}, {"reward": "partial"}), ValueError, "code reward must be one of"),
])
def test_caller_mistakes_raise_at_submit(pool, call, error, match):
    with pytest.raises(error, match=match):
        pool.submit(*call)


@pytest.mark.parametrize("kwargs,match", [
    ({"workers": 0}, "workers must be"), ({"backend": "spark"}, "backend must be"),
    ({"sandbox": "firejail"}, "sandbox must be"), ({"code_mode": "partial"}, "code reward must be"),
    ({"timeout_s": 0}, "timeout_s must be"),
])
def test_bad_pool_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RewardPool(**kwargs)


def test_from_many_threads(pool):
    out: dict[int, float] = {}

    def one(i: int) -> None:
        out[i] = pool.submit("math", f"</think>\\boxed{{{i}/2}}", f"\\frac{{{i}}}{{2}}").result().score

    threads = [threading.Thread(target=one, args=(i,)) for i in range(1, 9)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert out == {i: 1.0 for i in range(1, 9)}


def test_from_asyncio(pool):
    async def main():
        return await asyncio.gather(*(pool.ascore("math", f"\\boxed{{x+{i}}}", f"{i}+x") for i in range(6)))

    assert [r.score for r in asyncio.run(main())] == [1.0] * 6


def test_deadline_is_masked_and_counted():
    # A symbolic sum SymPy cannot settle in 0.05 s (as in test_math_grader): never a 1; which side is blamed
    # depends on where the CPU went (tests/test_math_timeout_masking.py); a starved timeout is masked, counted.
    with RewardPool(workers=1, timeout_s=0.05) as p:
        result = p.submit("math", "\\boxed{\\sum_{k=0}^{n-1} F_{n-k-1} F_k}", "\\sum_{k=0}^{n-1} F_k F_{n-k-1}").result()
        assert result.reason in ("timeout", "response_too_costly", "gold_unparseable") and result.score != 1.0
        assert (result.score is None) == (result.reason != "response_too_costly")
        assert result.timed_out   # every one of the three is a deadline, and each is counted as a timeout
        assert p.submit("math", "\\boxed{2}", "2").result().score == 1.0
        stats = p.stats()
    assert stats["calls"] == 2 and stats["timeouts"] == 1 and stats["errors"] == 0
    assert stats["masked"] == (result.score is None)
    assert stats["latency_max_s"] >= stats["latency_mean_s"] > 0


def test_huge_answer_is_cut_in_extra(pool):
    result = pool.submit("math", "\\boxed{" + "1" * 100_000 + "}", "1").result()
    assert result.score == 0.0 and len(result.extra["extracted"]) <= 300


def test_on_timeout_zero_scores_a_deadline_zero():
    # Opt-in: a policy cannot escape its 0 by writing an answer that exhausts the deadline.
    slow = ("math", "\\boxed{\\sum_{k=0}^{n-1} F_{n-k-1} F_k}", "\\sum_{k=0}^{n-1} F_k F_{n-k-1}")
    with RewardPool(workers=1, timeout_s=0.05) as p:
        result = p.submit(*slow, {"on_timeout": "zero"}).result()
    assert (result.score, result.correct) == (0.0, False)
    assert result.reason in ("timeout", "response_too_costly", "gold_unparseable")


def test_repeated_answers_reuse_a_finished_comparison_but_never_a_deadline():
    # graders/pool.py call(cache=True): an RL group's repeated answers cost one worker round trip.
    from graders.math import grade

    # the slow sum of test_deadline_is_masked_and_counted with another index: its own cache entry
    gold, response = "\\sum_{j=0}^{n-1} F_j F_{n-j-1}", "\\boxed{\\sum_{j=0}^{n-1} F_{n-j-1} F_j}"
    assert grade(gold=gold, response=response, timeout_s=0.05).timed_out     # not kept
    assert grade(gold=gold, response=response, timeout_s=60).reason == "correct"
    from graders.pool import shared_pool

    pool = shared_pool("math", 1)
    trips = []
    real = pool._call
    pool._call = lambda *args: trips.append(args) or real(*args)   # count worker round trips, not milliseconds
    try:
        assert grade(gold=gold, response=response, timeout_s=0.05).reason == "correct"     # kept: no worker
    finally:
        del pool._call
    assert trips == []


def test_score_runs_in_the_calling_thread_and_is_counted():
    with RewardPool(workers=1) as p:
        assert p.score("math", "\\boxed{3}", "3").score == 1.0
        assert p.score("math", "\\boxed{1}", "\\frac{1}{").score is None
        with pytest.raises(ValueError, match="unknown math reward options"):
            p.score("math", "\\boxed{1}", "1", {"mdoe": "eval"})
        stats = p.stats()
    assert stats["calls"] == 2 and stats["masked"] == 1


def test_the_adapters_pool_comes_back_after_close():
    from graders.rewards.pool import get_pool

    get_pool(1).close()
    assert get_pool(1).score("math", "\\boxed{4}", "4").score == 1.0
