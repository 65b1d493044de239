"""Normalising an answer string before it is parsed: one small named rewrite per notation.

Applied to gold and response alike. Every rewrite is a local string substitution (no backtracking
regexes), so the cost is linear in the answer's length.
"""
from __future__ import annotations

import functools
import itertools
import re

_UNICODE = {
    "−": "-", "–": "-", "—": "-", "×": "\\times ", "·": "\\cdot ", "÷": "\\div ", "√": "\\sqrt",
    "π": "\\pi ", "∞": "\\infty ", "≤": "\\le ", "≥": "\\ge ", "≠": "\\ne ", "°": "", "∪": "\\cup ",
    "∩": "\\cap ", "∈": "\\in ", "½": "\\frac{1}{2}", "⁄": "/", "\u00a0": " ", "\u2009": " ", "\u200b": "",
}
_DROP = re.compile(
    r"\\(?:left|right|big|Big|bigg|Bigg)(?:l|r|m)?(?=[^a-zA-Z])|\\displaystyle|\\textstyle|\\!|\\limits"
)
_SPACES = re.compile(r"(?<!\\)\\[,;:> ]|\\q?quad|~|\\hspace\*?\{[^{}]*\}")
_FRAC_ALIASES = re.compile(r"\\[dtc]frac")
_TEXT_ALIASES = re.compile(r"\\(?:mbox|textbf|textit|textrm|textnormal|mathrm|mathbf|mathit|mathsf|operatorname\*?)(?=\s*\{)")
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\circ|\\degree|\^\s*\{\s*\\text\{\s*o\s*\}\s*\}")
_PERCENT = re.compile(r"\\?%|\\text\{\s*percent\s*\}|\bpercent(?:age)?\b|\bpct\b")
_DOUBLED = re.compile(r"\\\\(?=[a-zA-Z(\[{}])")           # JSON-escaped LaTeX: "\\frac" -> "\frac"
_LATEX_THOUSANDS = re.compile(r"(?<=\d),\s*\\!\s*(?=\d{3})")   # "10,\!000"
_DECIMAL_COMMA = re.compile(r"^(-?\d+),(\d\d)$|^(-?0),(\d+)$")  # "2,74", "0,111": European decimals
_APPROX = re.compile(r"\s*(?:\\approx(?![a-zA-Z])|≈)\s*")
_APPROX_VAR = re.compile(r"^\s*([a-zA-Z](?:_\{?\w+\}?)?)\s*(?:\\approx|≈)")
# "The area of triangle ABC is \frac{54}{25}", "\text{and the requested sum is }505": the value after "is"
_IS = re.compile(r"\\text\{[^{}]*\bis\b\s*\}|\bis\b")
_REMARK = re.compile(r"\\text\{\s*\(?\s*(?:approx|about|roughly|which|i\.e)", re.IGNORECASE)
_GROUP_OR = re.compile(r"(?<=[)\]}])\s*(?:or|and)\s*(?=[(\[{])")
_THOUSANDS_BRACE = re.compile(r"(?<=\d)\{,\}(?=\d{3})")
_THOUSANDS = re.compile(r"^-?[1-9]\d{0,2}(?:(?:,|\s)\d{3})+(?:\.\d+)?$")
_TRAILING_PERIOD = re.compile(r"(?<=[\w})\]])\s*\.+$")
_DOLLAR = re.compile(r"\\\$|\$")
_SHORT_FRAC = re.compile(r"\\frac\s*(\d|\\[a-zA-Z]+|[a-zA-Z])\s*(\d|\\[a-zA-Z]+|[a-zA-Z])")
_SHORT_FRAC_ONE = re.compile(r"\\frac\s*(\{[^{}]*\})\s*(\d|\\[a-zA-Z]+|[a-zA-Z])(?![a-zA-Z])")
_SHORT_FRAC_TWO = re.compile(r"\\frac\s*(\d|\\[a-zA-Z]+|[a-zA-Z])\s*(\{)")
_SHORT_SQRT = re.compile(r"\\sqrt\s*(\d+|\\[a-zA-Z]+|[a-zA-Z])")
_AND_OR = re.compile(r"\\text\{\s*(?:and|or|,)\s*\}|(?<!\s)\s+(?:and|or)\s+|\\(?:quad|qquad)\s*(?:and|or)\b")
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
}
_NUMBER_WORDS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70",
                      "eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000"})
