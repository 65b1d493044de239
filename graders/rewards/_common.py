"""What the four adapters share: the pool settings they accept, math's thinking_opened, a completion's text."""
from __future__ import annotations

from typing import Any, Mapping

from graders.rewards.pool import RewardPool, get_pool

POOL_SETTINGS = ("workers", "timeout_s", "backend", "sandbox", "code_mode")


def check_settings(settings: Mapping[str, Any]) -> None:
    unknown = set(settings) - set(POOL_SETTINGS)
    if unknown:
        raise TypeError(f"unknown reward settings {sorted(unknown)}; known: {list(POOL_SETTINGS)}")


def pool_from(settings: Mapping[str, Any]) -> RewardPool:
    """The process-wide pool for these settings, started on first use (not at import)."""
    check_settings(settings)
    return get_pool(**settings)


def math_options(kind: str, options: Mapping | None, thinking_opened: Any) -> Mapping | None:
    """A call's options with `thinking_opened` for math (None: not known, the grader's default; a sample's own
    option wins). A numpy bool from a parquet column counts as a bool."""
    if kind != "math" or thinking_opened is None or (options and "thinking_opened" in options):
        return options
    return {**(options or {}), "thinking_opened": bool(thinking_opened)}


def completion_text(completion: Any) -> str:
    """A completion as text: a str, or chat messages ([{"role", "content"}], content a str or a list of
    {"type": "text", "text"} parts) of which the last assistant message is the answer."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        completion = [completion]
    if isinstance(completion, (list, tuple)):
        replies = [m for m in completion if isinstance(m, Mapping) and m.get("role", "assistant") == "assistant"]
        if not replies:
            return ""
        content = replies[-1].get("content") or ""
        if isinstance(content, str):
            return content
        return "".join(p.get("text", "") for p in content if isinstance(p, Mapping) and p.get("type") == "text")
    raise TypeError(f"a completion must be a str or chat messages, got {type(completion).__name__}")
