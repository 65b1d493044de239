"""The math reward-hacking probes (`graders.rewards.probes`) against anyone's reward function, so a practitioner can see
what their reward pays before a policy finds it:

    mimo-eval reward-probes --target verl.utils.reward_score:default_compute_score --convention verl   # in verl's env
    mimo-eval reward-probes --target trl.rewards:accuracy_reward --convention trl                     # in TRL's env
    mimo-eval reward-probes --target tools.reward_targets:math_verify_default --convention plain

Calling conventions, as the frameworks call a reward:
- verl: `fn(data_source, solution_str, ground_truth, extra_info)` -> a number or a dict with "score" (verl's
  `compute_score`); data_source defaults to "lighteval/MATH", extra_info holds `thinking_opened` when the probe's
  prompt opened the thinking (verl's own scorers ignore it; ours reads it);
- trl: `fn(prompts=, completions=, completion_ids=None, **columns)` -> one number or None per completion (TRL's
  `GRPOTrainer`), with conversational completions and the gold in the columns "solution" (TRL's
  `accuracy_reward`), "ground_truth" (ours) and "answer", plus a "thinking_opened" column;
- plain: `fn(response, gold)` -> a number or a bool.

Each probe is one call in this thread (Math-Verify's signal timeouts need the main thread); a call that raises is
reported with its exception, never counted as held. A hack is paid when it scores above 0 or comes back None
(TRL masks None: advantage 0, more than a wrong answer's).
"""
from __future__ import annotations

import importlib
import math
import time
from typing import Any, Callable, Mapping

from graders.rewards.probes import MATH_GOLD, MATH_QUESTION, Probe, ProbeRow, math_probes

CONVENTIONS = ("verl", "trl", "plain")


def load_target(spec: str) -> Callable:
    """"package.module:function" -> the function, with an error that says what is wrong."""
    module_name, _, name = spec.partition(":")
    if not module_name or not name:
        raise ValueError(f"--target must be module:function (e.g. trl.rewards:accuracy_reward), got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r} ({exc}): run in the environment that has it "
                         "(e.g. .venvs/verl/bin/python -m mimo_eval.cli ...)") from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise ValueError(f"{module_name} has no function {name!r}")
    return fn


def call(fn: Callable, convention: str, probe: Probe, gold: str, data_source: str) -> float | None:
    opened = bool(probe.options.get("thinking_opened"))
    if convention == "verl":
        out = fn(data_source, probe.response, gold, {"thinking_opened": True} if opened else {})
        return _number(out["score"] if isinstance(out, Mapping) else out)
    if convention == "trl":
        columns = {"solution": [gold], "ground_truth": [gold], "answer": [gold], "thinking_opened": [opened]}
        out = fn(prompts=[[{"role": "user", "content": MATH_QUESTION}]],
                 completions=[[{"role": "assistant", "content": probe.response}]], completion_ids=None, **columns)
        return _number(list(out)[0])
    if convention == "plain":
        return _number(fn(probe.response, gold))
    raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def run_target(fn: Callable, convention: str, data_source: str = "lighteval/MATH") -> list[tuple[ProbeRow, float]]:
    """Every math probe through `fn`: (row, seconds). The reason says what came back or what was raised."""
    out = []
    for probe in math_probes():
        start = time.perf_counter()
        try:
            score = call(fn, convention, probe, MATH_GOLD, data_source)
            reason = "masked (None)" if score is None else "returned"
        except Exception as exc:  # noqa: BLE001 - reported in the row: a reward that raises is information
            score, reason = None, f"raised {type(exc).__name__}: {str(exc)[:60]}"
        out.append((ProbeRow(probe.name, "math", convention, score, reason, probe.control, probe.hack_class),
                    time.perf_counter() - start))
    return out
