"""Run flags beyond the basic ones: request fields for the server (`--extra-body`, `--request`), the thinking switch
(`--chat-template-kwargs`), no system message (`--system-prompt none`), the truncation policy, sharding, the plain
progress line, a smoke test (`--limit`), a task of one's own (`--task-file`) and where results are reported.

    mimo-eval run aime24 --model M --backend openai --request reasoning_effort=high --request top_k=20 \\
        --chat-template-kwargs '{"enable_thinking": false}' --system-prompt none --limit 5

A `--request` value is read as JSON when it parses (20, 0.05, true, ["</s>"], {...}), else as a string (high);
NaN and Infinity are refused (they are not JSON, and a server would receive them bare). Every field is recorded
in config.json (backend.extra_body) and must match when a run is resumed. `max_completion_tokens` is the run's
token limit: it is recorded as max_tokens (the summary and the leaderboard say what was asked).
"""
from __future__ import annotations

import argparse
import json

from mimo_eval.cli.flags import _positive_float, _positive_int

# apply_chat_template's own arguments: a template variable of the same name would collide with them
TEMPLATE_ARGUMENTS = ("conversation", "tokenize", "add_generation_prompt", "return_dict", "continue_final_message")
REPORT_TARGETS = ("tensorboard", "wandb")


def add_run_options(p: argparse.ArgumentParser, openai_group) -> None:
    openai_group.add_argument("--extra-body", type=_json_object, metavar="JSON",
                              help='extra request fields as one JSON object, e.g. \'{"top_k": 20, "min_p": 0}\'')
    openai_group.add_argument("--request", action=_KeyValues, metavar="KEY=VALUE",
                              help="one extra request field (repeatable): reasoning_effort=high, top_k=20, "
                                   "min_p=0.05, stop='[\"</answer>\"]', max_completion_tokens=32768 (sent instead "
                                   "of max_tokens, and recorded as the run's max tokens)")
    p.add_argument("--chat-template-kwargs", type=_template_kwargs, metavar="JSON",
                   help='chat template variables for every prompt, e.g. \'{"enable_thinking": false}\' (Qwen3, '
                        "MiMo and others switch thinking off with it): rendered by the vllm and hf backends, sent as "
                        "the request field chat_template_kwargs by the openai backend; recorded with the run")
    p.add_argument("--truncated", choices=("grade", "wrong"), default=None,
                   help="a response cut at --max-tokens: graded as it stands (default, MiMo's protocol) or "
                        "counted wrong; the count of truncated samples is in the summary either way "
                        "(`mimo-eval score RUN --truncated ...` switches it later, without regrading)")
    p.add_argument("--shard", type=_shard, metavar="K/N",
                   help="generate only shard K of N of the (problem, sample) pairs, into its own run directory; "
                        "join the N shards with `mimo-eval merge`")
    p.add_argument("--progress-every", type=_positive_float, default=60.0, metavar="S",
                   help="when stdout is not a terminal: a plain progress line every S seconds (default 60)")
    p.add_argument("--progress-percent", type=_positive_float, default=10.0, metavar="P",
                   help="... and at every P percent of the work (default 10)")
    p.add_argument("--limit", type=_positive_int, metavar="N",
                   help="only the first N problems, for a smoke test; marked in config.json and the summary, and "
                        "labelled on the leaderboard (never shown as a full run); rerun without it to finish")
    g = p.add_argument_group("a task of your own (instead of BENCHMARK)")
    g.add_argument("--task-file", metavar="JSONL",
                   help="one problem per line: {\"id\", \"problem\", \"answer\"} for --grader math, "
                        "{\"id\", \"problem\", \"tests\": [{\"input\", \"output\"}]} for --grader code "
                        "(benchmarks/task_file.py)")
    g.add_argument("--grader", choices=("math", "code"), help="how a --task-file is graded")
    g.add_argument("--prompt-template", metavar="TEXT",
                   help="the prompt, with {problem} where each row's problem goes (default: the math directive, "
                        "or LiveCodeBench's code prompt)")
    add_report_option(p)


def add_report_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--report-to", action="append", choices=REPORT_TARGETS, default=[],
                   help="also log the summary to TensorBoard (pip install 'mimo-eval[tensorboard]'; event files in "
                        "RUN_DIR/tensorboard) or Weights & Biases (pip install 'mimo-eval[wandb]'); repeatable")


