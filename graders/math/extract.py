"""Finding the final answer in a model response. Pure string work, linear in the response length.

Thinking. Reasoning models think first: only the write-up after the thinking is read (`graders.math.thinking`:
where the thinking ends, extra markers, a thinking the prompt opened). A box inside the thinking is a guess. A
thinking opened and never closed was cut off before answering: no answer, both modes, whatever numbers it holds.

Cut-off policy (one rule, everywhere). A response is credited only with what it committed to before it
ended, wherever the cut fell:
- cut inside the thinking: no answer (above);
- cut after the thinking: reward mode needs a complete box in the write-up; eval mode reads the write-up's
  committed answer (a complete box, an anchored or bold statement), else, when the write-up holds no box at
  all (not even a quoted one), the thinking's conclusion (the thinking finished, so its last statement stands),
  else the write-up's last statement when it is complete (not cut mid-expression, nor a Sky-T1 solution that
  never reached `<|end_of_solution|>`);
- a box cut open (`\\boxed{\\frac{1}{2`) is never read, and prose is never an answer (`graders.math.statement`).

The two modes, on the write-up (or the whole response when there is no thinking), after the rules of
`graders.math.commit` (quoted, code, commented, example and aside boxes are not answers; macros void the
response; a retraction after the last box takes it back):
- "eval": the last `\\boxed{}`/`\\fbox{}` (boxes joined into a list only when they are items of one
  list), or the answer an anchor after it states (`\\boxed{420}. Answer: 419` reads 419, as a self-correction;
  a retraction with none is no answer); else the
  statement after the last anchor ("final answer is", "Answer:", a "## Answer" heading, a bold `**80**`),
  or the statement an anchor closes; else a short whole response; else the last statement's math or number,
  unless the response stops mid-expression.
- "reward": boxes only; several *different* boxed answers are a hedge, a retraction after the box is a 0,
  and every answer the response names after the box with an anchor ("The answer is 0.5") must be right too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from graders.math.commit import answer_boxes, blank_quotes, redefines_macros, taken_back
from graders.math.thinking import answer_region
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
# After a box, these also name an answer (reward mode compares them with the gold too)
# ... and "or" before a value ("\\boxed{\\frac12}, or $0.5$": a restatement when it is equal, a hedge when not)
_NAMES_ANSWER = re.compile(r"\b(?:should\s+be|is\s+actually|is\s+really|correct\s+(?:value|result)\s+is|or(?=\s*\(?\s*"
                           r"(?:-?\d|\$|\\[(\[])))\s*\(?", re.IGNORECASE)
# what a named answer must hold to count as one: a digit or math, or a choice letter ("should be obvious" is prose)
_VALUE = re.compile(r"[\d$\\]|^\s*\(?[A-E]\)?\s*$")
_LONE_LETTER = re.compile(r"\s*[A-Za-z]\s*")
_NAMING_KEYS = ("should", "actually", "really", "correct", "or")
_MAX_NAMED, _MAX_ANCHORS, _STATEMENT_CHARS = 8, 64, 2000
_TAIL = 4000   # fallbacks look at the end of the response first; the final answer lives there
_SHORT = 200   # a response this short with no box or anchor is taken whole as the answer

RULES = {   # Extraction.how -> what the verdict's detail says
    "boxed": "last box", "anchor_after_box": "anchored answer after the last box",
    "anchor": "statement after an anchor", "anchor_lookback": "anchor closing the statement before it",
    "bold": "bold answer", "whole": "whole short response", "last_math": "last statement (its math)",
    "last_number": "last statement (its number)", "hedged": "hedged", "none": "no answer found",
    "truncated_box": "last box never closed (cut off)", "anchor_unclosed": "anchor followed by unclosed math",
    "anchor_negated": "the anchor denies a value ('the answer is not 5'), states none",
    "cut_off": "cut off mid-expression, no final statement",
    "unfinished_thinking": "thinking never finished (no closing marker): no answer",
    "thinking_conclusion": "the thinking's conclusion (the write-up after it states no answer)",
    "retracted": "the last box is taken back by what follows it",
    "revised_after_box": "the answer a retraction after the last box names",
    "macro": "the response (re)defines TeX macros: what it renders is not what is read",
}
# the write-up gave its answer (or took one back, or denied one): its thinking's conclusion is then not read
_STATED = ("boxed", "anchor", "anchor_after_box", "bold", "anchor_lookback", "anchor_negated", "retracted",
           "revised_after_box")


@dataclass(frozen=True)
class Extraction:
    answer: str | None          # the answer text, or None
    how: str                    # a key of RULES
    candidates: tuple[str, ...] = ()   # reward mode: every distinct boxed answer seen
    after_thinking: bool = False       # read from what follows a closing thinking marker
    also: tuple[str, ...] = ()         # reward mode: answers named after the box, which must be right too

    @property
    def rule(self) -> str:
        return RULES[self.how] + (" after the thinking" if self.after_thinking else "")


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


def extract(response: str, mode: str, thinking_opened: bool = False) -> Extraction:
    region = answer_region(response, thinking_opened)
    if region.text is None:
        return Extraction(None, "unfinished_thinking")
    if redefines_macros(response):
        return Extraction(None, "macro")
    text = blank_quotes(region.text)
    if mode == "reward":
        found = _extract_reward(text)
        return replace(found, after_thinking=True) if region.closed else found
    found = _extract_eval(text)
    if region.closed and found.how not in _STATED and not _BOX_START.search(region.text):
        # The write-up states no answer and holds no box, not even a quoted one (cut off, or never written): the
        # finished thinking's conclusion, wherever the cut fell. Reward mode does not read it: there the answer
        # must follow the thinking.
        concluded = _extract_eval(blank_quotes(region.thinking), thinking=True)
        if concluded.answer is not None and concluded.how not in ("retracted", "hedged"):
            return Extraction(concluded.answer, "thinking_conclusion")
        if region.open_solution:
            return Extraction(None, "cut_off", after_thinking=True)
    return replace(found, after_thinking=True) if region.closed else found


def _boxes(text: str) -> tuple[str, list[tuple[int, int, str]], bool]:
    """(text with the boxes that are not answers blanked, the boxes that may be, truncated)."""
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


def _extract_eval(region: str, thinking: bool = False) -> Extraction:
    """thinking: `region` is a finished thinking, whose last box, when it goes on to doubt it, is superseded by
    the statements after it."""
    region, boxes, truncated = _boxes(region)
    if truncated:   # find_boxes stops at an unterminated box, so it comes after every complete one
        return Extraction(None, "truncated_box")
    if boxes:
        tail = region[boxes[-1][1]:]
        named = _named_answers(tail, last_only=True)
        if taken_back(tail):
            if named:
                return Extraction(named[-1], "revised_after_box")
            return _extract_eval(tail) if thinking else Extraction(None, "retracted")
        # A Minerva-style "Final Answer: The final answer is X" written after the last box restates the answer.
        strong = list(_STRONG_ANCHOR.finditer(tail))
        answer = first_statement(tail[strong[-1].end():])[0] if strong else ""
        if answer:
            return Extraction(answer, "anchor_after_box")
        if named:   # "\\boxed{420}. Answer: 419": the later statement, as in a self-correction
            return Extraction(named[-1], "anchor_after_box")
        return Extraction(", ".join(_last_group(region, boxes)), "boxed")
    tail = region[-_TAIL:]
    found = _anchored(tail)
    if found is not None:
        return found
    stripped = region.strip()
    if 0 < len(stripped) <= _SHORT and "\n" not in stripped and not MATH_ENV.search(stripped) and not PROSE.search(stripped):
        return Extraction(stripped, "whole")
    return _last_statement(region, tail)


def _anchors(tail: str) -> list[re.Match]:
    anchors = list(_ANCHOR.finditer(tail)) + list(_ANSWER_HEADING.finditer(tail))
    return anchors + [m for m in _ANSWER_LINE.finditer(tail) if not PROSE.search(_line_at(tail, m.end()))]


def _named_answers(after_box: str, last_only: bool = False) -> list[str]:
    """The answers that anchors after the last box state, in order; last_only: only the last anchor's."""
    if not after_box.strip(" \t\n.$)]}\\"):
        return []
    lowered = after_box.lower()
    if "answer" not in lowered and "答案" not in after_box and not any(k in lowered for k in _NAMING_KEYS):
        return []   # the common case, without the anchor patterns
    anchors = sorted(_anchors(after_box) + list(_NAMES_ANSWER.finditer(after_box)), key=lambda m: m.end())
    named: list[str] = []
    for anchor in (anchors[-1:] if last_only else anchors[:_MAX_ANCHORS]):
        answer, status = first_statement(after_box[anchor.end() : anchor.end() + _STATEMENT_CHARS])
        # a lone letter ("the answer is independent of $x$") is prose about the answer, not another one
        if answer.count(")") > answer.count("("):   # "(or 419)": the aside's own parenthesis
            answer = answer[: answer.rindex(")")].rstrip()
        if status != "ok" or not _VALUE.search(answer) or _LONE_LETTER.fullmatch(answer) and not answer.isupper():
            continue
        if " ".join(answer.split()) not in named:
            named.append(" ".join(answer.split()))
    if len(anchors) > _MAX_ANCHORS and not last_only:   # an answer named that often is a flood, not a restatement
        named.append(f"{len(anchors)} anchors")
    return named


def _anchored(tail: str) -> Extraction | None:
    """The answer the last anchor gives; None when there is no anchor or it gives none (fall back)."""
    anchors = _anchors(tail)
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
    region, boxes, truncated = _boxes(region)
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
    tail = region[boxes[-1][1]:]
    if taken_back(tail):
        return Extraction(answer, "retracted", distinct)
    named = [a for a in _named_answers(tail) if a != " ".join(answer.split())]
    if len(named) > _MAX_NAMED or any(a.endswith(" anchors") for a in named):
        return Extraction(answer, "hedged", distinct + tuple(named[:_MAX_NAMED]))
    return Extraction(answer, "boxed", distinct, also=tuple(named))
