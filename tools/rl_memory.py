"""Peak GPU memory of the bundled loop's training step, per model size: an estimate from the model's shape, and a
measurement where CUDA is present. Prints a markdown table; docs/training.md's table is this script's output.

    python tools/rl_memory.py                                  # estimate, Qwen2.5-0.5B / 1.5B and MiMo-7B shapes
    python tools/rl_memory.py --tokens 16384 --micro-batch 1   # other sequence length / sequences per forward
    python tools/rl_memory.py --measure                        # also measure one step on CUDA (config-built model)

The estimate, bytes per parameter P and per token N of one micro-batch (precision bf16-mixed, AdamW, gradient
checkpointing on, response-only chunked log-probs): fp32 weights 4P, fp32 gradients 4P, AdamW state 8P, the bf16
copies autocast caches 2P; activations 2*L*H*N (one bf16 hidden state per layer kept by checkpointing) plus one
layer recomputed, ~2*N*(6H + 3I); the LM head 12*chunk*V (fp32 logits, log-softmax and their gradient for one
chunk), where the loop before took fp32 log-softmax over the full vocabulary at every position, 4*N*V bytes
per copy (shown in brackets). Not counted: the rollout engine's KV cache (the hf engine generates with the same
weights; vLLM takes vllm_gpu_memory_utilization of the GPU), a frozen reference (beta > 0: +2P), allocator
fragmentation. What does not fit one GPU is what `mimo-eval export verl` is for (FSDP shards weights, gradients and
optimiser state).
Shapes are the models' published config.json values; nothing is downloaded (the model is built on torch's meta
device to count parameters).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHAPES = {  # name: (hidden, intermediate, layers, heads, kv heads, vocab, tied embeddings)
    "Qwen2.5-0.5B": (896, 4864, 24, 14, 2, 151936, True),
    "Qwen2.5-1.5B": (1536, 8960, 28, 12, 2, 151936, True),
    "MiMo-7B": (4096, 11008, 36, 32, 8, 151680, False),
}
GIB = 2 ** 30


def llama_config(shape):
    from transformers import LlamaConfig

    h, i, layers, heads, kv, vocab, tied = shape
    return LlamaConfig(hidden_size=h, intermediate_size=i, num_hidden_layers=layers, num_attention_heads=heads,
                       num_key_value_heads=kv, vocab_size=vocab, tie_word_embeddings=tied)


def parameters(shape) -> int:
    import torch
    from transformers import LlamaForCausalLM

    with torch.device("meta"):
        return sum(p.numel() for p in LlamaForCausalLM(llama_config(shape)).parameters())


def estimate(shape, tokens: int, chunk: int) -> dict[str, float]:
    h, i, layers, _, _, vocab, _ = shape
    p = parameters(shape)
    activations = 2 * layers * h * tokens + 2 * tokens * (6 * h + 3 * i)
    return {"params": p, "states": 18 * p / GIB, "activations": activations / GIB,
            "head": 12 * min(chunk, tokens) * vocab / GIB, "full_vocab": 4 * tokens * vocab / GIB}


def measure(shape, tokens: int, chunk: int) -> float:
    """One forward/backward/AdamW step of the loop's own code on CUDA: torch.cuda.max_memory_allocated, GiB."""
    import torch
    from transformers import LlamaForCausalLM

    from mimo_eval.rl import algo

    torch.cuda.reset_peak_memory_stats()
    model = LlamaForCausalLM(llama_config(shape)).cuda()
    model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)
    ids = torch.randint(0, shape[5], (1, tokens), device="cuda")
    mask = torch.ones(1, tokens - 1, device="cuda")
    with torch.autocast("cuda", dtype=torch.bfloat16):
        logp, _ = algo.response_logprobs(model, ids, torch.ones_like(ids), mask, chunk=chunk)
    (logp * mask).sum().backward()
    optimizer.step()
    peak = torch.cuda.max_memory_allocated() / GIB
    del model, optimizer
    torch.cuda.empty_cache()
    return peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=9216, help="prompt + response tokens in one micro-batch")
    ap.add_argument("--chunk", type=int, default=1024, help="logprob_chunk")
    ap.add_argument("--measure", action="store_true", help="also measure on CUDA")
    args = ap.parse_args()
    print(f"| model | parameters | weights + grads + AdamW + bf16 copies | activations ({args.tokens} tokens) "
          f"| LM head chunk (one fp32 [N, V] copy before) | estimate | fits one 80 GB GPU |"
          + (" measured |" if args.measure else ""))
    print("|---|---|---|---|---|---|---|" + ("---|" if args.measure else ""))
    for name, shape in SHAPES.items():
        e = estimate(shape, args.tokens, args.chunk)
        total = e["states"] + e["activations"] + e["head"]
        fits = "yes" if total < 80 * 0.9 else "no: export verl (FSDP)"
        row = (f"| {name} | {e['params'] / 1e9:.2f}B | {e['states']:.1f} GiB | {e['activations']:.1f} GiB "
               f"| {e['head']:.1f} GiB ({e['full_vocab']:.1f} GiB) | {total:.1f} GiB | {fits} |")
        if args.measure:
            row += f" {measure(shape, args.tokens, args.chunk):.1f} GiB |" if total < 76 else " - |"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
