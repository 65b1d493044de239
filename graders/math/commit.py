"""What a response stands behind (issue 21): text it writes that must not be read as its answer. Pure string work,
linear in the text's length; `graders.math.extract` applies it in both modes.

- Not the response speaking: fenced and inline code, HTML comments, block-quote lines, a quoted string holding
  a box. They are blanked (same length, so positions hold) before any answer is looked for: a quoted problem
  statement or a format example never answers.
- Not its answer: a box written as an example ("e.g.", "for example", "if the answer were ..., we would write"),
  as an aside or an intermediate result, or labelled as one part ("part (a)") when another part is answered
  without a box.
- Taken back: after the last box, a retraction or a hedge ("wait", "actually", "that is wrong", "scratch that",
  "not sure", "could also be 421"). Reward mode pays nothing; eval mode reads the answer the retraction names,
  else none. An answer named after the box ("or 419", "the answer is 0.5") is compared too (`graders.math.extract`). Negated ("no mistake", "nothing wrong") is not a retraction. A verification
  that agrees is not one either, so a policy loses nothing by checking its work after the box, as long as the
  check does not hedge. The cost: an honest remark that uses these words after the box ("my first try, 419,
  was wrong") is paid 0 in reward mode.
- Macros: a response that (re)defines TeX macros (`\\def`, `\\let`, `\\renewcommand`, ...) can make the
  rendered box say something other than what a grader reads: no answer, both modes.
- A hedge inside `\\text{}` in the answer ("420 \\text{ (or 419)}", "\\text{probably } 420"): not credited,
  both modes, unless the reference itself says so ("2 \\text{ if } n \\text{ is even}").
"""
from __future__ import annotations

import re

# (trigger, pattern): each pass runs only when its trigger is in the text, and each pattern starts with a literal,
# so the regex engine jumps from one candidate to the next (one combined pattern cost ~1 ms per response)
_NOT_SPEAKING = (
    ("```", re.compile(r"```.*?(?:```|\Z)", re.DOTALL)),
    ("`", re.compile(r"`[^`\n]*`")),
    ("<!--", re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)),
    (">", re.compile(r"^[ \t]*>[^\n]*", re.MULTILINE)),
    ('"', re.compile(r"\"[^\"\n]*\\(?:boxed|fbox)[^\"\n]*\"")),
    ("“", re.compile(r"“[^”\n]*\\(?:boxed|fbox)[^”\n]*”")),
)
_EXAMPLE = re.compile(r"(?<![A-Za-z])(?:e\.g\.|for example|for instance|if the answer (?:were|was|is)|we would write"
                      r"|would look like|like this|placeholder|template)(?![A-Za-z])")   # on a lowered sentence
_ASIDE = re.compile(r"(?<![A-Za-z])(?:as an aside|aside|intermediate|side note|sub-?question|auxiliary)(?![A-Za-z])")
_PART = re.compile(r"\bpart\s*\(?[a-h1-9]\)?(?![\w])|(?<![\w\\])\([a-h]\)(?!\w)|\b(?:first|second|third) part\b",
                   re.IGNORECASE)
# Every marker above holds one of these (a cheap test before the full patterns)
_KEY = re.compile(r"e\.g|exampl|instanc|answer (?:were|was|is)|would|like this|placeholder|templat|aside|intermediat"
                  r"|side note|question|auxiliar|part|\([a-h]\)")   # on lowered text: literals only, fast
_LABEL_WINDOW = 200
_MACRO = re.compile(r"\\(?=[degxlfrnpDmc])(?:[egx]?def|let|futurelet|(?:re)?newcommand|providecommand|DeclareMathOperator|DeclareRobustCommand"
                    r"|(?:re)?newenvironment|catcode|mathchardef|chardef|csname|expandafter)(?![A-Za-z])")
