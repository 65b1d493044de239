"""What the harness costs on top of vLLM: `mimo-eval run` with the vllm backend against plain `LLM.generate` on the
same prompts, n, max tokens and per-sample seeds, in the same process on one started engine (so both generate
the same tokens), plus engine start-up times; the backend's own loop without the store is timed too, to tell
the engine loop from the run's bookkeeping. Tiny random Qwen2 (mimo_eval/tiny.py) unless --model is given.

    PYTHONPATH=. VLLM_CPU_KVCACHE_SPACE=1 .venvs/vllm/bin/python tools/bench_vllm.py --quick   # ~1 min on 2 cores
    PYTHONPATH=. VLLM_CPU_KVCACHE_SPACE=1 .venvs/vllm/bin/python tools/bench_vllm.py           # n 8, 256 tokens, 7 rounds

The harness side is `mimo_eval.harness.run.execute` (chat template, per-sample requests streamed through the engine,
each sample appended to samples.jsonl as it finishes, graded by the math grader in worker processes while the
rest generate, summary), into a fresh run directory each round. Rounds alternate plain / harness after a
warm-up, the prefix cache is reset before each, and the median is reported. The last line is the ratio
(target: at most 1.10).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")


def plain(llm, tokenizer, requests, sampling) -> float:
    from vllm import SamplingParams, TokensPrompt

    from mimo_eval.backends.common import prompt_token_ids
    from mimo_eval.backends.vllm import sampling_kwargs

    llm.reset_prefix_cache()
    t0 = time.perf_counter()
    prompts = [TokensPrompt(prompt_token_ids=prompt_token_ids(tokenizer, r)) for r in requests]
    params = [SamplingParams(**sampling_kwargs(r, sampling)) for r in requests]
    outputs = llm.generate(prompts, params, use_tqdm=False)
    assert len(outputs) == len(requests)
    return time.perf_counter() - t0


def backend_only(backend, requests, sampling) -> float:
    """The vllm backend's own loop (per-request add_request/step, each sample yielded as it finishes), no store."""
    backend._llm.reset_prefix_cache()
    t0 = time.perf_counter()
    assert sum(1 for _ in backend.generate(requests, sampling)) == len(requests)
    return time.perf_counter() - t0


def harness(backend, settings, out: Path) -> float:
    import dataclasses

    from mimo_eval.harness.run import execute

    backend._llm.reset_prefix_cache()
    t0 = time.perf_counter()
    execute(dataclasses.replace(settings, out=out), backend)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="a model directory (default: a tiny random Qwen2 built here)")
    ap.add_argument("--quick", action="store_true", help="n 2, 32 tokens, 3 rounds")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=7, help="rounds vary ~10%% on a 2-core machine: 3 do not resolve 1.10")
    args = ap.parse_args()
    if args.quick:
        args.n, args.max_tokens, args.rounds = 2, 32, 3
    with tempfile.TemporaryDirectory(prefix="bench-vllm-") as tmp:
        return bench(args, Path(tmp))


def bench(args, tmp: Path) -> int:
    from mimo_eval.harness.run import RunSettings, messages_for, sample_seed
    from mimo_eval.tiny import build_tiny_model
    from mimo_eval.types import Request, SamplingParams

    model = args.model or build_tiny_model(tmp / "tiny-qwen2", arch="qwen2")
    t0 = time.perf_counter()
    import vllm  # noqa: F401

    import_s = time.perf_counter() - t0
    from benchmarks.registry import get
    from mimo_eval.backends.vllm import VLLMBackend

    backend = VLLMBackend(model=model, engine_kwargs={"enforce_eager": True})
    t0 = time.perf_counter()
    llm = backend._engine()
    start_s = time.perf_counter() - t0
    sampling = SamplingParams(temperature=0.6, top_p=0.95, max_tokens=args.max_tokens, seed=0)
    problems = get("aime24").load()
    requests = [Request(problem_id=p.id, sample_index=i, messages=messages_for(p, ""),
                        seed=sample_seed(0, p.id, i)) for p in problems for i in range(args.n)]
    settings = RunSettings(benchmark="aime24", model=model, n=args.n, sampling=sampling, progress=False)
    tokenizer = llm.get_tokenizer()
    plain(llm, tokenizer, requests, sampling)   # warm-up: first-call allocations, grader workers below
    harness(backend, settings, tmp / "warm")
    times = {"plain": [], "backend": [], "harness": []}
    for k in range(args.rounds):
        times["plain"].append(plain(llm, tokenizer, requests, sampling))
        times["backend"].append(backend_only(backend, requests, sampling))
        times["harness"].append(harness(backend, settings, tmp / f"round{k}"))
    p, b, h = (statistics.median(times[k]) for k in ("plain", "backend", "harness"))
    load = os.getloadavg()[0]
    print(f"model {model}; {len(problems)} AIME prompts x n {args.n}, {args.max_tokens} max tokens, "
          f"T 0.6, per-sample seeds; {args.rounds} round(s); load average {load:.1f}")
    print("| measure | seconds |\n|---|---|")
    print(f"| import vllm | {import_s:.1f} |\n| engine start-up (LLM(...), enforce_eager) | {start_s:.1f} |")
    for key, label in (("plain", "plain LLM.generate"), ("backend", "vllm backend's generate alone (no store)"),
                       ("harness", "mimo-eval run (execute: store, grading, summary)")):
        print(f"| {label}, median | {statistics.median(times[key]):.2f} "
              f"(rounds: {', '.join(f'{t:.2f}' for t in times[key])}) |")
    paired = [hk / pk for hk, pk in zip(times["harness"], times["plain"])]   # the same round's conditions
    print(f"store + grading over the backend alone: {h / b:.3f}")
    print(f"harness / plain wall ratio: {h / p:.3f} (median of rounds); {statistics.median(paired):.3f} "
          f"(median of per-round ratios: {', '.join(f'{r:.2f}' for r in paired)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
