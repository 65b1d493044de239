"""The bundled RL example's toy task as a benchmark: "Q a + b A" -> a + b, for a in 0..9, b in 0..1, a + b <= 9.

Not a reasoning benchmark. The RL loop's example (examples/rl_toy.yaml) trains on these same 19 problems
(mimo_eval/rl/toy.py writes them in verl's layout), so the harness can evaluate what the example trained and the
loop can evaluate itself during training, on CPU, with nothing downloaded:

    mimo-eval run toy_add --backend hf --model runs/rl_toy/hf/step_60 --system-prompt none --max-tokens 2
"""
from __future__ import annotations

from benchmarks.types import Problem

PROMPT = "Q {a} + {b} A"
DEFAULT_N = 8
BREAKDOWN_KEYS = ("b",)


def load() -> list[Problem]:
    pairs = [(a, b) for a in range(10) for b in range(2) if a + b <= 9]
    return [Problem(f"toy_add/{i}", PROMPT.format(a=a, b=b), str(a + b), "math", {"b": b})
            for i, (a, b) in enumerate(pairs)]
