"""Finding the final answer in a model response. Pure string work, linear in the response length.

Reasoning models think first. When a response closes its thinking (`</think>`, also with no opening tag
when the template opened it in the prompt; Sky-T1's `<|end_of_thought|>` / `<|begin_of_solution|>`),
only what follows the last closing marker (up to `<|end_of_solution|>`) is read: a box inside the
thinking is a guess, not the answer. A response that opens its thinking and never closes it was cut
off before answering: no answer, in both modes, whatever numbers the thinking holds.

Two policies (see `extract`), on that region:
- "eval": the last `\\boxed{}`/`\\fbox{}` (brace-matched; boxes joined into a list only when they are
  items of one list); else the statement after the last anchor ("final answer is", "Answer:", a
  "## Answer" heading, a bold `**80**`), or, when the anchor closes its sentence with nothing in it,
  the statement it closes; else a short whole response; else the last statement's math or number,
  unless the response stops mid-expression.
- "reward": boxes only; several *different* boxed answers are a hedge.

A truncated last box (`\\boxed{\\frac{1}{2`) is never read as an answer: the response was cut off.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from graders.math.statement import (
    MATH_ENV, PROSE, bold_answer, cut_off_mid_expression, first_statement, read_statement, rightmost_math,
    statement_before,
)

_BOX_START = re.compile(r"\\(?:boxed|fbox)\s*\{")
# What may stand between two boxes of one listed answer: spaces, math delimiters, commas, "and"/"or",
# spacing commands, and a short label ("x = \boxed{1}, y = \boxed{2}"). A sentence in between
# ("\boxed{3}. Wait, that is wrong ... \boxed{5}") revises the first box instead.
_LIST_GLUE = re.compile(
    r"(?:\s|\$|\\[\[\]()]|[,;&]|\\\\|\\q?quad|\\[,;:! ]|\\text\{\s*(?:and|or)?\s*\}|\band\b|\bor\b"
    r"|(?<![A-Za-z])[A-Za-z](?:_\{?\w+\}?)?\s*=)*",
    re.IGNORECASE,
)
# Failing that, a short gap with a list word or comma ("\boxed{1} papers and \boxed{2} bins", "for part (a)
# and") still lists, unless it ends a sentence or revises ("Wait", "wrong", "actually", ...).
_JOIN_NEAR, _JOIN_MAX = 10, 70
_SEPARATOR = re.compile(r",|;|&|\band\b|\bor\b", re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r"[.!?](?:\s|\$|$)|\n\s*\n")
# ("or maybe", "X, not Y" and "but" stay a list: a hedge or a rejected last box is then a list, never credit.)
_REVISION = re.compile(r"\b(?:wait|wrong|actually|mistake|correct\w*|instead|re-?check\w*|recomput\w*|however|no|oops"
                       r"|sorry|hmm|rather|error|redo|fix\w*)\b", re.IGNORECASE)
_ANCHOR = re.compile(
    r"(final\s+answer\s*(?:is|:|=)?|\banswer\s*(?:is|:)|答案是|答案为|answer\s*=)\s*",
    re.IGNORECASE,
)
# A line that starts "Answer" and goes on with math, not prose: "Answer $9$", "**Answer** 12", "Answer \\frac12"
_ANSWER_LINE = re.compile(r"^[ \t*#]*answer\b[ \t*:]*(?=[^\s*:])", re.IGNORECASE | re.MULTILINE)
# A heading or bold line that is only "Answer": the answer is the next line ("## Answer\n\n80").
_ANSWER_HEADING = re.compile(r"^[ \t*#]*answer[ \t*:]*$", re.IGNORECASE | re.MULTILINE)
_STRONG_ANCHOR = re.compile(r"final\s+answer\s+is\s*", re.IGNORECASE)
_OPENERS = ("<think>", "<|begin_of_thought|>")
_CLOSERS = ("</think>", "<|end_of_thought|>", "<|begin_of_solution|>")
_SOLUTION_END = "<|end_of_solution|>"
_TAIL = 4000   # fallbacks look at the end of the response first; the final answer lives there
_SHORT = 200   # a response this short with no box or anchor is taken whole as the answer

RULES = {   # Extraction.how -> what the verdict's detail says
    "boxed": "last box", "anchor_after_box": "'final answer is' after the last box",
    "anchor": "statement after an anchor", "anchor_lookback": "anchor closing the statement before it",
    "bold": "bold answer", "whole": "whole short response", "last_math": "last statement (its math)",
    "last_number": "last statement (its number)", "hedged": "hedged", "none": "no answer found",
    "truncated_box": "last box never closed (cut off)", "anchor_unclosed": "anchor followed by unclosed math",
    "anchor_negated": "the anchor denies a value ('the answer is not 5'), states none",
    "cut_off": "cut off mid-expression, no final statement",
    "unfinished_thinking": "thinking never finished (no closing marker): no answer",
    "thinking_conclusion": "the thinking's conclusion (the solution after it was cut off)",
}
# the solution gave its answer (or denied one: its thinking's conclusion is then not read either)
_STATED = ("boxed", "anchor", "anchor_after_box", "bold", "anchor_lookback", "anchor_negated")


@dataclass(frozen=True)
class Extraction:
    answer: str | None          # the answer text, or None
    how: str                    # a key of RULES
    candidates: tuple[str, ...] = ()   # reward mode: every distinct boxed answer seen
    after_thinking: bool = False       # read from what follows a closing thinking marker

    @property
    def rule(self) -> str:
        return RULES[self.how] + (" after the thinking" if self.after_thinking else "")


@dataclass(frozen=True)
class Region:
    text: str | None              # where the answer is read; None: the thinking never finished
    closed: bool = False          # it follows a closing thinking marker
    thinking: str = ""            # the thinking before that marker
    open_solution: bool = False   # a Sky-T1 solution that never reached <|end_of_solution|>


def answer_region(response: str) -> Region:
    close_at, close_end = max((response.rfind(c), response.rfind(c) + len(c)) for c in _CLOSERS)
    open_at = max(response.rfind(o) for o in _OPENERS)
    if open_at > close_at:      # opened (or reopened) and never closed
        return Region(None)
    if close_at < 0:
        return Region(response)
    text = response[close_end:]
    end = text.find(_SOLUTION_END)
    solution = "<|begin_of_solution|>" in response[close_at:close_end] or "<|begin_of_solution|>" in text
    return Region(text if end < 0 else text[:end], True, response[:close_at], solution and end < 0)


def _ends_a_statement(text: str) -> bool:
    return text.rstrip().endswith((".", "!", "?", "$", "]", ")", "}", "*")) and not cut_off_mid_expression(text)


def _match_brace(text: str, open_pos: int, limit: int) -> int | None:
    """Index of the `}` closing the `{` at open_pos, scanning no further than `limit`; escaped braces skipped."""
    depth, i = 0, open_pos
    while i < limit:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def find_boxes(text: str) -> tuple[list[tuple[int, int, str]], bool]:
    """Complete boxes as (start, end, content), left to right, and whether the last box is unterminated.

    A box's scan ends at the first unterminated box (every later box is inside it), so the whole pass is
    linear even on a megabyte of unterminated `\\boxed{`.
    """
    boxes: list[tuple[int, int, str]] = []
    outer_end = -1
    for m in _BOX_START.finditer(text):
        if m.start() < outer_end:      # nested inside the previous box
            continue
        open_pos = m.end() - 1
        close = _match_brace(text, open_pos, len(text))
        if close is None:
            return boxes, True
        boxes.append((m.start(), close + 1, text[open_pos + 1 : close]))
        outer_end = close + 1
    return boxes, False


def _last_group(text: str, boxes: list[tuple[int, int, str]]) -> list[str]:
    """The last box plus the boxes just before it that are items of the same listed answer."""
    group = [boxes[-1]]   # right to left, reversed at the end: front inserts were quadratic on 100k boxes
    for prev in reversed(boxes[:-1]):
        gap = text[prev[1] : group[-1][0]]
        if not _listed(gap) or prev[2].strip() == group[-1][2].strip():
            break
        group.append(prev)
    return [b[2] for b in reversed(group)]


def _listed(gap: str) -> bool:
    if len(gap) > _JOIN_MAX:
        return False
    if _LIST_GLUE.fullmatch(gap):
        return True
    if _SENTENCE_BREAK.search(gap) or _REVISION.search(gap):
        return False
    return len(gap.strip()) < _JOIN_NEAR or _SEPARATOR.search(gap) is not None


def _line_at(text: str, pos: int) -> str:
    end = text.find("\n", pos)
    return text[pos:] if end < 0 else text[pos:end]


def extract(response: str, mode: str) -> Extraction:
    region = answer_region(response)
    if region.text is None:
        return Extraction(None, "unfinished_thinking")
    if mode == "reward":
        found = _extract_reward(region.text)
        return Extraction(found.answer, found.how, found.candidates, region.closed)
    found = _extract_eval(region.text)
    if region.closed and found.how not in _STATED and (region.open_solution or not _ends_a_statement(region.text)):
        # The thinking finished but the write-up after it was cut off before stating the answer: eval reads
        # what the thinking concluded. Reward mode does not: there the answer must follow the thinking.
        concluded = _extract_eval(region.thinking)
        if concluded.answer is not None:
            return Extraction(concluded.answer, "thinking_conclusion")
    return Extraction(found.answer, found.how, found.candidates, region.closed)


def _extract_eval(region: str) -> Extraction:
    boxes, truncated = find_boxes(region)
    if truncated:   # find_boxes stops at an unterminated box, so it comes after every complete one
        return Extraction(None, "truncated_box")
    if boxes:
        # A Minerva-style "Final Answer: The final answer is X" written after the last box restates the answer.
        strong = list(_STRONG_ANCHOR.finditer(region, boxes[-1][1]))
        answer = first_statement(region[strong[-1].end():])[0] if strong else ""
        if answer:
            return Extraction(answer, "anchor_after_box")
        return Extraction(", ".join(_last_group(region, boxes)), "boxed")
    tail = region[-_TAIL:]
    found = _anchored(tail)
    if found is not None:
        return found
    stripped = region.strip()
    if 0 < len(stripped) <= _SHORT and "\n" not in stripped and not MATH_ENV.search(stripped) and not PROSE.search(stripped):
        return Extraction(stripped, "whole")
    return _last_statement(region, tail)


def _anchored(tail: str) -> Extraction | None:
    """The answer the last anchor gives; None when there is no anchor or it gives none (fall back)."""
    anchors = list(_ANCHOR.finditer(tail)) + list(_ANSWER_HEADING.finditer(tail))
    anchors += [m for m in _ANSWER_LINE.finditer(tail) if not PROSE.search(_line_at(tail, m.end()))]
    bold = bold_answer(tail)
    if bold is not None and all(bold.end() > m.end() for m in anchors):   # "The total is **80**.\n\nCheck: ..."
        return Extraction(bold.group(1).strip().strip("$").strip(), "bold")
    # The last anchor that states an answer: "So, our answer is correct." judges an earlier one, and "the
    # answer is not 5" denies one; with no other anchor, a denial is no answer (not the 5 it names).
    denied = False
    for anchor in sorted(anchors, key=lambda m: m.end(), reverse=True):
        answer, status = first_statement(tail[anchor.end():])
        denied = denied or status == "negated"
        if status in ("judged", "negated"):
            continue
        if answer:
            return Extraction(answer, "anchor")
        if status == "unclosed":
            return Extraction(None, "anchor_unclosed")
        closed = read_statement(statement_before(tail, anchor.start()))
        if closed:
            return Extraction(closed, "anchor_lookback")
    return Extraction(None, "anchor_negated") if denied else None


def _last_statement(region: str, tail: str) -> Extraction:
    if cut_off_mid_expression(tail):
        return Extraction(None, "cut_off")
    answer, how = rightmost_math(tail)
    if answer is None and len(region) > len(tail):   # a long run of prose at the end: look further back
        answer, how = rightmost_math(region)
    return Extraction(answer, how)


def _extract_reward(region: str) -> Extraction:
    boxes, truncated = find_boxes(region)
    if truncated:
        return Extraction(None, "truncated_box")
    if not boxes:
        return Extraction(None, "none")
    group = _last_group(region, boxes)
    answer = ", ".join(group)
    distinct = tuple(dict.fromkeys(" ".join(b[2].split()) for b in boxes))
    in_group = {" ".join(g.split()) for g in group}
    if any(c not in in_group for c in distinct):
        return Extraction(answer, "hedged", distinct)
    return Extraction(answer, "boxed", distinct)
