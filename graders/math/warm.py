"""Imported by the grading zygote (`graders.zygote`), so that every worker forks with SymPy and the LaTeX parser
loaded (a cold worker would spend ~1 s of its deadline on imports); `steps` then warms the zygote one answer shape at
a time between fork requests, so that every worker forked after the warm-up starts warm.

Why warm, not only import: latex2sympy2's ANTLR parser builds its prediction DFA lazily, one decision
state at a time, the first time it meets each token pattern (`ParserATNSimulator.computeTargetState`),
and SymPy and `re` fill their own caches on first use. A fresh worker paid 30-250 ms for the first
mixed number, time of day, surd or `\\text{}` unit it saw (issue 10: `4:30 \\text{ p.m.}` cost 0.6 s
once per process), and every worker respawned after a deadline kill paid it again. These DFA
states live in class-level tables, so building them here, before the fork, hands them to every
worker. The shapes below are generic answer forms, not held-out cases. The first worker of a process forks
before the warm-up (a fresh process's first verdict must not wait ~0.7 s for it, issue 21) and is replaced by a
warm one when it is done.
"""
import sympy  # noqa: F401
from latex2sympy2_extended import latex2sympy

import graders.math.compare  # noqa: F401
from graders.math.compare import CompareOptions

_SHAPES = (
    # (gold, response) pairs, both sides through the whole normalise + parse + compare path
    ("\\frac{1}{2}", "0.5"), ("5\\frac{2}{7}", "5 \\frac{2}{7}"), ("3\\pi", "3 \\pi"), ("6b+1", "1+6b"),
    ("\\sqrt{21}+5\\sqrt{6}", "5\\sqrt{6}+\\sqrt{21}"), ("\\frac{\\sqrt{3}}{2}", "\\dfrac{\\sqrt3}{2}"),
    ("11:45 \\text{ a.m.}", "11:45a"), ("10:15", "10:15 \\text{ a.m.}"), ("12 \\text{ cm}^2", "12"),
    ("30^\\circ", "30"), ("25\\%", "0.25"), ("\\$18.90", "18.9"), ("1{,}000", "1,000"),
    ("(1,2)", "(1, 2)"), ("[-2, 5)", "[-2,5)"), ("(-\\infty, 3] \\cup [4, \\infty)", "x \\le 3 \\text{ or } x \\ge 4"),
    ("\\{1, 2, 3\\}", "3, 2, 1"), ("\\begin{pmatrix} 1 \\\\ -2 \\end{pmatrix}", "\\begin{pmatrix}1\\\\-2\\end{pmatrix}"),
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}"),
    ("y = 2x + 3", "2x - y + 3 = 0"), ("x > 2", "(2, \\infty)"), ("-3 < x < 1", "(-3,1)"),
    ("3 \\pm 2\\sqrt{2}", "3+2\\sqrt{2}, 3-2\\sqrt{2}"), ("x^2 + 2x + 1", "(x+1)^2"), ("2^{10}", "1024"),
    ("\\sin^2 x", "1 - \\cos^2 x"), ("\\log_2 8", "3"), ("\\ln 2", "\\log(2)"), ("e^{i\\pi/4}", "\\frac{1+i}{\\sqrt2}"),
    ("-2 + 7i", "7i - 2"), ("\\binom{5}{2}", "10"), ("5!", "120"), ("\\text{(C)}", "C"), ("A", "\\text{A}"),
    ("\\text{Evelyn}", "Evelyn"), ("p(x) = x^3 - x", "x^3-x"), ("f^{-1}(x) = \\frac{x-1}{2}", "\\frac{x-1}{2}"),
    ("0.\\overline{3}", "\\frac13"), ("1.5 \\times 10^{3}", "1500"), ("a_{n} = 2n", "2n"), ("|x - 1|", "\\left| x-1 \\right|"),
    ("\\frac{a+b}{c}", "(a+b)/c"), ("\\cos \\theta", "\\cos(\\theta)"), ("\\tan^{-1} 1", "\\frac{\\pi}{4}"),
)


def steps():
    """One answer shape through the whole comparison per step (a few to 80 ms each, ~0.7 s in all)."""
    from graders.math import compare_job
    from graders.math.normalize import normalize

    for options in (CompareOptions(None, True, False), CompareOptions(None, True, False, sides_must_agree=True)):
        for gold, response in _SHAPES:
            g, gp = normalize(gold)
            r, rp = normalize(response, labelled_columns="\\begin{" not in g)
            compare_job(g, r, options, (gp, rp))
            yield gold
    latex2sympy("\\frac{x^{2}+1}{2}")
    yield "latex2sympy"


def warm() -> None:
    """The whole warm-up at once (for a process that grades in-process, e.g. `tools/bench_math.py`)."""
    for _ in steps():
        pass
