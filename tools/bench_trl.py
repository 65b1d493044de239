"""Our loop vs TRL 1.16.0 GRPOTrainer on CPU, on the same work: the toy model (config-built, seeded alike), the toy
data, our math reward through the reward pool, G = 8, 8 prompts a step, AdamW lr 0.01, eps 0.2 / 0.28, no KL,
token-level loss, 2 new tokens. Prints a table: steps/s, completions/s, mean reward of the first and last 10 steps.

    python tools/bench_trl.py --steps 60 --seeds 0 1 2

Rows: "ours, matched" turns off what TRL lacks (dynamic sampling, easy pool), so both do the same work per step;
"ours, MiMo recipe" keeps them (more generation per step, only informative groups). Absolute speeds depend on the
machine's load; compare within one run.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EXAMPLE = ROOT / "examples" / "rl_toy.yaml"


def ours(seed: int, steps: int, matched: bool, pool) -> dict:
    from mimo_eval.rl.config import load_config
    from mimo_eval.rl.trainer import train

    out = Path(tempfile.mkdtemp(prefix="bench_ours_"))
    over = {"seed": seed, "steps": steps, "save_every": steps, "output_dir": str(out), "progress": False, "eval_every": 0}
    if matched:
        over.update(dynamic_sampling=False, easy_alpha=0.0, rollout_chunk=8, max_gen_rounds=1)
    start = time.perf_counter()
    train(load_config(EXAMPLE, over), rewards=pool)
    wall = time.perf_counter() - start
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    shutil.rmtree(out)
    completions = sum(r["groups/generated"] for r in rows) * 8
    return _row(wall, steps, completions, [r["reward/mean"] for r in rows])


def trl(seed: int, steps: int) -> dict:
    import datasets
    from trl import GRPOConfig, GRPOTrainer

    from graders.rewards.routing import register
    from graders.rewards.trl import make_reward
    from mimo_eval.rl.config import load_config
    from mimo_eval.rl.policy import build_model, build_tokenizer

    register("toy_add", "math")
    cfg = load_config(EXAMPLE, {"seed": seed})
    tokenizer = build_tokenizer(cfg)
    model = build_model(cfg, tokenizer)  # the same seeded initial weights as our loop's
    rows = [json.loads(line) for line in (EXAMPLE.parent / "rl_toy" / "train.jsonl").read_text().splitlines()]
    data = datasets.Dataset.from_list([{"prompt": r["prompt"], "data_source": r["data_source"],
                                        "ground_truth": r["reward_model"]["ground_truth"]} for r in rows])
    out = tempfile.mkdtemp(prefix="bench_trl_")
    args = GRPOConfig(output_dir=out, use_cpu=True, seed=seed, max_steps=steps, learning_rate=cfg.lr,
                      lr_scheduler_type="constant", warmup_steps=0, max_grad_norm=1.0, beta=0.0, epsilon=0.2,
                      epsilon_high=0.28, loss_type="dapo", num_generations=8, per_device_train_batch_size=64,
                      gradient_accumulation_steps=1, steps_per_generation=1, temperature=1.0, top_p=1.0,
                      max_completion_length=2, logging_steps=1, save_strategy="no", report_to="none",
                      disable_tqdm=True, dataloader_num_workers=0)
    trainer = GRPOTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer,
                          reward_funcs=[make_reward("ground_truth")])
    start = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - start
    shutil.rmtree(out)
    rewards = [h["reward"] for h in trainer.state.log_history if "reward" in h]
    return _row(wall, steps, steps * 64, rewards)


def _row(wall: float, steps: int, completions: int, rewards: list[float]) -> dict:
    return {"steps_per_s": steps / wall, "completions_per_s": completions / wall,
            "first10": sum(rewards[:10]) / 10, "last10": sum(rewards[-10:]) / 10}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    from graders.rewards.pool import RewardPool

    print("| system | seed | steps/s | completions/s | reward first 10 | reward last 10 |")
    print("|---|---|---|---|---|---|")
    with RewardPool(workers=2) as pool:
        for seed in args.seeds:
            for name, run in (("TRL 1.16.0 GRPOTrainer", lambda: trl(seed, args.steps)),
                              ("ours, matched", lambda: ours(seed, args.steps, True, pool)),
                              ("ours, MiMo recipe", lambda: ours(seed, args.steps, False, pool))):
                r = run()
                print(f"| {name} | {seed} | {r['steps_per_s']:.2f} | {r['completions_per_s']:.1f} "
                      f"| {r['first10']:.3f} | {r['last10']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
