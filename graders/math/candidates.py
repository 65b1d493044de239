"""What a region of a response offers as its answer: its boxes (`graders.math.boxes`), what follows the last box
(a retraction, an answer named after it), the statement after an anchor ("final answer is", "Answer:", a
"## Answer" heading, a bold `**80**`) or the one an anchor closes, a short whole response, and its last
statement. Each is found once, when a rule of `graders.math.extract` first asks for it; `graders.math.statement`
reads the one statement each points at. Pure string work on bounded windows.
"""
from __future__ import annotations

import re
from graders.math.boxes import answer_candidates, last_group
from graders.math.commit import taken_back
from graders.math.statement import (
    MATH_ENV, PROSE, bold_answer, cut_off_mid_expression, first_statement, read_statement, rightmost_math,
    statement_before,
)
from graders.math.thinking import Region

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
_MAX_ANCHORS, _STATEMENT_CHARS = 64, 2000
_TAIL = 4000   # fallbacks look at the end of the response first; the final answer lives there
_SHORT = 200   # a response this short with no box or anchor is taken whole as the answer

class cached_property:
    """functools.cached_property without the per-instance lock it takes on Python 3.11, which cost the warm
    grading path 20% here: computed on first access, then a plain attribute (a non-data descriptor)."""

    def __init__(self, compute):
        self.compute, self.name = compute, compute.__name__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


Found = tuple[str | None, str]   # (the answer or None, how): how is a key of graders.math.extract.RULES


class Candidates:
    """The candidates of one region: `text` with quotes and code already blanked (`graders.math.commit`).
    `region`: the write-up's place in the response (for its thinking's conclusion), None for a part read alone;
    `thinking`: the text is a finished thinking, whose last box is superseded by what follows it when that doubts it.
    """

    def __init__(self, text: str, region: Region | None = None, thinking: bool = False):
        self.region, self.thinking = region, thinking
        self.text, self.boxes, self.truncated = answer_candidates(text)

    # -- the boxes and what follows the last one ---------------------------------------------------
    @cached_property
    def after_box(self) -> str:
        return self.text[self.boxes[-1][1]:]

    @cached_property
    def group_items(self) -> list[str]:
        """The last box with the boxes listed with it."""
        return last_group(self.text, self.boxes)

    @cached_property
    def group(self) -> str:
        return ", ".join(self.group_items)

    @cached_property
    def distinct(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(" ".join(b[2].split()) for b in self.boxes))

    @cached_property
    def boxed_apart(self) -> bool:
        """Some box states a different answer than the last group's."""
        in_group = {" ".join(g.split()) for g in self.group_items}
        return any(c not in in_group for c in self.distinct)

    @cached_property
    def taken_back(self) -> bool:
        return taken_back(self.after_box)

    @cached_property
    def named_last(self) -> list[str]:
        """The answer the last anchor after the box states ("\\boxed{420}. Answer: 419"), as a list of 0 or 1."""
        return named_answers(self.after_box, last_only=True)

    @cached_property
    def named_besides(self) -> list[str]:
        """Every other answer anchors after the box name (reward mode: each must be right too)."""
        return [a for a in named_answers(self.after_box) if a != " ".join(self.group.split())]

    @cached_property
    def restated(self) -> str:
        """A Minerva-style "Final Answer: The final answer is X" after the box, else ""."""
        strong = list(_STRONG_ANCHOR.finditer(self.after_box))
        return first_statement(self.after_box[strong[-1].end():])[0] if strong else ""

    # -- without a box --------------------------------------------------------------------------------
    @cached_property
    def anchored(self) -> Found | None:
        return anchored(self.text[-_TAIL:])

    @cached_property
    def whole(self) -> str | None:
        stripped = self.text.strip()
        if 0 < len(stripped) <= _SHORT and "\n" not in stripped and not MATH_ENV.search(stripped) \
                and not PROSE.search(stripped):
            return stripped
        return None

    @cached_property
    def last_statement(self) -> Found:
        tail = self.text[-_TAIL:]
        if cut_off_mid_expression(tail):
            return None, "cut_off"
        answer, how = rightmost_math(tail)
        if answer is None and len(self.text) > len(tail):   # a long run of prose at the end: look further back
            answer, how = rightmost_math(self.text)
        return answer, how


def _line_at(text: str, pos: int) -> str:
    end = text.find("\n", pos)
    return text[pos:] if end < 0 else text[pos:end]


def _anchors(tail: str) -> list[re.Match]:
    anchors = list(_ANCHOR.finditer(tail)) + list(_ANSWER_HEADING.finditer(tail))
    return anchors + [m for m in _ANSWER_LINE.finditer(tail) if not PROSE.search(_line_at(tail, m.end()))]


def named_answers(after_box: str, last_only: bool = False) -> list[str]:
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


def anchored(tail: str) -> Found | None:
    """The answer the last anchor gives; None when there is no anchor or it gives none (fall back)."""
    anchors = _anchors(tail)
    bold = bold_answer(tail)
    if bold is not None and all(bold.end() > m.end() for m in anchors):   # "The total is **80**.\n\nCheck: ..."
        return bold.group(1).strip().strip("$").strip(), "bold"
    # The last anchor that states an answer: "So, our answer is correct." judges an earlier one, and "the
    # answer is not 5" denies one; with no other anchor, a denial is no answer (not the 5 it names).
    denied = False
    for anchor in sorted(anchors, key=lambda m: m.end(), reverse=True):
        answer, status = first_statement(tail[anchor.end():])
        denied = denied or status == "negated"
        if status in ("judged", "negated"):
            continue
        if answer:
            return answer, "anchor"
        if status == "unclosed":
            return None, "anchor_unclosed"
        closed = read_statement(statement_before(tail, anchor.start()))
        if closed:
            return closed, "anchor_lookback"
    return (None, "anchor_negated") if denied else None
