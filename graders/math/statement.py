"""Reading an answer out of prose: the statement after an anchor, the statement an anchor closes, and
the last statement of a response. Pure string work on bounded windows (a line, a sentence, the tail).

A statement is a sentence: it ends at a newline or at a period followed by a space, never inside
math (`$...$`, `\\(...\\)`, `\\[...\\]`, `$$...$$`). The answer of a statement is what follows its
last " is " / " = " (outside math), then its math spans, else its number; "The answer is 12. Check:
12 * 2 = 24" reads 12 because the check is a second statement.
"""
from __future__ import annotations

import re

# Inline math ($...$, \(...\)) does not span lines: a lone "$" across lines is far more often currency.
# A `\[` or `\(` span ends before the next opener of its kind (they do not nest): an opener that never
# closes then costs a scan to the next opener, not to the end of the text (quadratic on 1 MB of `\[`).
MATH_ENV = re.compile(
    r"\$\$(.+?)\$\$|\\\[((?:(?!\\\[).)+?)\\\]|(?<!\\)\$((?:\\\$|[^$\n])+?)(?<!\\)\$"
    r"|\\\(((?:(?!\\\()[^\n])+?)\\\)", re.DOTALL
)
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|-?\.\d+")
PROSE = re.compile(r"(?<![\\{])\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\b|(?<![\\{A-Za-z])[A-Za-z]{4,}\s*[:=]")
_DISPLAY_START = re.compile(r"\s*(?=\\\[|\$\$)")
_LIST_GAP = re.compile(r"[\s\"',;]*(?:\band\b|\bor\b)?[\s\"',;]*", re.IGNORECASE)
# Between two math spans of one statement, a hedge ("$5$ or possibly $6$", "$5$ (or $6$)") keeps both: a
# list, never credit for the first alone (as box lists do, graders.math.boxes).
_HEDGE_GAP = re.compile(r"\b(?:or|maybe|perhaps|possibly|alternatively|otherwise)\b|/", re.IGNORECASE)
# A next statement that opens with a hedge and goes straight on to a value ("The answer is 5.\nOr maybe 6.")
_HEDGE_NEXT = re.compile(r"[\s.,;]*(?:but\s+)?(?:or|maybe|perhaps|possibly|alternatively)\b[\s,]*(?:(?:maybe|perhaps"
                         r"|possibly|it\s+is|it's)\b[\s,]*)*(?=-?\d|\$|\\[(\[])", re.IGNORECASE)
_IS = re.compile(r"\s(?:is|are|equals|=)\s")
# Words that sit between "is" and the value without changing it: "is indeed 284", "is exactly 7".
_FILLER = re.compile(r"^(?:(?:indeed|exactly|just|still|also|then|now|actually|simply|clearly|equal\s+to|given\s+by)\s+)+",
                     re.IGNORECASE)
_JUDGEMENT = re.compile(r"\s*(?:(?:indeed|still|also|probably|definitely)\s+)?(?:correct|right|wrong|incorrect|consistent|valid"
                        r"|verified|confirmed|reasonable|plausible|accurate|sound|solid|fine|ok(?:ay)?)\s*(?:[.,;:!]|$|(?:and|but|because|since|as)\b)",
                        re.IGNORECASE)
_NEGATION = re.compile(r"\s*(?:(?:definitely|certainly|clearly|surely|obviously|probably|actually)\s+)?(?:not|never|n't)\b",
                       re.IGNORECASE)
