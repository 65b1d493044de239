"""Tiny causal LMs built from a config, for tests, examples and CPU smoke runs of every engine: nothing is downloaded.

    python -m mimo_eval.tiny runs/tiny-qwen2 --arch qwen2      # a save_pretrained directory (model + tokenizer)
    mimo-eval run aime24 --model runs/tiny-qwen2 --backend vllm --n 2 --max-tokens 32

The tokenizer is a byte-level BPE (vocabulary ~400) trained on a few sentences, with a ChatML chat template that
writes its own BOS (raw text gets one from the tokenizer). The model is a random Qwen2 or Llama of 2 layers, hidden
size 64 and 2 heads of 32: vLLM's CPU attention takes head sizes 32 to 512, so nothing smaller. Embeddings are
untied by default; `tied=True` shares the input embedding with the output head (the case vLLM's weight reload
must be told about: mimo_eval/rl/engines.py). `--arch mimo` is the Qwen2 model plus one random MTP layer in
MiMo-7B's checkpoint layout (`MiMoForCausalLM`, `model.mtp_layers.0.*`), which vLLM runs as a speculative draft
(`--num-speculative-tokens 1`); transformers loads it as the plain Qwen2 model.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

CHAT_TEMPLATE = (  # writes its own BOS, like Llama 3's: tokenizing the rendered text must not add another
    "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CORPUS = [
    "What is 1 + 1? Please reason step by step, and put your final answer within \\boxed{}.",
    "The answer is \\boxed{2}. def solve(): return sum(map(int, input().split()))",
    "system user assistant",
] * 10
SPECIAL = ["<s>", "<pad>", "<|im_start|>", "<|im_end|>"]
ARCHS = {"llama": ("LlamaConfig", "LlamaForCausalLM"), "qwen2": ("Qwen2Config", "Qwen2ForCausalLM")}
# head_dim = hidden_size / num_attention_heads = 32, the smallest vLLM's CPU attention supports
SHAPE = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2,
         "num_key_value_heads": 1, "max_position_embeddings": 8192}


def build_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=SPECIAL, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(CORPUS, trainer)
    bos_id = tokenizer.token_to_id("<s>")
    tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", bos_id)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="<|im_end|>",
                                   pad_token="<pad>")
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_model(tokenizer, *, arch: str = "llama", tied: bool = False, seed: int = 0, **shape):
    """A random `arch` model for `tokenizer`'s vocabulary, in fp32; `shape` overrides SHAPE's keys."""
    import torch
    import transformers

    if arch not in ARCHS:
        raise ValueError(f"arch {arch!r}: choose one of {', '.join(ARCHS)}")
    config_cls, model_cls = (getattr(transformers, name) for name in ARCHS[arch])
    config = config_cls(vocab_size=len(tokenizer), tie_word_embeddings=tied, bos_token_id=tokenizer.bos_token_id,
                        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                        torch_dtype="float32", **{**SHAPE, **shape})
    torch.manual_seed(seed)
    return model_cls(config)


def save(model, tokenizer, directory: Path | str) -> str:
    """`save_pretrained` of both into one directory, which vLLM, transformers and the harness all load."""
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return str(directory)


def build_tiny_model(directory: Path | str, seed: int = 0, *, arch: str = "llama", tied: bool = False,
                     **shape) -> str:
    """Build and save a tiny model with the BPE tokenizer; returns the directory (for `--model`)."""
    tokenizer = build_tokenizer()
    return save(build_model(tokenizer, arch=arch, tied=tied, seed=seed, **shape), tokenizer, directory)


def add_mtp_layer(directory: Path | str, seed: int = 0) -> None:
    """Turn a saved tiny Qwen2 into MiMo's layout: one MTP layer (a decoder block, its two input norms, the
    projection of [hidden; embedding] and a final norm, stored without vLLM's `mtp_block` wrapper)."""
    import torch
    from safetensors.torch import load_file, save_file

    directory = Path(directory)
    weights = load_file(directory / "model.safetensors")
    hidden = SHAPE["hidden_size"]
    generator = torch.Generator().manual_seed(seed)
    mtp = {name.replace("model.layers.0.", "model.mtp_layers.0.", 1): tensor
           for name, tensor in weights.items() if name.startswith("model.layers.0.")}
    mtp = {name: torch.randn(t.shape, generator=generator) * 0.02 if name.endswith("proj.weight") else t.clone()
           for name, t in mtp.items()}
    for norm in ("token_layernorm", "hidden_layernorm", "final_layernorm"):
        mtp[f"model.mtp_layers.0.{norm}.weight"] = torch.ones(hidden)
    mtp["model.mtp_layers.0.input_proj.weight"] = torch.randn(hidden, 2 * hidden, generator=generator) * 0.02
    save_file({**weights, **mtp}, directory / "model.safetensors", metadata={"format": "pt"})
    config = json.loads((directory / "config.json").read_text())
    config.update(architectures=["MiMoForCausalLM"], num_nextn_predict_layers=1)
    (directory / "config.json").write_text(json.dumps(config, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="write a tiny random model + tokenizer directory (no download)")
    ap.add_argument("directory", type=Path)
    ap.add_argument("--arch", choices=(*ARCHS, "mimo"), default="llama", help="mimo: qwen2 + one MTP layer")
    ap.add_argument("--tied", action="store_true", help="share the input embedding with the output head")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    arch = "qwen2" if args.arch == "mimo" else args.arch
    print(build_tiny_model(args.directory, args.seed, arch=arch, tied=args.tied))
    if args.arch == "mimo":
        add_mtp_layer(args.directory, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