_UNITS = (
    "units? square units? sq units? cubic units? degrees? radians? cm centimeters? centimetres? mm meters? "
    "metres? km kilometers? inch(?:es)? in feet foot ft yards? miles? mph hours? hrs? minutes? mins? "
    "seconds? secs? days? weeks? months? years? dollars? cents? pounds? ounces? oz grams? kg kilograms? "
    "liters? litres? ml gallons? people persons? students? ways? times? points? handshakes? games? "
    "miles per hour sq ft square feet square inches square meters square centimeters cubic feet cubic inches "
    "cubic centimeters cm\\^2 cm\\^3 m\\^2 m\\^3 ft\\^2 in\\^2 rm"
).split()
_UNIT_WORD = re.compile(r"(?<=[\d}\s)])\s*(?:" + "|".join(u.replace("?", "?") for u in _UNITS) + r")\s*(?:\^\{?[23]\}?)?\s*$")
# "5 m", "10 s": a one-letter unit only after a space, so "2s" and "r + 2s" keep their variable
_LETTER_UNIT = re.compile(r"(?<=\d) (?:m|s)$")
# strict=False renaming: a command and its braced name (\\mathbb{R}, \\text{cm}) is no variable; a lone letter is
_COMMAND = re.compile(r"\\(?:text|math[a-z]+|operatorname)\{[^{}]*\}|\\[a-zA-Z]+")
_LETTER = re.compile(r"(?<![A-Za-z])[A-Za-z](?![A-Za-z])")
_COMMAND_OR_LETTER = re.compile(_COMMAND.pattern + "|" + _LETTER.pattern)
_TEXT_GROUP = re.compile(r"\\text\s*\{([^{}]*)\}")
_NAME_CELL = re.compile(r"[A-Za-z](?:_\{?\w+\}?)?")
_NUMBER_CELL = re.compile(r"-?\d+(?:\.\d+)?")
_MATRIX_ENV = re.compile(r"\\begin\{(matrix|pmatrix|bmatrix|array)\}(?:\{[^{}]*\})?(.*?)\\end\{\1\}", re.DOTALL)


def _text_group(m: re.Match) -> str:
    content = m.group(1).strip()
    lowered = content.lower()
    if lowered in _NUMBER_WORDS:
        return _NUMBER_WORDS[lowered]
    if re.fullmatch(r"-?[\d.,]+", content):
        return content
    if lowered in ("and", "or"):
        return ", "      # with the space: "12, 13" is a list, "12,13" would read as a decimal comma
    return "\\text{" + content + "}"


def _strip_trailing_units(s: str) -> str:
    # A trailing \text{...} after a value is a unit or a remark ("5 \text{ cm}", "4 \text{(approximately)}").
    for _ in range(3):
        m = re.search(r"\\text\{[^{}]*\}\s*(?:\^\{?[23]\}?)?\s*$", s)
        if not m or not s[: m.start()].strip() or not re.search(r"[\d}a-zA-Z)]\s*$", s[: m.start()]):
            break
        s = s[: m.start()].rstrip()
    head, tail = s[:-120], s[-120:]    # units sit at the end; a bounded tail keeps the regex linear
    s2 = head + _LETTER_UNIT.sub("", _UNIT_WORD.sub("", tail))
    return s2 if s2.strip() else s


def _drop_remark(s: str) -> str:
    """"\\frac{737}{39} \\text{(about 18.9 cards)}": the remark and what follows it go."""
    m = _REMARK.search(s)
    if not m:
        return s
    head = s[: m.start()].rstrip()
    return head[:-1].rstrip() if head.endswith("(") else head


