"""GPU check of the bundled loop: a config-built ~100M-parameter Llama, a few GRPO steps with the hf engine on the
toy task; prints step time, generated tokens/s and peak GPU memory. Needs CUDA; nothing is downloaded.

    python tools/gpu_check.py --steps 4            # writes runs/gpu_check/metrics.jsonl

NOT YET RUN ON HARDWARE (no GPU was lent to the session that wrote it).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# hidden 768, 12 layers, 12 heads (GPT-2 small's shape): ~85M parameters without embeddings at this vocabulary
MODEL = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
         "num_key_value_heads": 12, "max_position_embeddings": 512}


def main() -> int:
    import torch

    from mimo_eval.rl.config import load_config
    from mimo_eval.rl.trainer import train

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--new-tokens", type=int, default=128)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: this check needs a GPU", file=sys.stderr)
        return 2
    out = ROOT / "runs" / "gpu_check"
    shutil.rmtree(out, ignore_errors=True)
    cfg = load_config(ROOT / "examples" / "rl_toy.yaml", {
        "model_config": MODEL, "output_dir": str(out), "steps": args.steps, "save_every": args.steps,
        "max_new_tokens": args.new_tokens, "train_batch": 16, "mini_batch": 4, "group_size": 8, "lr": 1e-5,
        "max_gen_rounds": 2, "dynamic_sampling": False, "progress": False, "deterministic": False})
    torch.cuda.reset_peak_memory_stats()
    train(cfg)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    params = sum(p.numel() for p in torch.load(out / f"checkpoint-{args.steps}" / "state.pt",
                                               weights_only=False)["model"].values())
    print(f"{torch.cuda.get_device_name()}  {params / 1e6:.0f}M parameters, bf16, gradient checkpointing")
    print("| step | step s | gen s | train s | generated tokens/s | response tokens |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        tokens = r["completions/mean_length"] * r["groups/generated"] * cfg.group_size
        print(f"| {r['step']} | {r['timing/step']:.2f} | {r['timing/gen']:.2f} | {r['timing/train']:.2f} "
              f"| {tokens / r['timing/gen']:.0f} | {r['tokens/response']} |")
    print(f"peak GPU memory: {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
