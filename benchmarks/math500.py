"""MATH-500: the 500-problem test subset of MATH chosen by OpenAI's "Let's Verify Step by Step" (PRM800K).

MiMo-7B reports a single sample at temperature 0.6 (arXiv 2505.07608 §3.5.1). Breakdowns by level (1-5) and
subject. Data: Zhuofeng-Li/math-evaluation-harness `data/math500/test.jsonl` (MIT; byte-identical copies in
mlfoundations/evalchemy and MobileLLM/BudgetThinker); https://github.com/openai/prm800k
"""
from __future__ import annotations

from benchmarks.common import MATH_PROMPT, math_problem, read_bundled
from benchmarks.types import Problem

PROMPT = MATH_PROMPT
DEFAULT_N = 1
NUM_PROBLEMS = 500
BREAKDOWN_KEYS = ("level", "subject")


def load() -> list[Problem]:
    return [math_problem(f"math500/{row['unique_id']}", row["problem"], row["answer"],
                         {"level": row["level"], "subject": row["subject"]})
            for row in read_bundled("math500.jsonl", NUM_PROBLEMS, ("unique_id", "problem", "answer"))]
