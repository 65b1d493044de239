"""The boxes of a text (`\\boxed{}`, `\\fbox{}`): where each is, which the response stands behind
(`graders.math.commit`), and which are items of one listed answer. Pure string work, linear in the text's length.
"""
from __future__ import annotations

import re

from graders.math.commit import answer_boxes

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

Box = tuple[int, int, str]   # (start, end, content)


def any_box(text: str) -> bool:
    """Whether `text` opens a box anywhere (a quoted or unterminated one included)."""
    return _BOX_START.search(text) is not None


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


def find_boxes(text: str) -> tuple[list[Box], bool]:
    """Complete boxes as (start, end, content), left to right, and whether the last box is unterminated.

    A box's scan ends at the first unterminated box (every later box is inside it), so the whole pass is
    linear even on a megabyte of unterminated `\\boxed{`.
    """
    boxes: list[Box] = []
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


def answer_candidates(text: str) -> tuple[str, list[Box], bool]:
    """(text with the boxes that are not answers blanked, the boxes that may be, whether the last is cut open)."""
    boxes, truncated = find_boxes(text)
    kept = answer_boxes(text, boxes)
    if len(kept) < len(boxes):
        kept_at, pieces, last = {b[0] for b in kept}, [], 0
        for start, end, _ in boxes:
            if start not in kept_at:
                pieces += [text[last:start], " " * (end - start)]
                last = end
        text = "".join(pieces) + text[last:]
    return text, kept, truncated


def last_group(text: str, boxes: list[Box]) -> list[str]:
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