def benchmark_choice(args: argparse.Namespace) -> tuple[str, dict]:
    """(benchmark name, benchmark options) from BENCHMARK or --task-file/--grader/--prompt-template."""
    from pathlib import Path

    task = {"task_file": args.task_file, "grader": args.grader, "prompt_template": args.prompt_template}
    if args.task_file is None:
        given = [f"--{k.replace('_', '-')}" for k, v in task.items() if v is not None]
        if given:
            raise ValueError(f"{given[0]} goes with --task-file FILE: give the task file, or drop it")
        if not args.benchmark:
            raise ValueError("give a BENCHMARK (e.g. aime24) or --task-file FILE --grader math|code")
        return args.benchmark, {}
    if args.benchmark:
        raise ValueError(f"give either a BENCHMARK ({args.benchmark}) or --task-file, not both")
    if args.grader is None:
        raise ValueError("--task-file needs --grader math (an 'answer' per row) or --grader code ('tests' per row)")
    from benchmarks.registry import BENCHMARKS
    from benchmarks.task_file import task_name

    if task_name(args.task_file) in BENCHMARKS:
        raise ValueError(f"task file {args.task_file} would be named {task_name(args.task_file)!r}, a bundled "
                         "benchmark: rename the file")
    task["task_file"] = str(Path(args.task_file).resolve())   # `score` and `merge` may run from elsewhere
    return task_name(args.task_file), {k: v for k, v in task.items() if v is not None}


def chat_template_check(args: argparse.Namespace, body: dict | None) -> None:
    """--chat-template-kwargs needs a backend that renders a chat template, and is given once."""
    if args.chat_template_kwargs is None:
        return
    if args.backend == "replay":
        raise ValueError("--chat-template-kwargs needs a backend that renders a chat template (vllm, hf, openai); "
                         "replayed generations were rendered when they were made")
    if args.api_mode == "completion":
        raise ValueError("--chat-template-kwargs needs --api-mode chat: completion mode sends raw text, no template")
    if body and "chat_template_kwargs" in body:
        raise ValueError("chat_template_kwargs is given by both --chat-template-kwargs and --request/--extra-body: "
                         "keep --chat-template-kwargs")


def max_tokens(args: argparse.Namespace, body: dict | None) -> int:
    """The run's token limit: --max-tokens, or the max_completion_tokens request field (sent in its place)."""
    field = (body or {}).get("max_completion_tokens")
    if field is None:
        return args.max_tokens or 32768
    if not isinstance(field, int) or isinstance(field, bool) or field < 1:
        raise ValueError(f"max_completion_tokens must be an integer >= 1, got {field!r}")
    if args.max_tokens is not None and args.max_tokens != field:
        raise ValueError(f"--max-tokens {args.max_tokens} and max_completion_tokens={field} disagree: give one")
    return field


def extra_body(args: argparse.Namespace) -> dict | None:
    """--extra-body and --request as one dict (None when neither is given); a field given in both is an error."""
    body, fields = args.extra_body or {}, args.request or {}
    twice = sorted(set(body) & set(fields))
    if twice:
        raise ValueError(f"request field {twice[0]!r} is given by both --extra-body and --request: keep one")
    return {**body, **fields} or None


def system_prompt(text: str) -> str | None:
    """'none' sends no system message at all; anything else (default '') is sent as the system turn."""
    return None if text == "none" else text


def strict_json(text: str):
    """json.loads that refuses NaN and Infinity (Python's json reads and writes them; JSON has no such values)."""
    def refuse(name: str):
        raise ValueError(f"{name} is not a JSON value")

    value = json.loads(text, parse_constant=refuse)
    if "e" in text.lower() and any(v in (float("inf"), float("-inf")) for v in _numbers(value)):
        raise ValueError("a number too large for a float (read as Infinity) is not a JSON value")
    return value


def _numbers(value):
    if isinstance(value, float):
        yield value
    elif isinstance(value, (list, dict)):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _numbers(item)


def _json_object(text: str) -> dict:
    try:
        value = strict_json(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON ({err.msg} at character {err.pos}): {text[:80]!r}")
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{err}: {text[:80]!r}")
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object such as '{{\"top_k\": 20}}', got {text[:80]!r}")
    return value


class _KeyValues(argparse.Action):
    """Repeated KEY=VALUE into one dict; a key given twice is an error (the later one would silently win)."""

    def __call__(self, parser, namespace, text, option_string=None) -> None:
        key, sep, raw = text.partition("=")
        if not sep or not key.strip():
            parser.error(f"{option_string} takes KEY=VALUE such as top_k=20, got {text!r}")
        fields = dict(getattr(namespace, self.dest) or {})
        if key.strip() in fields:
            parser.error(f"{option_string} {key.strip()} is given twice: keep one")
        try:
            fields[key.strip()] = strict_json(raw)
        except json.JSONDecodeError:
            fields[key.strip()] = raw
        except ValueError as err:   # NaN, Infinity: the server would get a bare NaN, which is not JSON
            parser.error(f"{option_string} {text}: {err}; give a number")
        setattr(namespace, self.dest, fields)


def _shard(text: str) -> tuple[int, int]:
    from mimo_eval.harness.shard import parse_shard

    try:
        return parse_shard(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("--shard ")) from None


def _template_kwargs(text: str) -> dict:
    value = _json_object(text)
    clash = [k for k in TEMPLATE_ARGUMENTS if k in value]
    if clash:
        raise argparse.ArgumentTypeError(f"{clash[0]!r} is an argument of apply_chat_template, not a template "
                                         "variable")
    return value