def _after_is(s: str) -> str:
    m = _IS.search(s)
    if m and len(re.findall(r"[A-Za-z]{2,}", s[: m.start()])) >= 2 and s[m.end():].strip():
        return s[m.end():].strip()
    return s


def _unbreak_matrix(m: re.Match, labelled_columns: bool = False) -> str:
    """A bare `matrix` of one column, or one whose cells are fragments (`\\frac{ \\\\ 4 \\\\ }{ ...`), is an
    expression broken over lines, not a matrix: contest answers write matrices with delimiters."""
    body = m.group(2)
    cells = [c.strip() for c in re.split(r"\\\\|&", body)]
    broken = any(c.count("{") != c.count("}") for c in cells) or any(
        c in ("+", "-", "\\times", "\\cdot", "=", "/", ",", "^{}") for c in cells
    )
    filled = [c for c in cells if c]
    names, values = filled[0::2], filled[1::2]
    if labelled_columns and "&" not in body and len(filled) >= 4 and len(names) == len(values) == len(set(names)) and all(
        _NAME_CELL.fullmatch(n) for n in names
    ) and all(_NUMBER_CELL.fullmatch(v) for v in values):
        # a column of distinct labels and their numbers, "a \\ 13 \\ b \\ 14": the tuple (a, b) = (13, 14)
        return f"({', '.join(names)}) = ({', '.join(values)})"
    if m.group(1) == "matrix" and (broken or "&" not in body):
        return re.sub(r"(?<=\d) (?=\d)", "", " ".join(filled))
    return m.group(0)


def normalize(answer: str, *, labelled_columns: bool = False) -> tuple[str, bool]:
    """Normalised answer text and whether it carried a percent sign. `labelled_columns`: read a column
    `a \\\\ 13 \\\\ b \\\\ 14` as the labelled values (a, b) = (13, 14); for a response, when the gold is no matrix.
    Short answers are cached: an RL group repeats its gold and most of its answers."""
    if len(answer) <= CACHED_CHARS:
        return _normalize_cached(answer, labelled_columns)
    return _normalize(answer, labelled_columns)


CACHED_CHARS = 500


@functools.lru_cache(maxsize=1 << 14)
def _normalize_cached(answer: str, labelled_columns: bool) -> tuple[str, bool]:
    return _normalize(answer, labelled_columns)


def _normalize(answer: str, labelled_columns: bool) -> tuple[str, bool]:
    s = answer
    if "\\begin" not in s:
        s = _DOUBLED.sub(r"\\", s)
    s = _LATEX_THOUSANDS.sub("", s)
    for k, v in _UNICODE.items():
        if k in s:
            s = s.replace(k, v)
    s = _MATRIX_ENV.sub(lambda m: _unbreak_matrix(m, labelled_columns), s)
    s = s.replace("\\\\", " \\\\ ") if "\\begin" in s else s.replace("\\\\", " ")
    s = re.sub(r"\n\s*\n", ", ", s.strip())   # answers on separate paragraphs are a list
    s = s.replace("\n", " ").replace("\t", " ")
    s = _DROP.sub("", s)
    s = _SPACES.sub(" ", s)
    s = _FRAC_ALIASES.sub(r"\\frac", s)
    s = _TEXT_ALIASES.sub(r"\\text", s)
    s = s.replace("\\boxed", "").replace("\\fbox", "")
    s = _DEGREES.sub("", s)
    has_percent = bool(_PERCENT.search(s))
    s = _PERCENT.sub("", s)
    s = _DOLLAR.sub("", s)
    s = _drop_remark(s)
    s = _after_is(s)
    s = _TEXT_GROUP.sub(_text_group, s)
    s = _AND_OR.sub(", ", s)      # the space keeps "12 and 13" a list, not the decimal 12,13
    s = _GROUP_OR.sub(", ", s)
    s = _APPROX_VAR.sub(r"\1 =", s)     # "x \approx 11" names the value; "1/3 \approx 0.33" states both sides
    s = _APPROX.sub(lambda m: " \\approx ", s)   # kept: the sides must agree (graders.math.compare.approx_agree)
    s = _THOUSANDS_BRACE.sub("", s)
    s = s.replace("{,}", ",")
    s = _SHORT_FRAC.sub(r"\\frac{\1}{\2}", s)
    s = _SHORT_FRAC_ONE.sub(r"\\frac\1{\2}", s)
    s = _SHORT_FRAC_TWO.sub(r"\\frac{\1}\2", s)
    s = _SHORT_SQRT.sub(r"\\sqrt{\1}", s)
    s = s.replace("\\leqslant", "\\le").replace("\\geqslant", "\\ge").replace("\\neq", "\\ne")
    s = s.replace("\\lt", "<").replace("\\gt", ">").replace("\\leq", "\\le").replace("\\geq", "\\ge")
    s = re.sub(r"\binfinity\b|\binf\b", r"\\infty", s)
    s = " ".join(s.split())
    return _whole_answer(_TRAILING_PERIOD.sub("", s).strip()), has_percent


