"""Where a reasoning model's answer is: the thinking and the write-up after it (see `graders.math.extract`).

The thinking ends at the first closing marker (`</think>`; Sky-T1's `<|end_of_thought|>` / `<|begin_of_solution|>`);
the write-up is the rest with every later marker dropped, so an extra `</think>` or an early `<|end_of_solution|>`
cannot hide a second answer from the reading. A thinking opened and never closed, or reopened after the last closing
marker, is unfinished; so is a response with no closing marker at all when the prompt opened the thinking
(`thinking_opened`: R1-distill and QwQ templates end the prompt with `<think>`; `opens_thinking` reads a prompt).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_OPENERS = ("<think>", "<|begin_of_thought|>")
_CLOSERS = ("</think>", "<|end_of_thought|>", "<|begin_of_solution|>")
_SOLUTION_END = "<|end_of_solution|>"
_MARKER = re.compile("|".join(re.escape(m) for m in _OPENERS + _CLOSERS + (_SOLUTION_END,)))


@dataclass(frozen=True)
class Region:
    text: str | None              # where the answer is read; None: the thinking never finished
    closed: bool = False          # it follows a closing thinking marker
    thinking: str = ""            # the thinking before that marker
    open_solution: bool = False   # a Sky-T1 solution that never reached <|end_of_solution|>


def opens_thinking(prompt: str) -> bool:
    """A rendered prompt that ends inside an open thinking block (`...<|Assistant|><think>\\n`): the response
    to it carries only the closing marker. Qwen3's template with thinking switched off closes it in the
    prompt (`<think>\\n\\n</think>`): not open."""
    return max(prompt.rfind(o) for o in _OPENERS) > max(prompt.rfind(c) for c in _CLOSERS)


def answer_region(response: str, thinking_opened: bool = False) -> Region:
    if "think" not in response and "<|" not in response:   # no marker at all (two scans instead of eight)
        return Region(None) if thinking_opened else Region(response)
    last_close = max(response.rfind(c) for c in _CLOSERS)
    if max(response.rfind(o) for o in _OPENERS) > last_close:   # opened (or reopened) and never closed
        return Region(None)
    if last_close < 0:
        return Region(None) if thinking_opened else Region(response)
    first_close = min(at for at in (response.find(c) for c in _CLOSERS) if at >= 0)
    rest = response[first_close:]
    open_solution = "<|begin_of_solution|>" in rest and _SOLUTION_END not in rest
    return Region(_MARKER.sub("\n", rest), True, response[:first_close], open_solution)
