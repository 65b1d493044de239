"""Math answer grader: does a model's free-form answer equal the reference?

    from graders.math import grade
    grade(gold="\\frac{1}{2}", response="... so the answer is $\\boxed{0.5}$.").correct   # True

Keyword-only so gold and response cannot be swapped (Math-Verify's `verify(gold, pred)` is
asymmetric and has been called reversed in widely used code). Modes:
- "eval": last box, else the statement after an anchored phrase (or the one it closes), else (only
  without either) a short whole response, the last math environment or the last number.
- "reward": a box is required; two different boxed answers score 0.
In both, a response that closes its thinking (`</think>`, Sky-T1's markers) is read after the last
closing marker only, and one that never closes it has no answer (`graders.math.extract`).

Every call has a hard deadline (default 1 s) enforced by killing a worker process, so `grade` is safe
from threads and asyncio; plain numbers are decided in-process without a worker. The verdict says
why (correct / wrong / no_answer / gold_unparseable / timeout / response_too_costly / error); a deadline
the worker spent computing (not waiting for a CPU) on the response, or a response that exhausts the
worker's memory or kills it twice, is `response_too_costly`, a 0, so a costly-to-grade answer cannot mask
itself; a deadline spent starved by host load stays a masked `timeout` (eval counts both as timeouts).
`grade` never raises on string content. Limits: answers are compared as mathematics, not as prose;
`\\log` is base 10, `e` is Euler's number and `i` the imaginary unit, as in latex2sympy2_extended.
"""
from __future__ import annotations

import functools
import os
from dataclasses import replace
from typing import Iterable

from graders.math.commit import text_hedge
from graders.math.options import CompareOptions
from graders.math.extract import Extraction, extract, reference_answer
from graders.math.jobs import compare_job, gold_job
from graders.math.normalize import normalize
from graders.math.parse import clock_time, literal_value
from graders.pool import DeadlineExceeded, WorkerCrashed, shared_pool
from graders.types import MathVerdict

MODES = ("eval", "reward")
DEFAULT_TIMEOUT_S = 1.0
# Answers longer than this are normalised inside the worker, under the deadline, not in the caller's process.
IN_PROCESS_CHARS = 2000
_PRELOAD, _WARM = ("graders.math.warm",), "graders.math.warm:steps"   # the grading zygote's imports and warm-up


def grade(
    *,
    gold: str,
    response: str,
    mode: str = "eval",
    timeout_s: float = DEFAULT_TIMEOUT_S,
    decimals: int | None = None,
    strict: bool = True,
    allow_set_relation_comp: bool = False,
    thinking_opened: bool = False,
) -> MathVerdict:
    """`thinking_opened`: the prompt ended inside an open thinking block (R1-distill, QwQ templates end it with
    `<think>`), so a response without a closing marker is unfinished thinking (`graders.math.extract`).
    The next three are opt-in (see `graders.math.options.CompareOptions`): `decimals` for problems that
    ask for an answer rounded to that many places; `strict=False` and `allow_set_relation_comp=True`
    behave as Math-Verify's flags of the same names. The default numeric policy is in `graders.math.numeric`."""
    plan = _plan(gold, response, mode, thinking_opened, _options(mode, decimals, strict, allow_set_relation_comp))
    return plan if isinstance(plan, MathVerdict) else _settle(plan, lambda step: _in_worker(*step, timeout_s))


def grade_in_process(*, gold: str, response: str, mode: str = "eval", decimals: int | None = None,
                     strict: bool = True, allow_set_relation_comp: bool = False,
                     thinking_opened: bool = False) -> MathVerdict | None:
    """`grade`'s verdict when it needs no worker process (extraction, normalisation and plain numbers, all in
    linear time in the caller), else None: then call `grade`. For callers that batch: most RL answers are
    decided here in ~0.1 ms, less than handing them to another thread costs."""
    plan = _plan(gold, response, mode, thinking_opened, _options(mode, decimals, strict, allow_set_relation_comp))
    if isinstance(plan, MathVerdict):
        return plan
    try:
        return _settle(plan, _needs_worker)
    except _NeedsWorker:
        return None


def _options(mode: str, decimals: int | None, strict: bool, allow_set_relation_comp: bool) -> CompareOptions:
    return CompareOptions(decimals, strict, allow_set_relation_comp, sides_must_agree=mode == "reward")


class _NeedsWorker(Exception):
    pass


def _needs_worker(step) -> MathVerdict:
    raise _NeedsWorker