def _whole_answer(s: str) -> str:
    """The last steps, on the whole answer: one number written with separators or a decimal comma, braces written
    without their backslash, trailing units, a number written as a word."""
    if _THOUSANDS.match(s):   # "1,000" / "10 000" is one number; "153, 370" (comma and space) stays a list
        s = s.replace(",", "").replace(" ", "")
    m = _DECIMAL_COMMA.match(s)
    if m:
        s = f"{m.group(1)}.{m.group(2)}" if m.group(1) is not None else f"{m.group(3)}.{m.group(4)}"
    if len(s) > 1 and s[0] == "{" and s[-1] == "}" and _braces_balanced(s[1:-1]):
        s = s[1:-1].strip()           # "{1,2,3}": braces written without the backslash
    s = ", ".join(_strip_trailing_units(item) for item in split_top_level(s, ",")) if "," in s else _strip_trailing_units(s)
    lowered = s.lower()
    if lowered in _NUMBER_WORDS:
        s = _NUMBER_WORDS[lowered]
    return s.strip()


def _braces_balanced(s: str) -> bool:
    depth = 0
    for c in s:
        depth += (c == "{") - (c == "}")
        if depth < 0:
            return False
    return depth == 0


def split_top_level(s: str, seps: str = ",;") -> list[str]:
    """Split on separators that are not inside any bracket or brace."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(s):
        c = s[i]
        if c == "\\" and s.startswith(("\\{", "\\}"), i):
            depth += 1 if s[i + 1] == "{" else -1
            i += 2
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c in seps and depth == 0:
            parts.append(s[start:i])
            start = i + 1
        i += 1
    parts.append(s[start:])
    return [p.strip() for p in parts]


def letter_renamings(gold: str, response: str):
    """strict=False: the response with its own letters renamed to the gold's, one renaming for the whole
    answer (`f(y)` for `f(x)`); letters both sides use keep their meaning, so `y - x` is not `x - y`."""
    letters = lambda s: set(_LETTER.findall(_COMMAND.sub(" ", s))) - {"e", "i"}   # noqa: E731 - constants stay
    gold_only, resp_only = sorted(letters(gold) - letters(response)), sorted(letters(response) - letters(gold))
    if not gold_only or len(gold_only) != len(resp_only) or len(gold_only) > 3:
        return
    for perm in itertools.permutations(gold_only):
        mapping = dict(zip(resp_only, perm))
        yield _rename(response, mapping)


def _rename(s: str, mapping: dict[str, str]) -> str:
    """Single letters replaced by `mapping`, LaTeX commands and \\text{} left alone."""
    out, last = [], 0
    for m in _COMMAND_OR_LETTER.finditer(s):
        if m.group() in mapping:
            out += [s[last : m.start()], mapping[m.group()]]
            last = m.end()
    return "".join(out) + s[last:]
