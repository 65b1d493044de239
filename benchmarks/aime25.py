"""AIME 2025 (I and II, 30 problems): integer answers 0-999, graded by the math grader.

MiMo-7B reports pass@1 averaged over 32 samples at temperature 0.6 (arXiv 2505.07608 §3.5.1).
Data: SkyworkAI/Skywork-OR1 `or1_data/eval/aime25.parquet` (Apache-2.0); II-5's gold `336^\\circ` normalised to
336; ids checked against mlfoundations/evalchemy; see benchmarks/data/README.md.
https://artofproblemsolving.com/wiki/index.php/2025_AIME_I
"""
from __future__ import annotations

from benchmarks.common import MATH_PROMPT, math_problem, read_bundled
from benchmarks.types import Problem

PROMPT = MATH_PROMPT
DEFAULT_N = 32
NUM_PROBLEMS = 30
BREAKDOWN_KEYS = ("exam",)


def load() -> list[Problem]:
    return [math_problem(f"aime25/{row['id']}", row["problem"], row["answer"],
                         {"exam": row["exam"], "problem_number": row["problem_number"], "url": row["url"]})
            for row in read_bundled("aime25.jsonl", NUM_PROBLEMS, ("id", "problem", "answer"))]