def _plan(gold: str, response: str, mode: str, thinking_opened: bool, options: CompareOptions):
    """A MathVerdict decided by extraction alone, or (gold, extraction, options) for `_settle`."""
    if not isinstance(gold, str):
        raise TypeError(f"gold must be a str (the reference answer), got {type(gold).__name__}")
    if not isinstance(response, str):
        raise TypeError(f"response must be a str (the model output), got {type(response).__name__}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    gold_raw = reference_answer(gold)
    if not gold_raw.strip():
        return MathVerdict(False, "gold_unparseable", detail="empty reference answer")
    found = extract(response, mode, bool(thinking_opened))
    if found.answer is None:
        return _verdict(found, False, "no_answer")
    if found.how == "hedged":
        return _verdict(found, False, "wrong", note=f"different answers {list(found.candidates)[:5]}")
    if found.how == "retracted":
        return _verdict(found, False, "wrong", note="taken back after the box")
    return gold_raw, found, options


def _settle(plan: tuple, in_worker) -> MathVerdict:
    """The answer's verdict; in reward mode every answer the response also names must be right too."""
    gold_raw, found, options = plan
    first = None
    for answer in (found.answer, *found.also):
        step = _compare(gold_raw, found, answer, options)
        verdict = step if isinstance(step, MathVerdict) else in_worker(step)
        if first is None:
            first = verdict
        if not verdict.correct:
            if verdict is first:
                return verdict
            reason = verdict.reason if verdict.reason not in ("correct", "no_answer") else "wrong"
            return replace(first, correct=False, reason=reason, timed_out=verdict.timed_out,
                           detail=f"{first.detail}; also states {answer[:80]!r}: {verdict.reason}")
    return first


def _compare(gold_raw: str, found: Extraction, answer: str, options: CompareOptions):
    """A MathVerdict, or the (said, gold_norm, resp_norm, job) that `_in_worker` needs to decide it."""
    said = functools.partial(_verdict, found)
    hedge = text_hedge(answer)
    if hedge and not text_hedge(gold_raw):
        return said(False, "wrong", note=f"a hedge in \\text{{}}: {hedge!r}")
    if len(answer) > IN_PROCESS_CHARS or len(gold_raw) > IN_PROCESS_CHARS:
        return said, None, None, (gold_raw, answer, options, None)
    gold_norm, gold_pct = normalize(gold_raw)
    resp_norm, resp_pct = normalize(answer, labelled_columns="\\begin{" not in gold_norm)
    if not gold_norm:
        return said(False, "gold_unparseable", note="empty reference answer")
    if not resp_norm:
        return said(False, "no_answer", gold_norm, note="empty answer")
    quick = _decide_in_process(gold_norm, resp_norm, gold_pct, resp_pct, options.decimals)
    if quick is not None:
        return said(quick, "correct" if quick else "wrong", gold_norm, resp_norm, note="literal")
    return said, gold_norm, resp_norm, (gold_norm, resp_norm, options, (gold_pct, resp_pct))


def _verdict(found: Extraction, correct: bool, reason: str, gold_norm: str | None = None, resp_norm: str | None = None,
             *, note: str = "", timed_out: bool = False) -> MathVerdict:
    """Every verdict's detail starts with the extraction rule that decided, then the comparison's note."""
    detail = found.rule + (f"; {note}" if note else "")
    return MathVerdict(correct, reason, found.answer, gold_norm, resp_norm, timed_out, detail, found.how)


def _in_worker(said, gold_norm: str | None, resp_norm: str | None, job: tuple, timeout_s: float) -> MathVerdict:
    pool = shared_pool("math", _default_workers(), _PRELOAD, _WARM)
    try:
        reason, detail = pool.call(compare_job, job, timeout_s, cache=job[3] is not None)  # short normalised pairs
    except DeadlineExceeded as exc:
        if not exc.cpu_bound:   # the worker waited for a CPU: the host's doing, masked
            return said(False, "timeout", gold_norm, resp_norm, note=f"{exc}, starved by host load", timed_out=True)
        reason, detail = _blame(pool, job, timeout_s, exc)
        return said(False, reason, gold_norm, resp_norm, note=detail, timed_out=True)
    except WorkerCrashed as exc:
        reason, detail = _blame(pool, job, timeout_s, exc)   # a retry may succeed: the host killed it once
        return said(reason == "correct", reason, gold_norm, resp_norm, note=detail)
    return said(reason == "correct", reason, gold_norm, resp_norm, note=detail)


def _blame(pool, job: tuple, timeout_s: float, failure: DeadlineExceeded | WorkerCrashed) -> tuple[str, str]:
    """A comparison that computed through its deadline, or whose worker died (the kernel's OOM killer, a
    crash in C): the response's cost (a 0) unless the reference alone is what fails, which is checked by
    preparing the gold by itself under the same deadline. Otherwise a masked sample would be the reward for
    an answer that is costly to grade. A death is retried once, as the host may have killed the worker for
    reasons of its own; dying again on the same pair is the response's doing."""
    gold, percents = job[0], job[3]
    try:
        reason, detail = pool.call(gold_job, (gold, percents is None), timeout_s)
    except DeadlineExceeded as again:
        if again.cpu_bound:
            return "gold_unparseable", f"the reference alone exceeds the deadline: {again}"
        return "timeout", f"{failure}; the reference alone could not be checked: {again}, starved by host load"
    except WorkerCrashed as again:
        return "error", f"{failure}; checking the reference alone: {again}"
    if reason != "correct":
        return reason, detail
    if isinstance(failure, DeadlineExceeded):
        return "response_too_costly", f"{failure} comparing the response; the reference alone is quick"
    try:
        reason, detail = pool.call(compare_job, job, timeout_s)
        return reason, f"retried after {failure}" + (f"; {detail}" if detail else "")
    except DeadlineExceeded as again:
        if again.cpu_bound:
            return "response_too_costly", f"{failure}, then {again} on the retry; the reference alone is quick"
        return "timeout", f"{failure}, then {again} on the retry, starved by host load"
    except WorkerCrashed as again:
        return "response_too_costly", f"the worker died twice on this response ({failure}; {again}); " \
                                      "the reference alone is fine"


async def agrade(**kwargs) -> MathVerdict:
    """`grade` for asyncio code (same keyword arguments): runs in a thread so the event loop is never blocked."""
    import asyncio

    return await asyncio.to_thread(functools.partial(grade, **kwargs))


def grade_many(
    pairs: Iterable[tuple[str, str]],
    *,
    workers: int | None = None,
    mode: str = "eval",
    timeout_s: float = DEFAULT_TIMEOUT_S,
    decimals: int | None = None,
    strict: bool = True,
    allow_set_relation_comp: bool = False,
    thinking_opened: bool = False,
    progress: bool = True,
) -> list[MathVerdict]:
    """Grade (gold, response) pairs in bulk, in order, with `workers` worker processes."""
    pairs = list(pairs)
    workers = workers or _default_workers()
    shared_pool("math", workers, _PRELOAD, _WARM)
    options = dict(mode=mode, timeout_s=timeout_s, decimals=decimals, strict=strict,
                   allow_set_relation_comp=allow_set_relation_comp, thinking_opened=thinking_opened)
    one = lambda p: grade(gold=p[0], response=p[1], **options)  # noqa: E731
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as executor:
        results = executor.map(one, pairs)
        if not progress:
            return list(results)
        from rich.progress import Progress

        out: list[MathVerdict] = []
        with Progress(*Progress.get_default_columns(), "{task.completed}/{task.total}", transient=True) as bar:
            task = bar.add_task("grading math", total=len(pairs))
            for verdict in results:
                out.append(verdict)
                bar.advance(task)
        return out


def _decide_in_process(gold: str, response: str, gold_pct: bool, resp_pct: bool, decimals: int | None) -> bool | None:
    """Plain numbers on both sides are decided here; None hands the pair to a worker."""
    from graders.math.numeric import numbers_equal

    if gold_pct != resp_pct:
        return None
    if gold == response:   # the same text is the same answer, whatever SymPy would make of it (5-10 ms)
        return True
    gc, rc = clock_time(gold), clock_time(response)
    if gc is not None and rc is not None:
        # The same time of day, or the same digits with and without a.m./p.m. (as the full comparison decides
        # them); SymPy would spend ~7 ms reading "4:30" as the ratio 2/15. Anything else goes to a worker.
        return True if gc == rc else (False if gc[:3] == rc[:3] else None)
    g, r = literal_value(gold), literal_value(response)
    if g is None or r is None:
        return None
    return numbers_equal(g[0], r[0], gold_places=g[1], resp_decimal_literal=r[1] is not None,
                         resp_has_decimal=r[1] is not None, decimals=decimals)


def _default_workers() -> int:
    return max(2, os.cpu_count() or 2)


__all__ = ["grade", "grade_in_process", "agrade", "grade_many", "MathVerdict", "MODES", "DEFAULT_TIMEOUT_S"]

