"""Rollout engines behind `scheduler.RolloutEngine`: generate n completions per prompt, and follow the policy.

- `HFEngine` samples with the policy module itself (transformers `generate`), so there is no weight copy to
  sync: the next rollout uses the weights the optimiser just wrote. Sampling draws from torch's global RNG, which
  the checkpoint saves, so a resumed CPU run generates the same tokens.
- `VLLMEngine` (extra `[vllm]`; vLLM's CPU build in CI) runs vLLM in this process, colocated with the policy, and
  follows it through vLLM's supported reload, `collective_rpc` of `load_policy_weights` (`reload_weights` with the
  policy's named parameters, then the tied output head re-processed). Each rollout is one request with its own
  seed from (run seed, step, prompt, which draw of that prompt in the step, sample): a prompt drawn again gets new
  samples, and a resumed run draws the same ones. Tested against the CPU build (tests/vllm_cpu/check_rl_engine.py):
  after each optimiser step vLLM's log-probs equal the trainer's within 1e-3 in fp32, tied and untied. Sleep
  mode (free the GPU while training) is used only where the platform has it (not on CPU); its order is wake
  the weights, load, free the cache, wake the KV cache (TRL #5142 and #5312 synced before waking, or not at all;
  verl PR #6912: KV wake-up OOM without `empty_cache`). Memory stays conservative (0.3 by default, TRL's value
  after #2688 and #2927). NOT RUN ON A GPU: no GPU was lent to the session that wrote it.

Continuous rollout (stream.py) drives the same engine one request per sequence: `launch` adds a group's requests
to the engine behind `LLM` (`LLM.llm_engine`: vLLM V1's `LLMEngine`, engine core in this process), `step` runs one
engine step and returns the sequences that finished in it, `abort` is vLLM's `abort_request`. Why not `AsyncLLM`,
vLLM's asynchronous engine (0.32.0, tried on the CPU build): it always runs the engine core in another process
(`EngineCoreClient.make_client`: "Running EngineCore in asyncio without multiprocessing is not currently
supported"), and on CPU the core's worker in a third (the CPU platform forces the multiprocessing executor: "OMP
requires the MP executor"). The policy's tensors then cannot reach it by reference: `collective_rpc` serialises
its arguments, and tensors passed to it failed between core and worker ("cannot pickle memoryview objects");
the supported update routes (`init_weight_transfer_engine` / `update_weights`: NCCL or CUDA IPC) need a GPU. It
also took 43 s to start here (load average ~9; the in-process engine: 4 s at ~5). The engine core AsyncLLM runs
is the same `EngineCore.step` called here, so continuous batching, per-request seeds and abort behave the same;
what differs is where the loop runs: here the engine's Python shares this process (and its GIL) with the reward
pool's threads.
"""
from __future__ import annotations

import hashlib
import itertools
import os
import tempfile
from collections import Counter
from typing import Any, Callable, Sequence

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


