"""What one run is: its settings, the problems it asks, and the config.json that records them.

A run is comparable with another only at the same settings of `COMPARABLE_KEYS` (harness/store.py); the config
records those, the result-changing backend options (`generation_options`) and the engine versions, so a run
directory says everything needed to rerun it.
"""
from __future__ import annotations

import hashlib
import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import BenchmarkDataError, prompt_sha256
from benchmarks.types import Benchmark, Problem
from mimo_eval import __version__
from mimo_eval.harness.shard import shard_label
from mimo_eval.types import Backend, SamplingParams


@dataclass(frozen=True)
class RunSettings:
    benchmark: str
    model: str
    out: Path = Path("runs")
    n: int | None = None                  # None: the benchmark's MiMo default
    sampling: SamplingParams = SamplingParams()
    system_prompt: str | None = ""        # MiMo: empty system prompt; None: no system message at all
    benchmark_options: dict = field(default_factory=dict)
    grade_workers: int = 4
    code_mode: str = "lcb"                # "all_tests": every test gets a verdict (for calibrate-tests)
    raw_prompt: bool = False              # send the prompt as raw text, no chat template (completion mode)
    new_run: bool = False
    progress: bool = True
    truncated: str | None = None          # "wrong": a response cut at max_tokens counts wrong; None: the run's
                                          # policy so far (`score --truncated` may have set it), else "grade"
    shard: tuple[int, int] | None = None  # (K, N): generate only shard K of N (mimo_eval/harness/shard.py)
    progress_every: tuple[float, float] = (60.0, 10.0)   # plain progress line (not a terminal): seconds, percent
    limit: int | None = None              # only the first `limit` problems (a smoke test), marked in every record
    chat_template_kwargs: dict | None = None   # e.g. {"enable_thinking": False}: rendered into every prompt


# More samples than any run can hold: a typo such as --n 1000000000 is refused in one line, not by a MemoryError
MAX_SAMPLES = 10_000_000


def load_problems(bench: Benchmark, options: dict) -> list[Problem]:
    unknown = set(options) - set(bench.options)
    if unknown:
        raise ValueError(f"benchmark {bench.name} does not take {', '.join(sorted(unknown))}; "
                         f"it takes: {', '.join(bench.options) or 'no options'}")
    problems = bench.load(**options)
    seen: dict[str, int] = {}
    for position, problem in enumerate(problems, 1):
        if problem.id in seen:   # one id for two problems would merge their samples and lose one from the report
            raise BenchmarkDataError(f"benchmark {bench.name}: problem id {problem.id!r} is used by problems "
                                     f"{seen[problem.id]} and {position}: every problem needs its own id; check the "
                                     "data's id field (LiveCodeBench: question_id)")
        seen[problem.id] = position
    return problems


def check_size(s: RunSettings, problems: list[Problem], n: int) -> None:
    if n < 1:
        raise ValueError(f"n must be >= 1 samples per problem, got {n}")
    if n * len(problems) > MAX_SAMPLES:
        raise ValueError(f"--n {n} x {len(problems)} problems is {n * len(problems):,} generations, more than a run "
                         f"can hold ({MAX_SAMPLES:,}): lower --n")
    if s.out.exists() and not s.out.is_dir():
        raise ValueError(f"--out {s.out} is a file: give the folder that holds run directories (default runs)")


def benchmark_version(problems: list[Problem]) -> str:
    """Hash of exactly what is asked and what counts as right: a changed dataset makes a run incomparable."""
    h = hashlib.sha256()
    for p in problems:
        h.update(json.dumps([p.id, p.prompt, p.reference], sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def build_config(s: RunSettings, bench: Benchmark, problems: list[Problem], backend: Backend, n: int,
                 thinking_opened: bool | None = None) -> dict:
    from importlib import metadata

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    versions = {"mimo-eval": __version__, "python": platform.python_version(),
                **{d: version(d) for d in ("vllm", "transformers", "torch", "math-verify")}, **backend.versions()}
    return {
        "model": s.model, "benchmark": bench.name, "benchmark_version": benchmark_version(problems),
        "benchmark_options": dict(sorted(s.benchmark_options.items())), "num_problems": len(problems),
        "grader": bench.grader, "prompt": bench.prompt, "prompt_sha256": prompt_sha256(bench.prompt),
        "limit": s.limit, "chat_template_kwargs": s.chat_template_kwargs,
        "system_prompt": s.system_prompt, "temperature": s.sampling.temperature, "top_p": s.sampling.top_p,
        "max_tokens": s.sampling.max_tokens, "seed": s.sampling.seed, "n": n,
        "code_mode": s.code_mode if bench.grader == "code" else None,
        "truncated": s.truncated, "shard": shard_label(s.shard),
        "thinking_opened": thinking_opened,   # the rendered prompt ends inside <think>: graded knowing it
        "backend": backend.config(), "generation_options": generation_options(backend.config()),
        "versions": versions,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


# Backend options that change what a sample is, each with the value that changes nothing: the prompt format
# (completion mode sends no chat template), the weights' precision, a context cap that cuts generations short,
# extra request fields (--request, --extra-body: top_k, min_p, stop, reasoning_effort, chat_template_kwargs, ...),
# vLLM's weight and KV-cache quantization.
# Speed-only options (concurrency, timeouts, retries, batch size, device, tensor parallel, GPU memory, speculative
# decoding, whose rejection sampling keeps the distribution) may change between invocations of one run.
RESULT_OPTIONS = {"mode": "chat", "dtype": "auto", "max_model_len": None, "extra_body": {},
                  "quantization": None, "kv_cache_dtype": "auto"}   # the last two: vllm --engine-arg


def generation_options(backend_config: dict) -> dict | None:
    """The result-changing backend options that differ from neutral (a COMPARABLE_KEYS entry); None when all are
    neutral, which is also what a run recorded before this entry existed reads as."""
    settings = {**backend_config, **backend_config.get("llm", {})}   # vllm nests its LLM(...) arguments
    changed = {k: settings[k] for k, neutral in RESULT_OPTIONS.items() if k in settings and settings[k] != neutral}
    return changed or None
