"""OpenRLHF: our reward as the `reward_func` of a file given to `--reward.remote_url` (OpenRLHF 0.11.2:
openrlhf/utils/agent.py, `SingleTurnAgentExecutor`, loads `reward_func` from the file and calls
`reward_func([query], [prompt], [label])` through `asyncio.to_thread`; the query is prompt + response decoded
with `skip_special_tokens=False`, the label comes from `--data.label_key`).

    # my_reward.py, then: --reward.remote_url my_reward.py --data.label_key answer
    from graders.rewards.openrlhf import reward_func                                   # math
    # reward_func = make_reward_func(kind="code", special_tokens=["<|im_end|>"])       # or code

Math's `thinking_opened` (the prompt ended inside an open `<think>`, as R1-distill and QwQ templates render it,
so a response without `</think>` is unfinished thinking and scores 0) is read from each rendered prompt
(`graders.math.thinking.opens_thinking`) unless `make_reward_func(thinking_opened=...)` fixes it.
The response is the query after its prompt, with special tokens removed (chat-template markers like
`<|im_end|>`, `<｜end▁of▁sentence｜>`, `</s>`, `<eos>`, and any listed in `special_tokens`). OpenRLHF needs a
number for every sample, so an undecided one gets reward 0.0 and score 0.0 with extra_logs["masked"] = 1;
its dynamic filtering reads "scores", so masked samples look like failures there: watch the masked mean.
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

from graders.math.thinking import opens_thinking
from graders.rewards._common import check_settings, math_options, pool_from
from graders.rewards.routing import KINDS
from graders.rewards.types import RewardResult

NOT_IN_QUERY = RewardResult(None, None, "infra_error", {"detail": "the prompt is not in the query: cannot "
                                                        "separate the response", "latency_s": 0.0})

# <|...|> (Qwen, Llama 3, GPT), <｜...｜> (DeepSeek), and the SentencePiece/Gemma names; never </think>.
SPECIAL_TOKEN = re.compile(r"<\|[^<>|\s]{1,40}\|>|<｜[^<>｜]{1,40}｜>|</?s>|<eos>|<bos>|<pad>|<end_of_turn>|<start_of_turn>")


def response_from_query(query: str, prompt: str, special_tokens: Sequence[str] = ()) -> str | None:
    """The response part of `query`: what follows the prompt's first occurrence, both without special tokens
    (the prompt string may lack the BOS the decoded query has). None when the prompt is not in the query:
    then nothing tells the prompt's own text (an example box, say) from the answer, and the sample is masked."""
    def clean(text: str) -> str:
        for token in special_tokens:
            text = text.replace(token, "")
        return SPECIAL_TOKEN.sub("", text)

    query, prompt = clean(query), clean(prompt)
    at = query.find(prompt)
    return None if at < 0 else query[at + len(prompt):]


class OpenRLHFReward:
    def __init__(self, *, kind: str = "math", special_tokens: Sequence[str] = (), options: Mapping | None = None,
                 thinking_opened: bool | None = None, **pool_settings):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        check_settings(pool_settings)
        self.kind, self.special_tokens = kind, tuple(special_tokens)
        self.options, self.pool_settings = dict(options or {}), dict(pool_settings)
        self.thinking_opened = thinking_opened

    def __call__(self, queries: list, prompts: list, labels: list, **kwargs) -> dict:
        import torch

        if not len(queries) == len(prompts) == len(labels):
            raise ValueError(f"{len(queries)} queries, {len(prompts)} prompts, {len(labels)} labels: one each")
        pool = pool_from(self.pool_settings)
        responses = [response_from_query(q, p, self.special_tokens) for q, p in zip(queries, prompts)]
        opened = [opens_thinking(p) if self.thinking_opened is None else self.thinking_opened for p in prompts]
        futures = [None if r is None else pool.submit(self.kind, r, label, math_options(self.kind, self.options, t))
                   for r, label, t in zip(responses, labels, opened)]
        results = [NOT_IN_QUERY if f is None else f.result() for f in futures]
        scores = torch.tensor([0.0 if r.score is None else r.score for r in results], dtype=torch.float32)
        masked = torch.tensor([float(r.masked) for r in results])
        timed_out = torch.tensor([float(r.timed_out) for r in results])
        return {"rewards": scores, "scores": scores.clone(), "extra_logs": {"masked": masked, "timed_out": timed_out}}


def make_reward_func(*, kind: str = "math", special_tokens: Sequence[str] = (), options: Mapping | None = None,
                     thinking_opened: bool | None = None, **pool_settings) -> OpenRLHFReward:
    """pool_settings: workers, timeout_s, backend, sandbox, code_mode; thinking_opened: None reads each prompt."""
    return OpenRLHFReward(kind=kind, special_tokens=special_tokens, options=options, thinking_opened=thinking_opened,
                          **pool_settings)


_default = OpenRLHFReward()


def reward_func(queries: list, prompts: list, labels: list, **kwargs) -> dict:
    return _default(queries, prompts, labels, **kwargs)
