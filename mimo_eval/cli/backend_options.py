"""`mimo-eval run`'s backend flags: each backend's own constructor options, checked against the backend chosen
(a flag of another backend is an error), and the backend they build (mimo_eval/backends/)."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from mimo_eval.cli.flags import _fraction, _non_negative_int, _positive_float, _positive_int


def add_backend_args(p: argparse.ArgumentParser):
    """Each backend's own constructor options. Defaults are None so that a flag given for another backend can be
    told apart; the constructor's default applies when a flag is left out. Returns the openai group."""
    g = openai = p.add_argument_group("openai backend")
    g.add_argument("--base-url", action="append", help="server URL (default http://localhost:8000/v1); repeat it "
                                                       "for several servers of one model")
    g.add_argument("--concurrency", type=_positive_int, help="requests in flight per server (default 32)")
    g.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the API key "
                                                        "(default OPENAI_API_KEY; the key is never recorded)")
    g.add_argument("--api-mode", choices=("chat", "completion"),
                   help="chat (default): the server applies the chat template; completion: the benchmark prompt "
                        "is sent as raw text, no template (base models)")
    g.add_argument("--request-timeout", type=_positive_float, metavar="S",
                   help="seconds one whole generation may take (default 3600)")
    g.add_argument("--stall-timeout", type=_positive_float, metavar="S",
                   help="a server that sends no byte for S seconds is stalled: the request moves to another server "
                        "(default 300; needs streaming)")
    g.add_argument("--no-stream", action="store_true", default=None,
                   help="ask for whole answers instead of streamed ones (then only --request-timeout bounds a "
                        "stalled server)")
    g.add_argument("--max-retries", type=_non_negative_int, help="retries per request (default 5)")
    g.add_argument("--thinking-opened", type=_thinking_opened, metavar="auto|yes|no",
                   help="openai and replay backends: whether the chat template ends the prompt inside an open <think> "
                        "(R1-distill, QwQ), so a response cut mid-thinking has no answer; auto (default): the "
                        "server renders the first prompt (vLLM's /tokenize), else unknown (replay: unknown). The hf "
                        "and vllm backends render the template themselves and always know")
    g = p.add_argument_group("vllm backend")
    g.add_argument("--tensor-parallel-size", type=_positive_int, help="GPUs per model (default 1)")
    g.add_argument("--num-speculative-tokens", type=_positive_int,
                   help="MiMo's MTP speculative decoding: tokens proposed per step (default off; MiMo uses 1)")
    g.add_argument("--max-model-len", type=_positive_int, help="context length (default: the model's)")
    g.add_argument("--gpu-memory-utilization", type=_fraction, help="share of GPU memory vLLM may take (default 0.9)")
    g.add_argument("--trust-remote-code", action="store_true", default=None,
                   help="vllm and hf backends: run the model repository's own code")
    from mimo_eval.cli.run_options import _KeyValues   # KEY=VALUE, JSON when it parses, a key twice refused

    g.add_argument("--engine-arg", action=_KeyValues, metavar="KEY=VALUE",
                   help="one more vllm.LLM(...) argument (repeatable; VALUE read as JSON when it parses), e.g. "
                        "max_num_seqs=64, data_parallel_size=2, enable_chunked_prefill=false, "
                        "speculative_config='{\"method\": \"mtp\", \"num_speculative_tokens\": 1}'")
    g = p.add_argument_group("hf backend")
    g.add_argument("--batch-size", type=_positive_int, help="sequences per generate call (default 8)")
    g.add_argument("--device", help="auto (default), cpu, cuda, cuda:1, ...")
    g = p.add_argument_group("replay backend")
    g.add_argument("--replay-file", help="JSONL of recorded generations")
    g.add_argument("--skip-bad-lines", action="store_true", default=None,
                   help="skip malformed lines with a warning each (default: the first one is an error)")
    return openai


def _thinking_opened(text: str) -> bool | None:
    choices = {"auto": None, "yes": True, "no": False}
    if text not in choices:
        raise argparse.ArgumentTypeError(f"must be auto, yes or no, got {text!r}")
    return choices[text]


