"""Finding the final answer in a model response. Pure string work, linear in the response length.

One reading, top to bottom:
1. The region (`graders.math.thinking`): reasoning models think first, and only the write-up after the thinking
   is read; a box inside the thinking is a guess. A thinking opened and never closed was cut off before
   answering: no answer, both modes, whatever numbers it holds.
2. What the response stands behind (`graders.math.commit`): a response that (re)defines TeX macros has no answer;
   quoted, code, commented, example and aside boxes are not answers.
3. The candidates the region offers (`graders.math.candidates`): its boxes, what follows the last box, the
   statement after an anchor or the one an anchor closes, a short whole response, its last statement.
4. The rules below, in a table per mode: the first rule that applies decides.

Cut-off policy (one rule, everywhere). A response is credited only with what it committed to before it
ended, wherever the cut fell:
- cut inside the thinking: no answer (above);
- cut after the thinking: reward mode needs a complete box in the write-up; eval mode reads the write-up's
  committed answer (a complete box, an anchored or bold statement), else, when the write-up holds no box at
  all (not even a quoted one), the thinking's conclusion (the thinking finished, so its last statement stands),
  else the write-up's last statement when it is complete (not cut mid-expression, nor a Sky-T1 solution that
  never reached `<|end_of_solution|>`);
- a box cut open (`\\boxed{\\frac{1}{2`) is never read, and prose is never an answer (`graders.math.statement`).

The two modes, on the write-up (or the whole response when there is no thinking):
- "eval": the last box (boxes joined into a list only when they are items of one list), or the answer an anchor
  after it states (`\\boxed{420}. Answer: 419` reads 419, as a self-correction; a retraction with none is no
  answer); else the statement after the last anchor, or the statement an anchor closes; else a short whole
  response; else the last statement's math or number, unless the response stops mid-expression.
- "reward": boxes only; several *different* boxed answers are a hedge, a retraction after the box is a 0,
  and every answer the response names after the box with an anchor ("The answer is 0.5") must be right too.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from graders.math.boxes import any_box
from graders.math.candidates import Candidates
from graders.math.commit import blank_quotes, redefines_macros
from graders.math.thinking import answer_region

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
_MAX_NAMED = 8   # reward mode: more answers named after the box than this is a flood, not a restatement


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


def extract(response: str, mode: str, thinking_opened: bool = False) -> Extraction:
    region = answer_region(response, thinking_opened)
    if region.text is None:
        return Extraction(None, "unfinished_thinking")
    if redefines_macros(response):
        return Extraction(None, "macro")
    found = _decide(Candidates(blank_quotes(region.text), region), EVAL_RULES if mode == "eval" else REWARD_RULES)
    if region.closed and found.how != "thinking_conclusion":
        return replace(found, after_thinking=True)
    return found


def reference_answer(gold: str) -> str:
    """The answer a reference states: `$...$` unwrapped, a worked solution's final answer read as eval mode reads a
    response, one closing brace too many dropped."""
    s = gold.strip()
    if len(s) > 1 and s.startswith("$") and s.endswith("$"):
        s = s.strip("$")
    if "\\boxed" in s or "\\fbox" in s or len(s) > 200:   # a worked solution: read its final answer
        found = extract(s, "eval")
        s = found.answer if found.answer is not None else s
    return _drop_unmatched_closers(s)


def _drop_unmatched_closers(s: str) -> str:
    """A reference copied with one brace too many at its end (`\\frac{1}{2}}`): the extra `}` goes."""
    depth, i = 0, 0
    while i < len(s):
        if s[i] == "\\":       # an escaped character: \{, \}, or the \\ of a row break
            i += 2
            continue
        depth += (s[i] == "{") - (s[i] == "}")
        i += 1
    end = len(s)
    while depth < 0:
        while end and s[end - 1].isspace():
            end -= 1
        if end == 0 or s[end - 1] != "}" or s[end - 2 : end - 1] == "\\":
            break
        end, depth = end - 1, depth + 1
    return s[:end].rstrip()


def _decide(c: Candidates, rules: tuple) -> Extraction:
    for rule in rules:
        found = rule(c)
        if found is not None:
            return found
    raise AssertionError("unreachable: the last rule of each table always decides")


# -- eval mode ---------------------------------------------------------------------------------------------

def _box_cut_open(c: Candidates) -> Extraction | None:
    """A box never closed comes after every complete one (the scan stops there): nothing else is read."""
    return Extraction(None, "truncated_box") if c.truncated else None


def _box_taken_back(c: Candidates) -> Extraction | None:
    """A retraction after the last box: the answer it names, else none (a finished thinking reads on)."""
    if not c.boxes or not c.taken_back:
        return None
    if c.named_last:
        return Extraction(c.named_last[-1], "revised_after_box")
    return _decide(Candidates(c.after_box), EVAL_RULES) if c.thinking else Extraction(None, "retracted")


def _anchor_after_box(c: Candidates) -> Extraction | None:
    """A statement after the last box ("Final Answer: The final answer is X", "\\boxed{420}. Answer: 419")."""
    if not c.boxes:
        return None
    if c.restated:
        return Extraction(c.restated, "anchor_after_box")
    return Extraction(c.named_last[-1], "anchor_after_box") if c.named_last else None


def _last_box(c: Candidates) -> Extraction | None:
    return Extraction(c.group, "boxed") if c.boxes else None


def _anchored(c: Candidates) -> Extraction | None:
    """bold, anchor, anchor_lookback, anchor_negated: the write-up states (or denies) an answer."""
    found = c.anchored
    return Extraction(*found) if found is not None and found[1] != "anchor_unclosed" else None


def _thinking_conclusion(c: Candidates) -> Extraction | None:
    """The write-up states no answer and holds no box, not even a quoted one (cut off, or never written): the
    finished thinking's conclusion, wherever the cut fell. Reward mode does not read it: there the answer must
    follow the thinking."""
    region = c.region
    if region is None or not region.closed or any_box(region.text):
        return None
    concluded = _decide(Candidates(blank_quotes(region.thinking), thinking=True), EVAL_RULES)
    if concluded.answer is not None and concluded.how not in ("retracted", "hedged"):
        return Extraction(concluded.answer, "thinking_conclusion")
    return Extraction(None, "cut_off", after_thinking=True) if region.open_solution else None


def _anchor_unclosed(c: Candidates) -> Extraction | None:
    found = c.anchored
    return Extraction(*found) if found is not None else None


def _whole(c: Candidates) -> Extraction | None:
    return Extraction(c.whole, "whole") if c.whole is not None else None


def _last_statement(c: Candidates) -> Extraction:
    """cut_off, last_math, last_number or none."""
    return Extraction(*c.last_statement)


EVAL_RULES = (   # the first that applies decides
    _box_cut_open,          # truncated_box
    _box_taken_back,        # revised_after_box, retracted
    _anchor_after_box,      # anchor_after_box
    _last_box,              # boxed
    _anchored,              # bold, anchor, anchor_lookback, anchor_negated
    _thinking_conclusion,   # thinking_conclusion, cut_off (a Sky-T1 solution never finished)
    _anchor_unclosed,       # anchor_unclosed
    _whole,                 # whole
    _last_statement,        # cut_off, last_math, last_number, none
)


# -- reward mode -------------------------------------------------------------------------------------------

def _no_box(c: Candidates) -> Extraction | None:
    return Extraction(None, "none") if not c.boxes else None


def _different_boxes(c: Candidates) -> Extraction | None:
    return Extraction(c.group, "hedged", c.distinct) if c.boxed_apart else None


def _retracted_box(c: Candidates) -> Extraction | None:
    return Extraction(c.group, "retracted", c.distinct) if c.taken_back else None


def _named_flood(c: Candidates) -> Extraction | None:
    named = c.named_besides
    if len(named) > _MAX_NAMED or any(a.endswith(" anchors") for a in named):
        return Extraction(c.group, "hedged", c.distinct + tuple(named[:_MAX_NAMED]))
    return None


def _boxed_with_named(c: Candidates) -> Extraction:
    return Extraction(c.group, "boxed", c.distinct, also=tuple(c.named_besides))


REWARD_RULES = (   # the first that applies decides
    _box_cut_open,        # truncated_box
    _no_box,              # none
    _different_boxes,     # hedged: boxes with different answers
    _retracted_box,       # retracted
    _named_flood,         # hedged: an answer named after the box too often
    _boxed_with_named,    # boxed (also: the answers named after the box, each compared too)
)
