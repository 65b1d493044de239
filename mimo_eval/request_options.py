"""Run flags added in the harness's second pass: request fields for the server (`--extra-body`, `--request`), no
system message (`--system-prompt none`), the truncation policy, sharding and the plain progress line.

    mimo-eval run aime24 --model M --backend openai --request reasoning_effort=high \\
        --request chat_template_kwargs='{"enable_thinking": true}' --request top_k=20 --system-prompt none

A `--request` value is read as JSON when it parses (20, 0.05, true, ["</s>"], {...}), else as a string (high).
Every field is recorded in config.json (backend.extra_body) and must match when a run is resumed.
"""
from __future__ import annotations

import argparse
import json


def add_run_options(p: argparse.ArgumentParser, openai_group) -> None:
    openai_group.add_argument("--extra-body", type=_json_object, metavar="JSON",
                              help='extra request fields as one JSON object, e.g. \'{"top_k": 20, "min_p": 0}\'')
    openai_group.add_argument("--request", action=_KeyValues, metavar="KEY=VALUE",
                              help="one extra request field (repeatable): reasoning_effort=high, top_k=20, "
                                   "min_p=0.05, stop='[\"</answer>\"]', max_completion_tokens=32768 (sent instead "
                                   "of max_tokens), chat_template_kwargs='{\"enable_thinking\": false}'")
    p.add_argument("--truncated", choices=("grade", "wrong"), default="grade",
                   help="a response cut at --max-tokens: graded as it stands (default, MiMo's protocol) or "
                        "counted wrong; the count of truncated samples is in the summary either way")
    p.add_argument("--shard", type=_shard, metavar="K/N",
                   help="generate only shard K of N of the (problem, sample) pairs, into its own run directory; "
                        "join the N shards with `mimo-eval merge`")
    p.add_argument("--progress-every", type=_positive_float, default=60.0, metavar="S",
                   help="when stdout is not a terminal: a plain progress line every S seconds (default 60)")
    p.add_argument("--progress-percent", type=_positive_float, default=10.0, metavar="P",
                   help="... and at every P percent of the work (default 10)")


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


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON ({err.msg} at character {err.pos}): {text[:80]!r}")
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
            fields[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            fields[key.strip()] = raw
        setattr(namespace, self.dest, fields)


def _shard(text: str) -> tuple[int, int]:
    from mimo_eval.shard import parse_shard

    try:
        return parse_shard(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("--shard ")) from None


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value