def rollout_seed(run_seed: int, step: int, prompt_ids: Sequence[int], draw: int, sample: int) -> int:
    """The seed of one rollout: sample `sample` of the `draw`-th time this prompt is drawn at optimiser step
    `step`. Pure, so an asynchronous engine can derive the same seeds whatever order requests go out in."""
    prompt = hashlib.sha256(repr(tuple(prompt_ids)).encode()).hexdigest()[:16]
    digest = hashlib.sha256(f"{run_seed}/{step}/{prompt}/{draw}/{sample}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def load_policy_weights(worker, weights: list[tuple[str, Any]], tied: bool) -> None:
    """Runs on each vLLM worker (`collective_rpc`): vLLM's in-place reload from checkpoint-format tensors, which
    redoes each layer's processing (packed QKV and gate/up, the CPU build's repacked GEMM weights). A tied output
    head is processed only through the embedding (a documented limit of vLLM's layerwise reload), so on CPU it kept
    its packed copy of the old weights; its processing is redone from the shared, now new, weight."""
    worker.model_runner.reload_weights(weights_iterator=iter(weights))
    if tied:
        head = worker.model_runner.get_model().lm_head
        head.quant_method.process_weights_after_loading(head)


class VLLMEngine:
    """vLLM colocated with the policy, in this process. `policy_step()` (the `step` argument) is the number of
    optimiser steps the policy has taken: rollouts are seeded with it, and a generate or launch call first syncs
    the weights when they are older (after a resume, the engine starts from the initial weights)."""

    def __init__(self, policy, tokenizer, *, model_path: str, temperature: float, top_p: float,
                 max_new_tokens: int, seed: int, step: Callable[[], int], dtype: str = "auto",
                 gpu_memory_utilization: float = 0.3, engine_kwargs: dict | None = None):
        from vllm import LLM
        from vllm.platforms import current_platform

        from mimo_eval.backends.vllm import platform_kwargs, say_cpu_settings

        self.policy, self.tokenizer, self.policy_step = policy, tokenizer, step
        self.temperature, self.top_p, self.max_new_tokens, self.seed = temperature, top_p, max_new_tokens, seed
        self.eos_id = tokenizer.eos_token_id
        self.tied = bool(getattr(policy.config, "tie_word_embeddings", False))
        self.sleeps = current_platform.is_sleep_mode_available()
        chosen = dict(engine_kwargs or {})
        kwargs = platform_kwargs({"model": model_path, "seed": seed, "dtype": dtype, "skip_tokenizer_init": True,
                                  "gpu_memory_utilization": gpu_memory_utilization,
                                  "enable_sleep_mode": self.sleeps, **chosen})
        say_cpu_settings(kwargs, chosen)
        # tensors reach the worker by reference only when it runs in this process
        os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
        self.llm = LLM(**kwargs)
        self.synced_step = 0          # model_path holds the policy's initial weights
        self.asleep = False
        self.draws: Counter = Counter()   # prompt -> times drawn at draws_step, across generate calls
        self.draws_step = -1
        self.request_ids = itertools.count()

    def generate(self, prompts: Sequence[Sequence[int]], n: int) -> list[list[Rollout]]:
        """One blocking call for all prompts (what the chunked scheduler uses)."""
        from vllm import TokensPrompt

        requests, params = [], []
        for prompt in prompts:
            for seed in self._seeds(prompt, n):
                requests.append(TokensPrompt(prompt_token_ids=list(prompt)))
                params.append(self._params(seed))
        outputs = self.llm.generate(requests, params, use_tqdm=False)
        rollouts = [self._rollout(o.outputs[0]) for o in outputs]
        return [rollouts[i * n:(i + 1) * n] for i in range(len(prompts))]

    # the continuous scheduler's interface (stream.py): one request per sequence on the engine behind LLM, stepped
    # by the scheduler's loop; finished sequences come back the step they end
    @property
    def capacity(self) -> int:
        return self.llm.llm_engine.vllm_config.scheduler_config.max_num_seqs

    def launch(self, prompt: Sequence[int], n: int) -> list[str]:
        from vllm import TokensPrompt
        from vllm.sampling_params import RequestOutputKind

        ids = []
        for seed in self._seeds(prompt, n):
            ids.append(f"rl-{next(self.request_ids)}")
            # FINAL_ONLY: a step returns only the sequences that finished in it, not every running one
            self.llm.llm_engine.add_request(ids[-1], TokensPrompt(prompt_token_ids=list(prompt)),
                                            self._params(seed, output_kind=RequestOutputKind.FINAL_ONLY))
        return ids

    def step(self) -> list[tuple[str, Rollout]]:
        return [(o.request_id, self._rollout(o.outputs[0])) for o in self.llm.llm_engine.step() if o.finished]

    def has_unfinished(self) -> bool:
        return self.llm.llm_engine.has_unfinished_requests()

    def abort(self, request_ids: Sequence[str]) -> int:
        """vLLM's abort; returns the tokens the requests had generated, read from the engine's output processor
        (it holds each running request's tokens; an aborted request returns no output in the offline engine)."""
        processor = self.llm.llm_engine.output_processor
        states = [processor.request_states.get(i) for rid in request_ids
                  for i in processor.external_req_ids.get(rid, ())]
        tokens = sum(state.detokenizer.num_output_tokens() for state in states if state is not None)
        self.llm.llm_engine.abort_request(list(request_ids))
        return tokens

    def _seeds(self, prompt: Sequence[int], n: int) -> list[int]:
        """The seeds of one draw of `prompt`: first the engine follows the policy (a sync when its weights are
        older), and a new step's draws start from 0, so a resumed step draws the same seeds."""
        if self.synced_step != self.policy_step() or self.asleep:
            self.sync_weights()
        step = self.policy_step()
        if step != self.draws_step:
            self.draws, self.draws_step = Counter(), step
        draw = self.draws[tuple(prompt)]
        self.draws[tuple(prompt)] += 1
        return [rollout_seed(self.seed, step, prompt, draw, sample) for sample in range(n)]

    def _params(self, seed: int, **extra):
        from vllm import SamplingParams

        # no detokenising in vLLM: texts come from the policy's tokenizer, as the hf engine's do
        return SamplingParams(n=1, temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_new_tokens,
                              seed=seed, stop_token_ids=[self.eos_id], detokenize=False, **extra)

    def _rollout(self, sample) -> Rollout:
        tokens = tuple(sample.token_ids)   # ends with the end token when it stopped there, as the hf engine's
        text = self.tokenizer.decode(list(tokens), skip_special_tokens=True)
        return Rollout(tokens, text, sample.finish_reason == "length")

    def score(self, sequences: Sequence[Sequence[int]]) -> list[list[float]]:
        """Log-probability of every token after the first, under the engine's current weights, at temperature 1
        (vLLM's prompt log-probs): what the sync tests compare with the trainer's."""
        from vllm import SamplingParams, TokensPrompt

        params = SamplingParams(max_tokens=1, prompt_logprobs=0, detokenize=False)
        outputs = self.llm.generate([TokensPrompt(prompt_token_ids=list(s)) for s in sequences], params,
                                    use_tqdm=False)
        return [[o.prompt_logprobs[t][s[t]].logprob for t in range(1, len(s))]
                for o, s in zip(outputs, sequences)]

    def eval_backend(self, name: str):
        """The harness's vLLM backend around this engine, at the policy's current weights (evaluation during
        training: mimo_eval/rl/evaluate.py)."""
        from mimo_eval.backends.vllm import VLLMBackend

        if self.synced_step != self.policy_step() or self.asleep:
            self.sync_weights()
        return VLLMBackend.from_engine(self.llm, self.tokenizer, name=name)

    def sleep(self) -> None:
        """Free the GPU for training (level 1: weights to CPU memory, KV cache dropped); no-op without sleep mode."""
        if self.sleeps:
            self.llm.sleep(level=1)
            self.asleep = True

    def sync_weights(self) -> None:
        import torch

        if self.asleep:
            self.llm.wake_up(tags=["weights"])     # before loading: loading into sleeping weights is lost (TRL #5312)
        weights = [(name, p.detach()) for name, p in self.policy.named_parameters()]
        self.llm.collective_rpc(load_policy_weights, args=(weights, self.tied))
        if self.asleep:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()           # before the KV cache comes back (verl PR #6912)
            self.llm.wake_up(tags=["kv_cache"])
            self.asleep = False
        self.llm.reset_prefix_cache()              # cached prefixes were computed with the old weights
        self.synced_step = self.policy_step()


def make_engine(cfg, model, tokenizer, step: Callable[[], int]):
    """The rollout engine `cfg.engine` names. A model built from a config is saved first, since vLLM loads from
    a directory; the directory is removed once the engine holds the weights."""
    if cfg.engine == "hf":
        return HFEngine(model, tokenizer, temperature=cfg.temperature, top_p=cfg.top_p,
                        max_new_tokens=cfg.max_new_tokens)
    from mimo_eval.rl.policy import resolve_device

    dtype = str(resolve_device(cfg)[1]).removeprefix("torch.")
    options = dict(temperature=cfg.temperature, top_p=cfg.top_p, max_new_tokens=cfg.max_new_tokens, seed=cfg.seed,
                   step=step, dtype=dtype, gpu_memory_utilization=cfg.vllm_gpu_memory_utilization,
                   engine_kwargs=dict(cfg.vllm_kwargs))
    if cfg.model != "llama-config":
        return VLLMEngine(model, tokenizer, model_path=cfg.model, **options)
    from mimo_eval.tiny import save

    with tempfile.TemporaryDirectory(prefix="mimo-vllm-") as directory:
        return VLLMEngine(model, tokenizer, model_path=save(model, tokenizer, directory), **options)