# run flag (argparse dest) -> (backends that take it, constructor parameter)
BACKEND_FLAGS = {
    "base_url": (("openai",), "base_url"), "concurrency": (("openai",), "concurrency"),
    "api_key_env": (("openai",), "api_key_env"), "api_mode": (("openai",), "mode"),
    "request_timeout": (("openai",), "timeout_s"), "max_retries": (("openai",), "max_retries"),
    "stall_timeout": (("openai",), "stall_timeout_s"), "no_stream": (("openai",), "stream"),
    "tensor_parallel_size": (("vllm",), "tensor_parallel_size"),
    "num_speculative_tokens": (("vllm",), "num_speculative_tokens"), "max_model_len": (("vllm",), "max_model_len"),
    "gpu_memory_utilization": (("vllm",), "gpu_memory_utilization"), "engine_arg": (("vllm",), "engine_kwargs"),
    "trust_remote_code": (("vllm", "hf"), "trust_remote_code"),
    "batch_size": (("hf",), "batch_size"), "device": (("hf",), "device"),
    "replay_file": (("replay",), "path"), "skip_bad_lines": (("replay",), "strict"),
    "thinking_opened": (("openai", "replay"), "thinking_opened"),
}
# engines a backend imports lazily: missing ones fail here, before a run folder exists
BACKEND_ENGINES = {"vllm": (("vllm", "vllm"),), "hf": (("torch", "hf"), ("transformers", "hf"))}


def backend_options(args: argparse.Namespace) -> dict:
    """The chosen backend's constructor options from the flags given; a flag of another backend is an error."""
    options = {}
    for dest, (backends, parameter) in BACKEND_FLAGS.items():
        value = getattr(args, dest)
        if value is None:
            continue
        if args.backend not in backends:
            raise ValueError(f"--{dest.replace('_', '-')} is an option of the {' and '.join(backends)} backend, "
                             f"not of --backend {args.backend}: drop it or change --backend")
        options[parameter] = not value if dest in ("skip_bad_lines", "no_stream") else value
    from mimo_eval.cli.run_options import extra_body

    body = extra_body(args)
    if body is not None and args.backend != "openai":
        raise ValueError(f"--extra-body and --request are options of the openai backend, not of --backend "
                         f"{args.backend}: drop them or change --backend")
    if body is not None:
        options["extra_body"] = body
    return options


def make_backend(args: argparse.Namespace):
    import importlib.util

    from mimo_eval.backends import make_backend as build
    from mimo_eval.backends.common import missing_extra

    options = backend_options(args)
    if args.backend == "replay":
        if not args.replay_file:
            raise ValueError("--backend replay needs --replay-file PATH (a JSONL of recorded generations)")
        return _replay_backend(build, options)
    model = args.model
    if model.startswith(("/", "./", "../", "~")) and not Path(model).expanduser().exists():
        raise FileNotFoundError(f"model path {model} does not exist: give a local model directory "
                                "(with config.json) or a hub id such as XiaomiMiMo/MiMo-7B-RL")
    for module, extra in BACKEND_ENGINES.get(args.backend, ()):
        if importlib.util.find_spec(module) is None:
            raise missing_extra(module, extra)
    if args.backend == "vllm":
        options["seed"] = args.seed
    return build(args.backend, model=model, **options)


def _replay_backend(build, options: dict):
    """With --skip-bad-lines every skipped line is reported (file:line and why), then their count."""
    import warnings

    with warnings.catch_warnings(record=True):   # the backend's one-line summary is replaced by the report below
        warnings.simplefilter("always")
        backend = build("replay", **options)
    log = logging.getLogger("mimo_eval.replay")
    for bad in backend.bad_lines:
        log.warning("%s; line skipped", bad)
    if backend.bad_lines:
        log.warning("%s: skipped %d malformed line(s) (--skip-bad-lines)", backend.path, len(backend.bad_lines))
    return backend
