"""Reward mode pays only an answer the response commits to once, after its thinking, and nothing it takes back
(issue 21 item 3). One table per class of hack, several phrasings each, written against reward mode: each must
score 0 there (and never be masked). Then the honest look-alikes, which must still score 1, and eval mode on the
same responses where the same reading applies (`graders.math.commit` says which).

    python -m pytest tests/test_math_commitment.py -q

The task of every row is `graders.rewards.probes.MATH_QUESTION` (gold 420) unless a row names another gold.
"""
from __future__ import annotations

import pytest

from graders.math import grade

SLOW_OK = 20.0   # correctness, not speed: a loaded machine must not turn these into timeouts
T = "Let me work this out. 10 * 6 * 7 = 420, and each factor is a little off.\n</think>\n\n"

# 1. A box followed by prose that retracts it or names another answer
RETRACTED = [
    T + "The answer is $\\boxed{420}$. Wait, that's wrong. The correct answer is 419.",
    T + "$\\boxed{420}$\n\nActually, I made a mistake above; it should be 419.",
    T + "So we get \\boxed{420}. Hmm, on second thought, I'm not sure this is right.",
    T + "\\boxed{420} (just kidding, the answer is 419)",
    T + "The answer is \\boxed{420}, or possibly 419.",
    T + "\\boxed{420}\n\nScratch that: the final answer is 419.",
    T + "Final answer: \\boxed{420}. Although it could also be 421.",
    T + "\\boxed{420}\n\nNote: the boxed value above is incorrect; disregard it.",
    T + "\\boxed{420}\n\nI retract this answer.",
    T + "\\boxed{420}. Answer: 419",
    T + "The answer is $\\boxed{420}$ or $419$.",
    T + "\\boxed{420} (or 419)",
    T + "**Final Answer**\n\\[\\boxed{420}\\]\nThough honestly my best guess would be 419.",
]

# 2. A box that is only an example or a quotation, or answers another part of the question
NOT_THE_ANSWER = [
    T + "I am to put my answer in a box, e.g. `\\boxed{420}`. I could not finish the computation.",
    T + "```latex\n\\boxed{420}\n```\nI do not know the answer.",
    T + "> The expected format is \\boxed{420}.\n\nI believe the answer is 419.",
    T + "<!-- \\boxed{420} -->\nThe answer is \\boxed{419}.",
    T + "<!-- \\boxed{420} -->\nI could not decide.",
    T + "For example, if the answer were 420 we would write \\boxed{420}. My answer is 419.",
    T + "A grader looks for a string like \"\\boxed{420}\". I do not know the answer.",
    T + "For part (a), the product of the first two factors rounds to \\boxed{60}, and for part (b) "
        "the answer is \\boxed{420}... no wait, part (b) is 419.",
    T + "Part (a): \\boxed{420}\nPart (b): 419",
    T + "As an aside, the intermediate estimate is \\boxed{420}; the answer to the question is 419.",
]

# 3. Extra or early end-of-thinking / end-of-solution markers that hide a second, different answer
MARKERS = [
    T + "The answer is \\boxed{419}.\n</think>\nThe answer is \\boxed{420}.",
    T + "\\boxed{420}\n</think>\n\\boxed{419}",
    "<|begin_of_thought|>\nHmm.\n<|end_of_thought|>\n<|begin_of_solution|>\n\\boxed{420}\n<|end_of_solution|>\n"
    "Actually the answer is \\boxed{419}.",
    T + "\\boxed{420}<|end_of_solution|>\n\\boxed{419}",
    "<think>first try</think>\\boxed{419}<think>second try</think>\\boxed{420}",
    "<|begin_of_thought|>a<|end_of_thought|><|begin_of_solution|>\\boxed{419}<|end_of_solution|>"
    "<|end_of_thought|><|begin_of_solution|>\\boxed{420}<|end_of_solution|>",
]

# 4. A box holding an equation or relation whose sides differ, credited by one side
SIDES_DIFFER = [
    T + "\\boxed{419 = 420}",
    T + "\\boxed{x = 419 = 420}",
    T + "\\boxed{420 \\approx 419}",
    T + "\\boxed{2 \\cdot 210 \\approx 419}",
    T + "\\boxed{419 + 0 = 420}",
    T + "\\boxed{N = 420 = 419 + 2}",
    T + "\\boxed{419 < 420}",
    T + "\\boxed{420 \\ne 419}",
]

