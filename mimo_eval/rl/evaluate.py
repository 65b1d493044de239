"""Evaluation during training through the harness's own code path (`mimo_eval.harness.run.execute`): the same prompts,
per-sample seeds, grading and pass@1 as `mimo-eval run`, on the policy as it is at that step.

Generation goes through the rollout engine, as a harness Backend over the engine's model (`eval_backend`): for the
`hf` engine, `HFBackend` around the policy module itself; any other engine plugs in by offering
`eval_backend(name) -> Backend` (a vLLM engine: the harness's vLLM backend around its `LLM`). Each
evaluation is an ordinary run directory, `output_dir/eval/step_N/<model>__<benchmark>/`, so `mimo-eval show`,
`compare` and `leaderboard` read it, and an evaluation cut short resumes when the step is evaluated again.

    eval_every: 50
    eval_benchmarks: {aime24: 0, math500: 100}     # name -> first K problems (0 = all)
"""
from __future__ import annotations

import json
from pathlib import Path

from mimo_eval.rl.config import ConfigError, RLConfig


def evaluate(engine, cfg: RLConfig, step: int, run_dir: Path) -> dict[str, float]:
    """`val/<benchmark>/pass@1` (percent, as the harness reports it) for each configured benchmark."""
    from mimo_eval.harness.run import RunSettings, execute
    from mimo_eval.types import SamplingParams

    backend = eval_backend(engine, f"step_{step}")
    sampling = SamplingParams(temperature=cfg.eval_temperature, top_p=cfg.eval_top_p,
                              max_tokens=cfg.eval_max_new_tokens or cfg.max_new_tokens, seed=cfg.seed)
    out = {}
    for name, limit in cfg.eval_benchmarks.items():
        settings = RunSettings(benchmark=name, model=f"step_{step}", out=run_dir / "eval" / f"step_{step}",
                               n=cfg.eval_n, sampling=sampling, limit=limit or None, progress=False)
        summary = json.loads((execute(settings, backend) / "summary.json").read_text())
        out[f"val/{name}/pass@1"] = summary["pass@1"]
    return out


def eval_backend(engine, name: str):
    from mimo_eval.backends.hf import HFBackend
    from mimo_eval.rl.engines import HFEngine

    if isinstance(engine, HFEngine):
        return HFBackend.from_loaded(engine.model, engine.tokenizer, name=name)
    if hasattr(engine, "eval_backend"):
        return engine.eval_backend(name)
    raise ConfigError(f"eval_every: the {type(engine).__name__} rollout engine offers no eval_backend(name); "
                      "evaluate with engine: hf or vllm")
