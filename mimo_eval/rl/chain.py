"""A rollout workload whose response lengths and pass rates are known: a tiny Llama whose weights are set by hand so
that it samples from a Markov chain over whole-word tokens. vLLM runs it as any Llama (attention, KV cache,
per-request seeds, continuous batching); only the distribution it samples is designed, so the rollout benchmark
(tools/bench_rollout.py) and the scheduler checks on vLLM's CPU build can ask for heavy-tailed lengths and mixed
pass rates, which a random tiny model cannot give (its pass rate is 0).

How: the embedding is one-hot, every attention and MLP output projection is zero (the residual stream is the
current token's one-hot), the final norm's weight undoes RMSNorm's scaling, and the output head holds
log P(next | current). So the model is a bigram chain:

    prompt "Q p<i>"  ->  t<i>.<k> (length class k, by weight)  ->  t<i>.<k> again with 1 - 1/mean_k, else
    ->  an answer: \\boxed{d} (math) or a program (code), right with problem i's pass rate  ->  </s>

Lengths are a mixture of geometric distributions (heavy-tailed, capped by max_tokens); a prompt ending in any other
token (a LiveCodeBench prompt, say) follows a generic chain whose answers are stdin programs. Math answers are
graded by the math grader, programs by the code grader in the sandbox, as real rewards.

    python -m mimo_eval.rl.chain runs/chain        # model, tokenizer and train.jsonl (verl layout)
"""
from __future__ import annotations

import json
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path

SPECIAL = ["<pad>", "<s>", "</s>", "<unk>"]
# (weight, mean thinking length): a long tail, as in long-CoT RL where a share of responses reach the length cap
LENGTHS = ((0.85, 24.0), (0.15, 160.0))
WRONG_PROGRAM = "```python\na, b = map(int, input().split())\nprint(a - b)\n```"
GENERIC_PROGRAMS = ("```python\nprint(input())\n```",
                    "```python\nimport sys\nprint(len(sys.stdin.read().split()))\n```")
TESTS = (("1 2\n", 3), ("5 7\n", 12))   # code problem i: print a + b + i
CHAT_TEMPLATE = "{{ bos_token }}{% for m in messages %}{{ m['content'] }} {% endfor %}"


@dataclass(frozen=True)
class ChainProblem:
    kind: str                      # "math" or "code"
    pass_rate: float
    answer: int = 0                # math: the boxed digit; code: the offset the right program adds
    lengths: tuple[tuple[float, float], ...] = LENGTHS   # (weight, mean); mean inf = never stops by itself


def mixed_problems(n_math: int, n_code: int, seed: int = 0) -> list[ChainProblem]:
    """Pass rates spread over the mixture 0 (25%), 1 (15%), Beta(2, 2) (60%) at evenly spaced quantiles, so a
    dozen problems already have its shape; which problem gets which rate, and the math answers, follow `seed`."""
    n = n_math + n_code
    rates = [_mixture_quantile((k + 0.5) / n) for k in range(n)]
    rng = random.Random(seed)
    rng.shuffle(rates)
    return ([ChainProblem("math", rates[i], rng.randrange(10)) for i in range(n_math)]
            + [ChainProblem("code", rates[n_math + i], i) for i in range(n_code)])


def _mixture_quantile(q: float) -> float:
    if q < 0.25:
        return 0.0
    if q >= 0.85:
        return 1.0
    target, lo, hi = (q - 0.25) / 0.6, 0.0, 1.0
    for _ in range(40):   # Beta(2, 2)'s CDF is 3x^2 - 2x^3
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if 3 * mid ** 2 - 2 * mid ** 3 < target else (lo, mid)
    return round(lo, 4)


def right_program(offset: int) -> str:
    return f"```python\na, b = map(int, input().split())\nprint(a + b + {offset})\n```"


def vocabulary(problems: list[ChainProblem]) -> list[str]:
    return (SPECIAL + ["Q"] + [f"p{i}" for i in range(len(problems))]
            + [f"t{i}.{k}" for i, p in enumerate(problems) for k in range(len(p.lengths))]
            + [f"t.{k}" for k in range(len(LENGTHS))] + [f"\\boxed{{{d}}}" for d in range(10)]
            + sorted({right_program(p.answer) for p in problems if p.kind == "code"}) + [WRONG_PROGRAM]
            + list(GENERIC_PROGRAMS))


