"""The toy verifiable task of the bundled example and the CPU tests: no download, no GPU.

"Q a + b A" -> the answer is a + b (a in 0..9, b in 0..1, 19 prompts; benchmarks/toy_add.py), written as a boxed
number and graded by the real math grader in reward mode (a box is required; two different boxes score 0). The
tokenizer is built in code: a word-level vocabulary where each boxed answer `\\boxed{n}` is one token, so a random
0.1M-parameter Llama already gets some answers right and GRPO has mixed groups to learn from in minutes on CPU.

    python -m mimo_eval.rl.toy examples/rl_toy/train.jsonl   # rewrite the bundled data file
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

DIGITS = [str(d) for d in range(10)]
BOXES = [f"\\boxed{{{d}}}" for d in range(10)]
WORDS = ["Q", "A", "+", "so", "the", "answer", "is"]
SPECIAL = ["<pad>", "<s>", "</s>", "<unk>"]
CHAT_TEMPLATE = "{{ bos_token }}{% for m in messages %}{{ m['content'] }} {% endfor %}"
DATA_SOURCE = "toy_add"


def build_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(SPECIAL + WORDS + DIGITS + BOXES)}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # joins words with spaces
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>", unk_token="<unk>")
    fast.chat_template = CHAT_TEMPLATE
    return fast


def rows() -> list[dict]:
    """The problems of benchmarks/toy_add.py in verl's RL layout (the harness evaluates the same task)."""
    from benchmarks import toy_add

    return [{"data_source": DATA_SOURCE, "prompt": [{"role": "user", "content": p.prompt}], "ability": "math",
             "reward_model": {"style": "rule", "ground_truth": p.reference}, "extra_info": {"index": i}}
            for i, p in enumerate(toy_add.load())]


def write_dataset(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows()))


if __name__ == "__main__":
    write_dataset(Path(sys.argv[1]))
