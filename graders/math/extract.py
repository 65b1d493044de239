"""Finding the final answer in a model response. Pure string work, linear in the response length.

Two policies (see `extract`):
- "eval": the last `\\boxed{}`/`\\fbox{}` (brace-matched, neighbouring boxes joined into a list); else the
  last anchored phrase ("final answer is", "Answer:", ...); only when neither exists, a short whole
  response, then the last math environment, then the last number.
- "reward": boxes only, after the last `</think>` if any; several *different* boxed answers are a hedge.

A truncated last box (`\\boxed{\\frac{1}{2`) is never read as an answer: the response was cut off.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_BOX_START = re.compile(r"\\(?:boxed|fbox)\s*\{")
# Neighbouring boxes join when close: Math-Verify's rule (<10 chars, or <70 with a separator).
_JOIN_NEAR, _JOIN_SEP = 10, 70
_SEPARATOR = re.compile(r"(,|;|\band\b|\bor\b|&)", re.IGNORECASE)
_ANCHOR = re.compile(
    r"(final\s+answer\s*(?:is|:|=)?|\banswer\s*(?:is|:)|答案是|答案为|answer\s*=)\s*",
    re.IGNORECASE,
)
# A line that starts "Answer" and goes on with math, not prose: "Answer $9$", "**Answer** 12", "Answer \\frac12"
_ANSWER_LINE = re.compile(r"^[ \t*#]*answer\b[ \t*:]*(?=[^\s*:])", re.IGNORECASE | re.MULTILINE)
# After an anchor, the answer may open on the next line as display math that spans lines.
_DISPLAY_START = re.compile(r"[\s:*]*(?=\\\[|\$\$)")
# Inline math ($...$, \(...\)) does not span lines: a lone "$" across lines is far more often currency.
_MATH_ENV = re.compile(
    r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|(?<!\\)\$((?:\\\$|[^$\n])+?)(?<!\\)\$|\\\(([^\n]+?)\\\)", re.DOTALL
)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|-?\.\d+")
_STRONG_ANCHOR = re.compile(r"final\s+answer\s+is\s*", re.IGNORECASE)
_PROSE = re.compile(r"(?<![\\{])\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\b|(?<![\\{A-Za-z])[A-Za-z]{4,}\s*[:=]")
_LIST_GAP = re.compile(r"[\s\"',;]*(?:\band\b|\bor\b)?[\s\"',;]*", re.IGNORECASE)
_IS = re.compile(r"\s(?:is|are|equals|=)\s")
_HOPE = re.compile(r"\.?\s*I hope it is correct.*$", re.IGNORECASE)
_TAIL = 4000   # fallbacks only look at the end of the response; the final answer lives there
_SHORT = 200   # a response this short with no box or anchor is taken whole as the answer


@dataclass(frozen=True)
class Extraction:
    answer: str | None          # the answer text, or None
    how: str                    # boxed | anchor | whole | math_env | last_number | none | truncated_box | hedged
    candidates: tuple[str, ...] = ()   # reward mode: every distinct boxed answer seen


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

    Each box's scan stops at the next box's start (or the end), so the whole pass is linear even on
    a megabyte of unterminated `\\boxed{`.
    """
    starts = [m for m in _BOX_START.finditer(text)]
    boxes: list[tuple[int, int, str]] = []
    truncated_last = False
    outer_end = -1
    for k, m in enumerate(starts):
        if m.start() < outer_end:      # nested inside the previous box
            continue
        open_pos = m.end() - 1
        close = _match_brace(text, open_pos, len(text))
        if close is None:
            truncated_last = True
            break                      # every later box is inside this unterminated one
        boxes.append((m.start(), close + 1, text[open_pos + 1 : close]))
        outer_end = close + 1
    return boxes, truncated_last


def _last_group(text: str, boxes: list[tuple[int, int, str]]) -> list[str]:
    """The last box plus the boxes just before it that are joined to it as one listed answer."""
    group = [boxes[-1]]   # built backwards and reversed once: inserting at the front is quadratic on 90k boxes
    for prev in reversed(boxes[:-1]):
        gap = text[prev[1] : group[-1][0]]
        near = len(gap.strip()) < _JOIN_NEAR or (len(gap) < _JOIN_SEP and _SEPARATOR.search(gap))
        if not near or prev[2].strip() == group[-1][2].strip():
            break
        group.append(prev)
    return [b[2] for b in reversed(group)]