def transitions(problems: list[ChainProblem], vocab: list[str]):
    """P[next, current], every column a distribution."""
    import torch

    ids = {t: i for i, t in enumerate(vocab)}
    P = torch.zeros(len(vocab), len(vocab), dtype=torch.float64)

    def enter(current: str, prefix: str, lengths) -> None:   # current -> a length class
        P[:, ids[current]] = 0
        for k, (weight, _) in enumerate(lengths):
            P[ids[f"{prefix}.{k}"], ids[current]] = weight

    def think(prefix: str, lengths, answers: dict[str, float]) -> None:   # stay, or answer
        for k, (_, mean) in enumerate(lengths):
            state = ids[f"{prefix}.{k}"]
            stay = 1.0 if math.isinf(mean) else 1 - 1 / mean
            P[:, state] = 0
            P[state, state] = stay
            for answer, share in answers.items():
                P[ids[answer], state] += (1 - stay) * share

    for token in vocab:   # any prompt: the generic chain
        enter(token, "t", LENGTHS)
    think("t", LENGTHS, {p: 1 / len(GENERIC_PROGRAMS) for p in GENERIC_PROGRAMS})
    for i, p in enumerate(problems):
        enter(f"p{i}", f"t{i}", p.lengths)
        think(f"t{i}", p.lengths, _answers(p))
    for answer in vocab:
        if answer.startswith(("\\boxed", "```")):
            P[:, ids[answer]] = 0
            P[ids["</s>"], ids[answer]] = 1
    return P


def _answers(p: ChainProblem) -> dict[str, float]:
    if p.kind == "code":
        return {right_program(p.answer): p.pass_rate, WRONG_PROGRAM: 1 - p.pass_rate}
    wrong = [f"\\boxed{{{d}}}" for d in range(10) if d != p.answer]
    return {f"\\boxed{{{p.answer}}}": p.pass_rate, **{w: (1 - p.pass_rate) / len(wrong) for w in wrong}}


def build_tokenizer(vocab: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel(vocab={t: i for i, t in enumerate(vocab)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.decoder = decoders.WordPiece(prefix="##", cleanup=False)   # joins tokens with spaces
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>")
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_model(problems: list[ChainProblem], vocab: list[str]):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    V = len(vocab)
    # one-hot embeddings, so hidden >= vocabulary; heads of 32, the smallest vLLM's CPU attention takes. Up to 64
    # tokens this is mimo_eval/tiny.py's shape (hidden 64, 2 layers): a step's cost is then mostly per step, not per
    # sequence, as a GPU's decode step is (a wider model here makes the CPU's per-sequence compute dominate)
    H = max(64, 32 * math.ceil(V / 32))
    ids = {t: i for i, t in enumerate(vocab)}
    config = LlamaConfig(vocab_size=V, hidden_size=H, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=H // 32, num_key_value_heads=H // 32, max_position_embeddings=4096,
                         tie_word_embeddings=False, bos_token_id=ids["<s>"], eos_token_id=ids["</s>"],
                         pad_token_id=ids["<pad>"], torch_dtype="float32")
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    logp = transitions(problems, vocab).clamp_min(1e-30).log().clamp_min(-60).float()   # [V next, V current]
    with torch.no_grad():
        model.model.embed_tokens.weight.zero_()
        model.model.embed_tokens.weight[:, :V] = torch.eye(V)
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        model.model.norm.weight.fill_(H ** -0.5)   # RMSNorm of a one-hot is sqrt(H) times it
        model.lm_head.weight.zero_()
        model.lm_head.weight[:, :V] = logp
    return model


def rows(problems: list[ChainProblem]) -> list[dict]:
    """The problems in verl's RL layout: data_source chain_math / chain_code (route them to math and code)."""
    out = []
    for i, p in enumerate(problems):
        truth = (str(p.answer) if p.kind == "math" else
                 json.dumps({"inputs": [x for x, _ in TESTS], "outputs": [f"{y + p.answer}\n" for _, y in TESTS]}))
        out.append({"data_source": f"chain_{p.kind}", "prompt": [{"role": "user", "content": f"Q p{i}"}],
                    "reward_model": {"style": "rule", "ground_truth": truth},
                    "extra_info": {"index": i, "pass_rate": p.pass_rate}})
    return out


def write(directory: Path | str, problems: list[ChainProblem]) -> Path:
    """Model and tokenizer (save_pretrained) and train.jsonl in `directory`."""
    directory = Path(directory)
    vocab = vocabulary(problems)
    build_model(problems, vocab).save_pretrained(directory)
    build_tokenizer(vocab).save_pretrained(directory)
    (directory / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows(problems)))
    return directory


ROUTES = {"chain_math": "math", "chain_code": "code"}

if __name__ == "__main__":
    print(write(sys.argv[1], mixed_problems(10, 3)))
