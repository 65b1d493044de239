"""Qwen2.5-Math's 100-problem MATH sample with 8 recorded responses each: the replay demo and metric regression.

Not a MiMo benchmark. QwenLM/Qwen2.5-Math `evaluation/data/eval_rm_maj_example/math_cot_100.jsonl` (MIT) holds
100 MATH test problems (levels 1-5), each with 8 sampled responses from an unnamed Qwen2.5-Math model and Qwen's
own per-response `score`. The gold is the row's `answer` (MATH's own boxed answer), not Qwen's
pre-stripped `gt` (which mangles idx 3 to `4:30p..`). Loading gives the problems; `recorded_generations()`
gives the responses in the replay backend's format. Expected from the stored labels: avg@8 91.0, pass@8 96.0, maj@8 93.0.
"""
from __future__ import annotations

from benchmarks.common import MATH_PROMPT, math_problem, read_bundled
from benchmarks.types import Problem

PROMPT = MATH_PROMPT
DEFAULT_N = 8
NUM_PROBLEMS = 100
BREAKDOWN_KEYS = ("level",)
FILE = "qwen25math_math_cot_100.jsonl"


def load() -> list[Problem]:
    return [math_problem(f"qwen25math_math100/{row['idx']}", row["question"], row["answer"],
                         {"level": row["level"], "stored_scores": row["score"]})
            for row in read_bundled(FILE, NUM_PROBLEMS, ("idx", "question", "answer"))]


def recorded_generations() -> list[dict]:
    """The 800 responses as replay rows {problem_id, sample_index, text}."""
    return [{"problem_id": f"qwen25math_math100/{row['idx']}", "sample_index": j, "text": text}
            for row in read_bundled(FILE, NUM_PROBLEMS) for j, text in enumerate(row["response"])]