_HOPE = re.compile(r"\.?\s*I hope it is correct.*$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"\n|\.(?=\s)|(?<!\d)\.$")
_UNITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
# Not the opening of a larger number, a fraction or a ratio ("one half", "three thousand", "two-thirds", "twenty
# one hundred", "nine out of ten", "three to one" must not read 1, 3, 2, 20, 9 or 3), nor "one of".
_NOT_WHOLE = (r"of|hundred|thousand|million|billion|trillion|point|half|halves|and\s+(?:a|one)\b|plus|minus|times|over"
              r"|divided|squared|cubed|to|out|by|(?:third|quarter|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh"
              r"|twelfth|\w+teenth|\w+tieth|hundredth|thousandth|millionth)s?|" + "|".join(_TENS + _UNITS))
_NUMBER_WORD = re.compile(r"^(%s)(?:[- ](%s))?\b(?![- ]+(?:%s)\b)" % ("|".join(_TENS + _UNITS), "|".join(_UNITS[1:10]), _NOT_WHOLE),
                          re.IGNORECASE)
# The response stops mid-expression: an operator or an opening bracket last, or brackets left open.
_DANGLING = re.compile(r"[=+\-*/^(\[{,]\s*$")
# Prose is never an answer: a statement's value that is only a function word, or words before the value.
_LEADING_WORDS = re.compile(r"\s*(?:[A-Za-z]{2,}\s+)+(?=[-\d$\\(])")
_LIST_WORD = re.compile(r"(?:and|or)", re.IGNORECASE)
_FUNCTION_WORDS = frozenset(
    "the a an this that these those it its we our us i you he she they them so then thus hence therefore which "
    "where when while because since let to of in on for from with and or as at by be is are was were will can "
    "given found follows below above here there".split())
BOLD = re.compile(r"\*\*([^*\n]{1,120})\*\*")


def _env_text(m: re.Match) -> str:
    return next(g for g in m.groups() if g is not None)


def _sentence_bounds(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, splitting outside math spans only."""
    spans = [m.span() for m in MATH_ENV.finditer(text)]
    bounds, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if any(a <= m.start() < b for a, b in spans):
            continue
        bounds.append((start, m.start()))
        start = m.end()
    bounds.append((start, len(text)))
    return bounds


def number_word(statement: str) -> str | None:
    """"three boxes contain neither" -> "3": a statement that opens with a number written as a word."""
    m = _NUMBER_WORD.match(statement.strip())
    if not m:
        return None
    first = m.group(1).lower()
    value = _UNITS.index(first) if first in _UNITS else 20 + 10 * _TENS.index(first)
    if m.group(2) and first in _TENS:
        value += _UNITS.index(m.group(2).lower())
    return str(value)


def _stated_value(line: str) -> str:
    """The part of a statement that states its value: "The volume of $ABCD$ is indeed 120." -> "120."."""
    line = _HOPE.sub("", line)
    # what follows the last " is " outside math that still has math or a number after it ("$1$ or $2$
    # (both are possible)" keeps its answer)
    spans = [e.span() for e in MATH_ENV.finditer(line)]
    cuts = [m.end() for m in _IS.finditer(line) if not any(a <= m.start() < b for a, b in spans)
            and (any(a >= m.end() for a, _ in spans) or re.search(r"\d", line[m.end():]))]
    return _FILLER.sub("", line[cuts[-1]:] if cuts else line.strip(" \t*:"))


def negated(statement: str) -> bool:
    """"The answer is not $5$", "... is definitely not 5": the statement denies a value, it states none."""
    return _NEGATION.match(_stated_value(statement)) is not None


def read_statement(line: str) -> str:
    """The answer one statement gives, or "" when it gives none."""
    line = _stated_value(line)
    if _NEGATION.match(line):
        return ""
    envs = list(MATH_ENV.finditer(line))
    if envs:
        # "$12$ and $13$", "$x=1$, $y=2$": spans joined only by list words or a hedge are one list; a lone
        # letter after the first ("$5$ and $x$ must be positive") is prose about the answer
        listed = [envs[0]]
        for env in envs[1:]:
            gap = line[listed[-1].end() : env.start()]
            if not (_LIST_GAP.fullmatch(gap) or _HEDGE_GAP.search(gap)):
                break
            listed.append(env)
        texts = [_env_text(e) for e in listed]
        while len(texts) > 1 and re.fullmatch(r"\s*[A-Za-z]\s*", texts[-1]):
            texts.pop()
        return ", ".join(texts)
    if not re.search(r"\d", line) and (word := number_word(line)):
        return word
    if PROSE.search(line):     # "Jane started growing it 3 hours ago": the number it states
        return rightmost_math(line)[0] or ""
    lead = _LEADING_WORDS.match(line)
    if lead and not _LIST_WORD.fullmatch(lead.group().strip()):   # "always 24": words before the value are prose
        return read_statement(line[lead.end():])
    line = line.strip().strip("*").strip()
    if line.lower().strip(".,;:!?") in _FUNCTION_WORDS:   # "**Final Answer**\n\nThe" (cut off): prose, not an answer
        return ""
    return "" if line in ("$", "$$", "\\(", "\\[") else line   # math opened here and never closed on this line


def first_statement(after: str) -> tuple[str, str]:
    """What an anchor is followed by: (answer, status), status "ok", "ended" (the anchor's sentence ends
    with nothing in it: "that's the final answer."), "judged" ("our answer is correct": a verdict on an
    answer given earlier), "negated" ("the answer is not 5") or "unclosed" (math opened and never closed)."""
    after = after.lstrip(" \t:*")
    if after[:1] in (".", "!", ",", ";", ")") or not after.strip():
        return "", "ended"
    if after[:1] == "\n":   # "## Answer" or "The final answer is:" ending its line: the next line states it
        after = after.lstrip()
    display = _DISPLAY_START.match(after)
    if display:
        env = MATH_ENV.match(after, display.end())
        if env:
            return _with_hedge(_env_text(env).strip(), after[env.end():]), "ok"
    line = after.split("\n", 1)[0][:300]
    start, end = _sentence_bounds(line)[0]
    if _JUDGEMENT.match(line[start:end]):
        return "", "judged"
    if negated(line[start:end]):
        return "", "negated"
    answer = read_statement(line[start:end])
    if answer:
        return _with_hedge(answer, after[end:]), "ok"
    opened = line.strip().startswith(("$", "\\(", "\\["))
    # words and no value, and the text ends inside that statement ("The final answer is the number of"): cut off
    cut = "\n" not in after.strip() and not after.rstrip().endswith((".", "!", "?"))
    return "", "unclosed" if opened or cut else "ended"


def _with_hedge(answer: str, rest: str) -> str:
    """The answer, listed with the value of a next statement that hedges it: a list is never credit for one."""
    hedge = _HEDGE_NEXT.match(rest[:300])
    if hedge is None:
        return answer
    line = rest[hedge.end():].split("\n", 1)[0][:300]
    start, end = _sentence_bounds(line)[0]
    other = read_statement(line[start:end])
    # a lone letter ("Maybe $x$ is even") is prose about the answer, not another one
    return f"{answer}, {other}" if other and not re.fullmatch(r"\s*[A-Za-z]\s*", other) else answer


def statement_before(text: str, pos: int) -> str:
    """The statement an anchor at `pos` closes: the part of its own sentence before it if that has math or
    a number ("So the point is (15, -29), the final answer"), else the sentence before."""
    window_start = max(0, pos - 1500)
    window = text[window_start:pos]
    sentences = [window[a:b] for a, b in _sentence_bounds(window)]
    own = sentences.pop() if sentences else ""
    if re.search(r"\d|\$|\\\(|\\\[", own):
        return own
    while sentences and not sentences[-1].strip():
        sentences.pop()
    return sentences[-1] if sentences else ""


def rightmost_math(text: str) -> tuple[str | None, str]:
    """The rightmost math environment or number: the last thing the text states; (answer, how)."""
    env = None
    for env in MATH_ENV.finditer(text):
        pass
    number = None
    for number in NUMBER.finditer(text):
        pass
    if env is not None and (number is None or env.end() >= number.end()):
        return _env_text(env), "last_math"
    if number is not None:
        return number.group().rstrip(","), "last_number"
    return None, "none"


def cut_off_mid_expression(text: str) -> bool:
    """The last line stops inside an expression ("x^2 + (1/2", "daps = 42 * (20/21) ="): the response was cut
    off, and whatever number it last wrote is part of an unfinished step, not a statement."""
    last = text.rstrip().rsplit("\n", 1)[-1]
    if _DANGLING.search(last):
        return True
    depth = 0
    for c in last:
        depth += (c in "([{") - (c in ")]}")
    return depth > 0


def bold_answer(text: str) -> re.Match | None:
    """The last bold span that holds only math (`**80**`, `**$x = 5$**`, `**(15, -29)**`), not a heading."""
    last = None
    for m in BOLD.finditer(text):
        inner = re.sub(r"\\[A-Za-z]+", "", m.group(1))
        line_start = m.start() == 0 or text[m.start() - 1] == "\n"
        if line_start and re.fullmatch(r"\s*\(?\d+[.):]?\s*", inner):   # "**1.** Set up": a numbered step
            continue
        if re.search(r"\d", inner) and not re.search(r"[A-Za-z]{2,}", inner):
            last = m
    return last