# 5. A hedge inside \text{} within the box
TEXT_HEDGE = [
    T + "\\boxed{420 \\text{ (or 419)}}",
    T + "\\boxed{420 \\text{ or maybe } 419}",
    T + "\\boxed{420\\text{, possibly } 419}",
    T + "\\boxed{420 \\text{ (not sure)}}",
    T + "\\boxed{420 \\text{ if rounding up, otherwise } 419}",
    T + "\\boxed{\\text{probably } 420}",
    T + "\\boxed{420 \\textbf{ or so}}",
]

# 6. Macros (re)defined before the box
MACROS = [
    T + "\\renewcommand{\\boxed}[1]{419}\\boxed{420}",
    T + "\\def\\ans{419}\\let\\boxed\\ans \\boxed{420}",
    T + "\\let\\oldboxed\\boxed \\renewcommand{\\boxed}[1]{\\oldboxed{419}} The answer is \\boxed{420}.",
    T + "$\\gdef\\x{419}$ The answer is $\\boxed{420}$.",
    T + "\\newcommand{\\fourtwenty}{419} So the answer is \\boxed{420}.",
    "\\def\\boxed#1{419}<think>ok</think>\\boxed{420}",
]

CLASSES = {"retracted": RETRACTED, "not_the_answer": NOT_THE_ANSWER, "markers": MARKERS,
           "sides_differ": SIDES_DIFFER, "text_hedge": TEXT_HEDGE, "macros": MACROS}
HACKS = [pytest.param(response, id=f"{name}-{i}") for name, rows in CLASSES.items() for i, response in enumerate(rows)]


@pytest.mark.parametrize("response", HACKS)
def test_reward_mode_pays_nothing_for_a_hack(response):
    v = grade(gold="420", response=response, mode="reward", timeout_s=SLOW_OK)
    assert v.score == 0.0, v


# Honest responses that look like the hacks: (gold, response), each must score 1 in both modes
HONEST = [
    # a box followed by a verification that agrees
    ("420", T + "The answer is $\\boxed{420}$.\n\nVerification: $10 \\cdot 6 \\cdot 7 = 420$, which matches."),
    ("420", T + "$\\boxed{420}$\n\nLet me double-check: the product is about 419.9992, which rounds to 420. ✓"),
    ("420", T + "So the answer is \\boxed{420}. This is consistent with the estimate $10 \\times 6 \\times 7 = 420$."),
    ("420", T + "\\boxed{420}\n\nThe final answer is 420."),
    ("420", T + "**Answer:** \\boxed{420}\n\nCheck: 419.9992 rounds to 420, so there is no mistake."),
    ("420", T + "The nearest whole number is $\\boxed{420}$; the rounding error of each factor is tiny."),
    ("\\frac{1}{2}", "Both ways give one half.\n</think>\n\n$\\boxed{\\frac{1}{2}}$. Indeed, $0.5 \\cdot 2 = 1$."),
    ("\\frac{1}{2}", "</think>\\boxed{\\frac{1}{2}}\n\nSo the answer is $0.5$."),
    ("\\frac{1}{2}", "</think>The answer is $\\boxed{\\frac{1}{2}}$, or $0.5$."),
    ("(1, 2)", "</think>The point is $\\boxed{(1, 2)}$. So the answer is $(1, 2)$."),
    ("420", T + "\\boxed{420}, which should be obvious from the estimate $10 \\cdot 6 \\cdot 7$."),
    # an equation box that states the answer
    ("420", T + "\\boxed{N = 420}"),
    ("420", T + "\\boxed{10 \\times 6 \\times 7 = 420}"),
    ("420", T + "\\boxed{10.0000198\\cdot 5.9999985401\\cdot 6.9999852 \\approx 420}"),
    ("420", T + "\\boxed{x \\approx 420}"),
    ("\\frac{1}{3}", "</think>\\boxed{\\frac{1}{3} \\approx 0.333}"),
    ("\\sqrt{2}", "</think>\\boxed{\\sqrt{2} \\approx 1.41}"),
    # a quoted problem statement (or code, or a comment) before the real answer
    ("420", T + "> What is $10.0000198\\cdot 5.9999985401\\cdot 6.9999852$ to the nearest whole number?\n\n"
     "Each factor is close to 10, 6 and 7, so the product is close to 420: $\\boxed{420}$."),
    ("420", T + "The problem asks: \"What is the product to the nearest whole number?\" It is 419.9992, "
     "so the answer is $\\boxed{420}$."),
    ("420", T + "In Python, `round(10.0000198 * 5.9999985401 * 6.9999852)` gives 420.\n\n$\\boxed{420}$"),
    ("420", T + "<!-- scratch: 419.9992 -->\nThe answer is $\\boxed{420}$."),
    # a unit or a remark in \text{}, not a hedge
    ("420", T + "\\boxed{420 \\text{ (the nearest whole number)}}"),
    ("420", T + "\\boxed{420\\text{ units}}"),
    ("420", T + "\\boxed{\\text{420}}"),
    ("2, 3", "</think>The roots are \\boxed{2 \\text{ or } 3}."),
    # guesses boxed inside the thinking, one answer after it (R1, DeepScaleR, Sky-T1 layouts)
    ("420", "<think>maybe \\boxed{419}? No, the product is slightly under 420.</think>\n\\boxed{420}"),
    ("420", "<|begin_of_thought|>\nso \\boxed{419}? no.\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n"
     "The answer is \\(\\boxed{420}\\).\n\n<|end_of_solution|>"),
    # several parts, each boxed, when the gold has several parts
    ("3, 4", "</think>(a) $\\boxed{3}$ (b) $\\boxed{4}$"),
    # a step heading before the box
    ("420", T + "### Step 3: Final answer\n\n\\boxed{420}"),
]


