"""Rollout engines behind `scheduler.RolloutEngine`: generate n completions per prompt, and follow the policy.

- `HFEngine` samples with the policy module itself (transformers `generate`), so there is no weight copy to
  sync: the next rollout uses the weights the optimiser just wrote. Sampling draws from torch's global RNG, which
  the checkpoint saves, so a resumed CPU run generates the same tokens.
- `VLLMColocateEngine` (extra `[vllm]`, CUDA only) keeps a vLLM engine on the same GPU, asleep while the policy
  trains. NOT RUN ON HARDWARE: vLLM is not installable on the machines this was written on; only the weight-sync
  ordering is tested, against a fake. The order is wake the weights, load them in buckets, free the cache, then
  wake the KV cache (TRL #5142 and #5312 synced before waking, or not at all; verl PR #6912: KV wake-up OOM
  without `empty_cache`). Memory stays conservative (0.3 by default, TRL's value after #2688 and #2927).
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Sequence

from mimo_eval.rl.scheduler import Rollout


class HFEngine:
    def __init__(self, model, tokenizer, *, temperature: float, top_p: float, max_new_tokens: int):
        self.model, self.tokenizer = model, tokenizer
        self.temperature, self.top_p, self.max_new_tokens = temperature, top_p, max_new_tokens
        self.eos_id = tokenizer.eos_token_id
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.eos_id

    def generate(self, prompts: Sequence[Sequence[int]], n: int) -> list[list[Rollout]]:
        import torch

        width = max(len(p) for p in prompts)
        rows = [list(p) for p in prompts for _ in range(n)]                       # prompt i's n copies adjacent
        ids = torch.tensor([[self.pad_id] * (width - len(r)) + r for r in rows])  # [B*n, P] left-padded
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                out = self.model.generate(
                    input_ids=ids.to(self.model.device), attention_mask=mask.to(self.model.device),
                    do_sample=True, temperature=self.temperature, top_p=self.top_p, top_k=0,
                    max_new_tokens=self.max_new_tokens, eos_token_id=self.eos_id, pad_token_id=self.pad_id,
                    use_cache=True, repetition_penalty=1.0)
        finally:
            self.model.train(was_training)
        rollouts = [self._rollout(row) for row in out[:, width:].tolist()]         # [B*n, T_new]
        return [rollouts[i * n:(i + 1) * n] for i in range(len(prompts))]

    def _rollout(self, tokens: list[int]) -> Rollout:
        if self.eos_id in tokens:  # keep the end token: the policy is trained to emit it
            tokens, truncated = tokens[:tokens.index(self.eos_id) + 1], False
        else:
            truncated = True
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        return Rollout(tuple(tokens), text, truncated)

    def sleep(self) -> None:
        pass

    def sync_weights(self) -> None:
        pass  # the policy module is the engine


def weight_buckets(named: Iterable[tuple[str, Any]], bucket_bytes: int) -> Iterator[list[tuple[str, Any]]]:
    """Group (name, tensor) pairs into lists of about bucket_bytes, so a sync is a few large copies
    (TRL PR #5249: 0.6 s -> 0.15 s on Qwen2-0.5B) without doubling peak memory."""
    bucket, size = [], 0
    for name, tensor in named:
        bucket.append((name, tensor))
        size += tensor.numel() * tensor.element_size()
        if size >= bucket_bytes:
            yield bucket
            bucket, size = [], 0
    if bucket:
        yield bucket


class VLLMColocateEngine:
    def __init__(self, policy, tokenizer, *, model_path: str, temperature: float, top_p: float, max_new_tokens: int,
                 seed: int, gpu_memory_utilization: float = 0.3, bucket_mb: int = 512, llm: Any = None):
        self.policy, self.tokenizer = policy, tokenizer
        self.temperature, self.top_p, self.max_new_tokens, self.seed = temperature, top_p, max_new_tokens, seed
        self.bucket_bytes = bucket_mb << 20
        if llm is None:
            from vllm import LLM  # extra [vllm]

            llm = LLM(model=model_path, gpu_memory_utilization=gpu_memory_utilization, enable_sleep_mode=True,
                      seed=seed, dtype="bfloat16")
        self.llm = llm
        self.asleep = False

    def generate(self, prompts: Sequence[Sequence[int]], n: int) -> list[list[Rollout]]:
        from vllm import SamplingParams, TokensPrompt

        params = SamplingParams(n=n, temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_new_tokens,
                                seed=self.seed)
        outputs = self.llm.generate([TokensPrompt(prompt_token_ids=list(p)) for p in prompts], params, use_tqdm=False)
        return [[Rollout(tuple(c.token_ids), c.text, c.finish_reason == "length") for c in o.outputs] for o in outputs]

    def sleep(self) -> None:
        """Free the GPU for training: level 1 keeps the weights in CPU memory, drops the KV cache."""
        self.llm.sleep(level=1)
        self.asleep = True

    def sync_weights(self) -> None:
        import torch

        self.llm.wake_up(tags=["weights"])     # before loading: loading into sleeping weights is lost (TRL #5312)
        runner = self.llm.llm_engine.model_executor.driver_worker.worker.model_runner.model
        for bucket in weight_buckets(self.policy.named_parameters(), self.bucket_bytes):
            runner.load_weights([(name, t.detach()) for name, t in bucket])
        if torch.cuda.is_available():
            torch.cuda.empty_cache()           # before the KV cache comes back (verl PR #6912)
        self.llm.wake_up(tags=["kv_cache"])
        self.llm.reset_prefix_cache()          # cached prefixes were computed with the old weights
        self.asleep = False
