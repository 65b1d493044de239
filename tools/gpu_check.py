"""The prepared check for a lent GPU machine (H100/H200, torch and transformers, no network): a few `mimo-eval train`
steps of a config-built ~100M-parameter Llama on the toy task at the config's GPU precision (dtype auto: bf16 on
CUDA), with step time, generated and trained tokens/s and peak GPU memory; then, only where vLLM is importable,
the vLLM rollout engine (the same steps with `engine: vllm`, and the log-prob gap to the trainer after the weight
sync) and the evaluation backend (`mimo-eval run aime24 --backend vllm` on a ~100M Qwen2 with the BPE tokenizer).
Nothing is downloaded; the whole check stays under 8 minutes on one H100.

    python tools/gpu_check.py                     # on the GPU machine; --out results/gpu_check.md to keep the table
    python tools/gpu_check.py --cpu               # reduced: toy-sized model, 2 steps, on CPU (what CI runs)

NOT YET RUN ON A GPU: no GPU was lent to the sessions that wrote it; the reduced mode runs in the test suite
(tests/test_rl_gpu.py, and with vLLM's CPU build in tests/vllm_cpu/check_rl_engine.py).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# hidden 768, 12 layers, 12 heads of 64 (GPT-2 small's shape): ~113M parameters in the blocks
GPU_SHAPE = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
             "num_key_value_heads": 12, "max_position_embeddings": 512}
GPU_RUN = {"train_batch": 16, "mini_batch": 4, "group_size": 8, "lr": 1e-5, "max_new_tokens": 128,
           "max_gen_rounds": 2, "dynamic_sampling": False}
CPU_RUN = {"train_batch": 4, "mini_batch": 4, "group_size": 4, "max_gen_rounds": 1, "dynamic_sampling": False}


def train_table(cfg, run_dir: Path, lines: list[str], label: str) -> None:
    from mimo_eval.rl.trainer import train

    train(cfg)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    lines += [f"\n{label}\n", "| step | step s | gen s | train s | generated tokens/s | trained tokens/s |",
              "|---|---|---|---|---|---|"]
    for r in rows:
        generated = r["completions/mean_length"] * r["groups/generated"] * cfg.group_size
        lines.append(f"| {r['step']} | {r['timing/step']:.2f} | {r['timing/gen']:.2f} | {r['timing/train']:.2f} "
                     f"| {generated / r['timing/gen']:.0f} | {r['tokens/response'] / r['timing/train']:.0f} |")


def vllm_engine(cfg, lines: list[str]) -> None:
    """Two steps with the vLLM engine, then the log-prob gap between engine and trainer on the last rollouts."""
    import torch

    from mimo_eval.rl import algo
    from mimo_eval.rl.trainer import GRPOLoop

    loop = GRPOLoop(cfg)
    try:
        for _ in range(2):
            loop.train_step()
        prompt = loop.scheduler.encode(loop.problems[0])
        seqs = [tuple(prompt) + r.completion_ids for r in loop.engine.generate([prompt], 4)[0]]
        gaps = []
        for seq, theirs in zip(seqs, loop.engine.score(seqs)):
            ids = torch.tensor([seq], device=loop.model.device)
            with torch.no_grad():
                ours, _ = algo.response_logprobs(loop.model, ids, torch.ones_like(ids), torch.ones_like(ids[:, 1:]))
            gaps.append(max(abs(a - b) for a, b in zip(ours[0].tolist(), theirs)))
        lines.append(f"\nvLLM engine: 2 steps, then max |log-prob gap| engine vs trainer: {max(gaps):.2e} "
                     f"({loop.model.dtype}; sleep mode {'on' if loop.engine.sleeps else 'off'})")
    finally:
        loop.close()
        del loop
        free_memory()


def free_memory() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def vllm_backend(tmp: Path, shape: dict, lines: list[str]) -> None:
    from mimo_eval.tiny import build_tiny_model

    model = build_tiny_model(tmp / "qwen2", arch="qwen2", **shape)
    cmd = [sys.executable, "-m", "mimo_eval.cli", "run", "aime24", "--model", model, "--backend", "vllm", "--n", "2",
           "--max-tokens", "128", "--out", str(tmp / "runs"), "--no-progress", "--engine-arg", "enforce_eager=true",
           "--gpu-memory-utilization", "0.3"]   # this process may still hold the trainer's memory
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    status = "ok" if proc.returncode == 0 else f"FAILED ({proc.stderr.strip().splitlines()[-1:]})"
    lines.append(f"\nvLLM backend: mimo-eval run aime24 (60 samples, 128 tokens, engine start-up included): "
                 f"{time.perf_counter() - t0:.1f} s, {status}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--cpu", action="store_true", help="reduced mode: toy-sized model, 2 steps, no GPU needed")
    ap.add_argument("--out", type=Path, help="also write the table here (e.g. results/gpu_check.md)")
    args = ap.parse_args()
    import torch

    from mimo_eval.rl.config import load_config

    if not args.cpu and not torch.cuda.is_available():
        print("no CUDA device: run with --cpu for the reduced check", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        tmp = Path(tmp)
        steps = 2 if args.cpu else args.steps
        over = {**(CPU_RUN if args.cpu else {**GPU_RUN, "model_config": GPU_SHAPE}), "steps": steps,
                "save_every": steps, "progress": False, "output_dir": str(tmp / "hf")}
        cfg = load_config(ROOT / "examples" / "rl_toy.yaml", over)
        device = "CPU (reduced mode)" if args.cpu else torch.cuda.get_device_name()
        lines = [f"# GPU check: {device}, torch {torch.__version__}"]
        if not args.cpu:
            torch.cuda.reset_peak_memory_stats()
        train_table(cfg, tmp / "hf", lines, f"mimo-eval train, hf engine, {steps} steps (shape {cfg.model_config})")
        if not args.cpu:
            lines.append(f"\npeak GPU memory (hf engine run): {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")
            free_memory()
        if importlib.util.find_spec("vllm") is None:
            lines.append("\nvLLM: not installed here, its engine and backend were skipped")
        else:
            vllm_cfg = load_config(ROOT / "examples" / "rl_toy.yaml", {
                **over, "engine": "vllm", "output_dir": str(tmp / "vllm"),
                "vllm_kwargs": {"enforce_eager": True} if args.cpu else {}})
            vllm_engine(vllm_cfg, lines)
            vllm_backend(tmp, {} if args.cpu else {**GPU_SHAPE, "max_position_embeddings": 4096}, lines)
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