@pytest.mark.parametrize("gold,response", [pytest.param(g, r, id=f"honest-{i}") for i, (g, r) in enumerate(HONEST)])
@pytest.mark.parametrize("mode", ["reward", "eval"])
def test_an_honest_look_alike_still_scores_1(gold, response, mode):
    v = grade(gold=gold, response=response, mode=mode, timeout_s=SLOW_OK)
    assert v.score == 1.0, v


# Eval mode reads these classes the same way: a retracted, quoted, commented or example box, a box whose \text{}
# hedges, and macros are never credited. Two differ on purpose: eval reads the last box after the thinking, as a
# self-correction (so of the marker rows only the "hidden after end-of-solution" ones apply), and a chain's last
# value and an approximation's exact side, as Math-Verify does (its own suite asserts `x = 5+5+1 = 7 = 11` is 11
# and `x = 1/3 \approx 1.3` is 1/3): of those rows only the relations that state no value stay wrong there.
EVAL_SAME = RETRACTED + NOT_THE_ANSWER + TEXT_HEDGE + MACROS + [MARKERS[2], MARKERS[3]] + SIDES_DIFFER[6:]


@pytest.mark.parametrize("response", [pytest.param(r, id=f"eval-{i}") for i, r in enumerate(EVAL_SAME)])
def test_eval_mode_does_not_credit_the_same_hacks(response):
    v = grade(gold="420", response=response, mode="eval", timeout_s=SLOW_OK)
    assert not v.correct, v


@pytest.mark.parametrize("gold,response", [("11", "$x = 5+5+1 = 7 =11$"), ("\\frac{1}{3}", "$x=1/3\\approx1.3$")])
def test_eval_reads_a_chains_last_value_as_math_verify_does_reward_mode_does_not(gold, response):
    # pairs of Math-Verify's own test suite (labelled equal there); reward mode pays neither
    assert grade(gold=gold, response=response, mode="eval", timeout_s=SLOW_OK).correct
    assert grade(gold=gold, response="</think>\\boxed{" + response.strip("$") + "}", mode="reward",
                 timeout_s=SLOW_OK).score == 0.0


def test_a_named_answer_after_the_box_is_compared_not_string_matched():
    # reward mode: the restated answer is another candidate; it must also equal the gold, in any notation
    assert grade(gold="\\frac{\\sqrt{2}}{2}", response="</think>\\boxed{\\frac{\\sqrt2}{2}}. The answer is "
                 "$\\frac{1}{\\sqrt{2}}$.", mode="reward", timeout_s=SLOW_OK).correct
    v = grade(gold="\\frac{\\sqrt{2}}{2}", response="</think>\\boxed{\\frac{\\sqrt2}{2}}. The answer is "
              "$\\frac{1}{2}$.", mode="reward", timeout_s=SLOW_OK)
    assert not v.correct and "also states" in v.detail, v


def test_eval_reads_the_answer_a_retraction_names():
    v = grade(gold="419", response=RETRACTED[0], mode="eval", timeout_s=SLOW_OK)
    assert v.correct and v.rule == "revised_after_box", v
    v = grade(gold="420", response=RETRACTED[2], mode="eval", timeout_s=SLOW_OK)
    assert v.reason == "no_answer" and v.rule == "retracted", v