# After the last box. ("or 419" names another answer: graders.math.extract compares it, a restatement is no hedge.)
_VALUE_AHEAD = r"(?=\s*\(?\s*(?:-?\d|\$|\\[(\[]))"
_TAKEN_BACK = re.compile(
    r"\b(?:wait|actually|oops|hmm+|sorry|scratch|disregard|kidding|retract\w*|take (?:it|that|this) back"
    r"|ignore (?:that|this|it|the above|my)|on second thought|reconsider\w*|redo|mistakes?|mistaken|wrong"
    r"|incorrect\w*|erroneous|not (?:quite )?(?:right|correct|sure|certain|confident|the (?:right|correct|final) answer)"
    r"|unsure|uncertain|doubt\w*|guess\w*|probably|maybe|perhaps|possibly"
    r"|(?:could|might|may) (?:also |instead |well )?be" + _VALUE_AHEAD + r")\b",
)   # matched against lowered text: without IGNORECASE the engine runs several times faster
_NEGATED = re.compile(r"\b(?:no|not|nothing|without|never|any)\b[^.,;:\n]{0,12}$|n't[^.,;:\n]{0,12}$")
_CLOSING = " \t\n.$)]}\\"   # what may close a box's sentence: nothing to take back
_NEGATABLE = ("mistake", "mistakes", "mistaken", "wrong", "incorrect", "erroneous", "doubt", "guess")
_TEXT = re.compile(r"\\(?:text|textbf|textit|textrm|textnormal|mbox|mathrm)\s*\{([^{}]*)\}")
_HEDGE_WORD = re.compile(r"\b(?:or|maybe|perhaps|possibly|probably|likely|unlikely|guess\w*|unsure|not sure|uncertain|either"
                         r"|if|unless|otherwise|else|might|could)\b", re.IGNORECASE)


def blank_quotes(text: str) -> str:
    """`text` with code, comments, block quotes and quoted boxes replaced by spaces of the same length."""
    for trigger, pattern in _NOT_SPEAKING:
        if trigger in text and (trigger != ">" or "\n>" in text or text.lstrip()[:1] == ">"):
            text = pattern.sub(_blank, text)
    return text


def _blank(m: re.Match) -> str:
    return re.sub(r"[^\n]", " ", m.group())


def answer_boxes(text: str, boxes: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The boxes that may be the answer: examples and asides dropped; boxes labelled as parts dropped when some
    part of the response is answered without a box. A box's own sentence is read back to the previous box at
    most, so a megabyte of boxes stays linear."""
    kept, labelled, previous_end = [], set(), 0
    for box in boxes:
        sentence = _own_sentence(text, max(previous_end, box[0] - _LABEL_WINDOW), box[0])
        previous_end = box[1]
        if _KEY.search(sentence) is None:   # the common case: no marker, no pass of the full patterns
            kept.append(box)
            continue
        if _EXAMPLE.search(sentence) or _ASIDE.search(sentence):
            continue
        kept.append(box)
        if _PART.search(sentence):
            labelled.add(box[0])
    if labelled and _unboxed_part([m.start() for m in _PART.finditer(text)], [b[0] for b in kept], len(text)):
        return [b for b in kept if b[0] not in labelled]
    return kept


def _own_sentence(text: str, lo: int, end: int) -> str:
    """text[lo:end] from its last sentence break on, lowered."""
    cut = max(text.rfind("\n", lo, end), text.rfind(". ", lo, end) + 1)
    return text[max(lo, cut + 1):end].lower()


def _unboxed_part(labels: list[int], box_starts: list[int], end_of_text: int) -> bool:
    """Some part label is followed by no box before the next label (or the end); both lists ascending."""
    k = 0
    for start, end in zip(labels, labels[1:] + [end_of_text]):
        while k < len(box_starts) and box_starts[k] < start:
            k += 1
        if k == len(box_starts) or box_starts[k] >= end:
            return True
    return False


def redefines_macros(text: str) -> bool:
    return _MACRO.search(text) is not None


def taken_back(after_box: str) -> bool:
    """The text after the last box retracts or hedges it (see the module docstring)."""
    if not after_box.strip(_CLOSING):   # the common case: the response ends with its box
        return False
    lowered = after_box.lower()
    for m in _TAKEN_BACK.finditer(lowered):
        if m.group() in _NEGATABLE and _NEGATED.search(lowered[max(0, m.start() - 30) : m.start()]):
            continue
        return True
    return False


def text_hedge(answer: str) -> str | None:
    """The hedge word in a `\\text{}` of the answer ("or" alone joins a list: "2 \\text{ or } 3"), else None."""
    for m in _TEXT.finditer(answer):
        content = m.group(1).strip(" ,")
        if content.lower() in ("or", "and", ""):
            continue
        hedge = _HEDGE_WORD.search(content)
        if hedge:
            return hedge.group().lower()
    return None