def _clean_anchor_tail(tail: str) -> str:
    display = _DISPLAY_START.match(tail)
    if display:
        env = _MATH_ENV.match(tail, display.end())
        if env:
            return next(g for g in env.groups() if g is not None).strip()
    tail = tail.lstrip(" \t:*")
    line = _HOPE.sub("", tail.split("\n", 1)[0][:300])
    # "The volume of $ABCD$ is 120." -> what follows the last " is " outside math that still has math or a
    # number after it ("$1$ or $2$ (both are possible)" keeps its answer)
    spans = [e.span() for e in _MATH_ENV.finditer(line)]
    cuts = [m.end() for m in _IS.finditer(line) if not any(a <= m.start() < b for a, b in spans)
            and (any(a >= m.end() for a, _ in spans) or re.search(r"\d", line[m.end():]))]
    line = line[cuts[-1]:] if cuts else line
    envs = list(_MATH_ENV.finditer(line))
    if envs:
        # "$12$ and $13$", "$x=1$, $y=2$": spans joined only by list words are one list ("or" keeps a hedge
        # a list); a lone letter after the first ("$5$ and $x$ must be positive") is prose about the answer
        listed = [envs[0]]
        for env in envs[1:]:
            if not _LIST_GAP.fullmatch(line[listed[-1].end() : env.start()]):
                break
            listed.append(env)
        texts = [next(g for g in e.groups() if g is not None) for e in listed]
        while len(texts) > 1 and re.fullmatch(r"\s*[A-Za-z]\s*", texts[-1]):
            texts.pop()
        return ", ".join(texts)
    if _PROSE.search(line):     # "Jane started growing it 3 hours ago": the number it states
        return _rightmost_math(line).answer or ""
    # Cut at the end of the sentence: a period followed by a space or the end, not a decimal point.
    line = re.split(r"(?<!\d)\.(?:\s|$)|\.\s", line, maxsplit=1)[0].strip().strip("*").strip()
    return "" if line in ("$", "$$", "\\(", "\\[") else line   # math opened here and never closed on this line


def _line_at(text: str, pos: int) -> str:
    end = text.find("\n", pos)
    return text[pos:] if end < 0 else text[pos:end]


def extract(response: str, mode: str) -> Extraction:
    if mode == "reward":
        return _extract_reward(response)
    boxes, truncated = find_boxes(response)
    if truncated:   # find_boxes stops at an unterminated box, so it comes after every complete one
        return Extraction(None, "truncated_box")
    tail = response[-_TAIL:]
    if boxes:
        # A Minerva-style "Final Answer: The final answer is X" written after the last box restates the answer.
        strong = list(_STRONG_ANCHOR.finditer(response, boxes[-1][1]))
        answer = _clean_anchor_tail(response[strong[-1].end():]) if strong else ""
        if answer:
            return Extraction(answer, "anchor")
        return Extraction(", ".join(_last_group(response, boxes)), "boxed")
    anchors = list(_ANCHOR.finditer(tail)) + [m for m in _ANSWER_LINE.finditer(tail) if not _PROSE.search(_line_at(tail, m.end()))]
    anchors.sort(key=lambda m: m.end())
    if anchors:
        answer = _clean_anchor_tail(tail[anchors[-1].end():])
        return Extraction(answer or None, "anchor" if answer else "none")
    stripped = response.strip()
    if 0 < len(stripped) <= _SHORT and "\n" not in stripped and not _MATH_ENV.search(stripped) and not _PROSE.search(stripped):
        return Extraction(stripped, "whole")
    return _rightmost_math(tail)


def _rightmost_math(tail: str) -> Extraction:
    """The rightmost math environment or number: the last thing the response states."""
    env = None
    for env in _MATH_ENV.finditer(tail):
        pass
    number = None
    for number in _NUMBER.finditer(tail):
        pass
    if env is not None and (number is None or env.end() >= number.end()):
        return Extraction(next(g for g in env.groups() if g is not None), "math_env")
    if number is not None:
        return Extraction(number.group().rstrip(","), "last_number")
    return Extraction(None, "none")


def _extract_reward(response: str) -> Extraction:
    think_end = response.rfind("</think>")
    region = response[think_end + len("</think>"):] if think_end >= 0 else response
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
