"""The math grader on output shaped like a reasoning model's (issue 10): boxes inside the thinking, thinking
markers (`<think>`, a `</think>` whose opening tag was in the prompt, Sky-T1's `<|begin_of_thought|>` ...
`<|end_of_solution|>`), responses cut off at the token limit, self-corrections, checks after the answer,
closing phrases, prose answers. One table per mode; each row says which real output it is shaped after
(models and harnesses of ../shared/data/reasoning_outputs/README.md), and which rule must decide it.

    python -m pytest tests/test_math_reasoning.py -q
"""
from __future__ import annotations

import pytest

from graders.math import grade
from graders.math.extract import RULES
from graders.types import MathVerdict

SLOW_OK = 20.0   # correctness, not speed: a loaded machine must not turn these into timeouts

# Long thinking, as DeepScaleR-1.5B / R1 distills write it (template opened <think> in the prompt or not)
THINK = ("<think>\nOkay, so I need to find xy. Let me write down the equations.\n\n"
         "log_x(y^x) = 10 means x log_x y = 10. Hmm, maybe \\boxed{10}? No wait.\n\n" + "Let me check again. " * 30)
SKY_THOUGHT = "<|begin_of_thought|>\n\nSo I've got this problem here. Let's see what it's asking.\n\n" + "Alright. " * 40

# (gold, response, correct, rule): eval mode
EVAL = [
    # R1-style: a guess boxed inside the thinking, the answer boxed after </think> (issue 10 item 1)
    ("8", THINK + "maybe \\boxed{7}?</think> After checking, the answer is \\boxed{8}.", True, "boxed"),
    ("7, 8", THINK + "maybe \\boxed{7}?</think> After checking, the answer is \\boxed{8}.", False, "boxed"),
    # DeepScaleR: the template opened <think> in the prompt, so only </think> is in the response
    ("25", "Okay, so xy = \\boxed{20}? Let me redo it.\n</think>\n\nThus $xy = \\boxed{25}$.", True, "boxed"),
    # Sky-T1: thought, then a solution section between its markers
    ("5", SKY_THOUGHT + "so \\boxed{3}.\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\nThe answer is "
     "\\(\\boxed{5}\\).\n\n<|end_of_solution|>", True, "boxed"),
    # DeepScaleR at max_tokens=1024: cut inside <think> right after a tentative answer (item 2)
    ("25", THINK + "So, solving 50 = 2xy => xy = 25. So, perhaps the answer is 25.\n\nBut let me verify "
     "step by step.\n\nWhich is log_x(y^x) = x *", False, "unfinished_thinking"),
    # Sky-T1-27B looping at 32k inside its thought: a box and a number before the cut, no end marker
    ("2", SKY_THOUGHT + "so a = \\boxed{2} works.\n\nWait, but earlier I thought that for a > 2, f(a) = a^3 > a^2 + 2a",
     False, "unfinished_thinking"),
    # a closed thinking that is reopened and cut off has not finished either
    ("3", THINK + "</think> \\boxed{3} <think> Hmm, wait, let me reconsider the case", False, "unfinished_thinking"),
    # a self-correction is not a list (item 3)
    ("5", "First I get \\boxed{3}. Wait, that is wrong; correcting the sign, the answer is \\boxed{5}.", True, "boxed"),
    ("3, 5", "First I get \\boxed{3}. Wait, that is wrong; correcting the sign, the answer is \\boxed{5}.", False, "boxed"),
    # items of one list: adjacent, a list word, a comma, or labels
    ("2, 3", "The solutions are $\\boxed{2}$ and $\\boxed{3}$.", True, "boxed"),
    ("1, 2", "So $x = \\boxed{1}$, $y = \\boxed{2}$.", True, "boxed"),
    ("1, 2", "So we need \\boxed{1} papers and \\boxed{2} bins.", True, "boxed"),   # Math-Verify test_boxed shape
    ("5", "It is \\boxed{3}, no wait, \\boxed{5}.", True, "boxed"),                  # a revision in a short gap
    ("3", "It is \\boxed{2} or maybe \\boxed{3}.", False, "boxed"),                  # a hedge stays a list
    ("3", "The answer is \\boxed{2}, not \\boxed{3}.", False, "boxed"),              # so does a rejected last box
    # checking arithmetic after the answer (item 4)
    ("12", "The answer is 12. Check: 12 * 2 = 24", True, "anchor"),
    ("80", "The total is **80**.\n\nVerification: 80 = 16 * 5, and 16 + 5 = 21", True, "bold"),
    ("80", "## Answer\n\n80\n\nCheck: 80 / 5 = 16 and 16 * 5 = 80.", True, "anchor"),
    # Sky-T1-27B prose endings: the anchor closes the statement before it (item 5)
    ("(15,-29)", "y = -3(4) - 12 - 5 = -29\n\nSo, the point is $(15, -29)$. I think that's the final answer.", True,
     "anchor_lookback"),
    ("284", "So, the sum of the proper divisors of 284 is indeed 284.\n\nI think that's the final answer.", True,
     "anchor_lookback"),
    ("284", "So, the final answer should be 284.\n\nThat also seems correct.\n\nI think that's the final answer.", True,
     "anchor"),
    # a verdict on the answer is no answer: "our answer is correct" falls back to the last statement
    ("18", "16 * 18 = 288, as given. So, our answer is correct.\n\nIn any case, the greater integer is indeed 18.",
     True, "last_number"),
    ("\\frac{7}{4}", "Therefore, the value of b is indeed 7/4. I think that's the answer.", True, "last_number"),
    ("3", "Therefore, I'm confident that the answer is three boxes contain neither pens nor pencils.", True, "anchor"),
    ("1", "The answer is one of the two roots found above, namely x = 5.", False, "anchor"),
    # the thinking finished, the write-up after it hit the token limit: what the thinking concluded
    ("116", THINK + "So m + n = \\boxed{116}.\n</think>\n\n1. **Setup**: the probability is \\( \\frac{1}{115} \\), "
     "so \\( m = 1", True, "thinking_conclusion"),
    ("64", SKY_THOUGHT + "Therefore, the minimum value is 64.\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n"
     "Let \\( a, b, c, d", True, "thinking_conclusion"),
    # ... but a write-up that commits to an answer (a box, an anchor) is the answer, whatever the thinking boxed
    ("8", THINK + "so \\boxed{7}.</think>\n\nThe answer is 8.", True, "anchor"),
    # one cut-off policy (issue 21): a write-up that commits to no answer is read for the thinking's conclusion,
    # wherever it stops: mid-expression (above) or after a full stop, since nothing tells a finished prose
    # write-up from one cut at the end of a sentence
    ("7", THINK + "so \\boxed{7}.</think>\n\nThus the value of x is 8.", True, "thinking_conclusion"),
    ("116", THINK + "So m + n = \\boxed{116}.\n</think>\n\n1. **Setup**: the probability is \\( \\frac{1}{115} \\), "
     "so \\( m = 1 \\).", True, "thinking_conclusion"),
    ("116", THINK + "So m + n = \\boxed{116}.\n</think>\n\n1. **Setup**: the probability is", True, "thinking_conclusion"),
    # ... and prose is never an answer: an anchor cut off after "The" states none
    ("24", THINK + "so it is 24.</think>\n\n**Final Answer**\n\nThe", True, "thinking_conclusion"),
    ("24", "So we can always make 24.\n\n**Final Answer**\n\nThe", False, "anchor_unclosed"),
    ("24", "Whatever the four cards, the answer is always 24.", True, "anchor"),
    # Sky-T1-27B without markers, cut off mid-expression: the last number belongs to an unfinished step
    ("\\frac{1}{2}", "Squaring both sides:\n\nx^2 + y^2 < (x + k/2)^2 + (y - 1/2)^2\n\nExpanding:\n\n"
     "x^2 + y^2 < x^2 + kx + (k^2)/4 + y^2 - ky + (1/2", False, "cut_off"),
    ("40", "So the number of daps is:\n\ndaps = 42 * (20/21) =", False, "cut_off"),
    # a hedge after an anchor stays a list
    ("3", THINK + "</think>\n\nThe answer is 3 or 4.", False, "anchor"),
]

# (gold, response, correct, rule): reward mode is box-only; the thinking rules are the same
REWARD = [
    ("8", THINK + "maybe \\boxed{7}?</think> After checking, the answer is \\boxed{8}.", True, "boxed"),
    ("7", THINK + "maybe \\boxed{7}?</think> After checking, the answer is \\boxed{8}.", False, "boxed"),
    ("25", "Okay, so xy = \\boxed{20}? Let me redo it.\n</think>\n\nThus $xy = \\boxed{25}$.", True, "boxed"),
    ("5", SKY_THOUGHT + "so \\boxed{3}.\n<|end_of_thought|>\n<|begin_of_solution|>\n\\boxed{5}\n<|end_of_solution|>",
     True, "boxed"),
    ("25", THINK + "So, perhaps the answer is \\boxed{25}.\n\nBut let me verify step by step.", False, "unfinished_thinking"),
    # a box only inside the thinking: the answer must follow it
    ("5", THINK + "so \\boxed{5}.</think> I am done.", False, "none"),
    # the write-up after the thinking was cut off: reward mode does not read the thinking's conclusion
    ("116", THINK + "So m + n = \\boxed{116}.\n</think>\n\n1. **Setup**: so \\( m = 1", False, "none"),
    # after the thinking a revision cannot be told from a hedge written to look like one: two answers score 0
    ("5", THINK + "</think> First I get \\boxed{3}. Wait, that is wrong; the answer is \\boxed{5}.", False, "hedged"),
    ("2, 3", THINK + "</think> The roots are $\\boxed{2}$ and $\\boxed{3}$.", True, "boxed"),
]


def _row_id(table: str, i: int, row) -> str:
    return f"{table}-{i}-{row[3]}"


@pytest.mark.parametrize("gold,response,correct,rule", [pytest.param(*r, id=_row_id("eval", i, r)) for i, r in enumerate(EVAL)])
def test_eval_mode(gold, response, correct, rule):
    v = grade(gold=gold, response=response, timeout_s=SLOW_OK)
    assert (v.correct, v.rule) == (correct, rule), v


@pytest.mark.parametrize("gold,response,correct,rule", [pytest.param(*r, id=_row_id("reward", i, r)) for i, r in enumerate(REWARD)])
def test_reward_mode(gold, response, correct, rule):
    v = grade(gold=gold, response=response, mode="reward", timeout_s=SLOW_OK)
    assert (v.correct, v.rule) == (correct, rule), v


@pytest.mark.parametrize("mode", ["eval", "reward"])
def test_unfinished_thinking_is_a_zero_not_a_mask(mode):
    # a policy cannot turn its wrong answer into a masked sample by leaving its thinking open
    v = grade(gold="25", response=THINK + "the answer is \\boxed{24}", mode=mode)
    assert v.reason == "no_answer" and v.score == 0.0 and "thinking never finished" in v.detail


@pytest.mark.parametrize("gold,response,correct,rule", [pytest.param(*r, id=_row_id("detail", i, r)) for i, r in enumerate(EVAL)])
def test_every_verdict_names_its_rule(gold, response, correct, rule):
    v = grade(gold=gold, response=response, timeout_s=SLOW_OK)
    assert v.detail.startswith(RULES[v.rule]), v


def test_verdict_stays_backward_compatible():
    # callers that build or unpack verdicts positionally (the RL reward pool) keep working
    v = MathVerdict(True, "correct", "1", "1", "1", False, "literal")
    assert v.rule == "" and v.score == 1.0


# The prompt opened the thinking (R1-distill and QwQ templates end it with "<think>"): the response carries only the
# closing marker, and one cut off mid-thinking carries none (issue 21 item 1). The caller says so: thinking_opened.
CUT_MID_THINKING = [
    ("25", "Okay, so I need xy. Then 50 = 2xy, so xy = 25.\n\nSo the answer is \\boxed{25}. But let me verify step"),
    ("25", "Okay, so xy = 25. The final answer is 25.\n\nWait, let me double-check the logarithm identity: x *"),
    ("116", "So m + n = 116.\n\n**Final Answer**\n\\boxed{116}"),   # the thinking's own summary, cut before </think>
]


@pytest.mark.parametrize("gold,response", CUT_MID_THINKING)
@pytest.mark.parametrize("mode", ["eval", "reward"])
def test_a_response_cut_inside_a_thinking_the_prompt_opened_has_no_answer(gold, response, mode):
    v = grade(gold=gold, response=response, mode=mode, thinking_opened=True, timeout_s=SLOW_OK)
    assert (v.reason, v.rule, v.score) == ("no_answer", "unfinished_thinking", 0.0), v
    # without the input the response alone looks like a finished answer: the grader cannot know, the prompt does
    assert grade(gold=gold, response=response, mode="eval", timeout_s=SLOW_OK).correct


@pytest.mark.parametrize("mode", ["eval", "reward"])
def test_a_thinking_the_prompt_opened_and_the_response_closed_is_read_after_its_close(mode):
    response = "So maybe \\boxed{20}? No: xy = 25.\n</think>\n\nThus $xy = \\boxed{25}$."
    v = grade(gold="25", response=response, mode=mode, thinking_opened=True, timeout_s=SLOW_OK)
    assert v.correct and v.rule == "boxed", v


RENDERED_PROMPTS = [   # the end of prompts as these chat templates render them (add_generation_prompt=True)
    ("<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜><think>\n", True),           # DeepSeek-R1-Distill
    ("<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n", True),      # QwQ-32B
    ("<|im_start|>assistant\n<think>\n\n</think>\n\n", False),         # Qwen3 with enable_thinking=False
    ("<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", False),              # Qwen2.5
    ("<|begin_of_thought|>\n", True),
    ("Question: a prompt that mentions <think> and </think> tags.\nAnswer:", False),
]


@pytest.mark.parametrize("prompt,opened", RENDERED_PROMPTS)
def test_opens_thinking_reads_a_rendered_prompt(prompt, opened):
    from graders.math.thinking import opens_thinking

    assert opens_thinking(prompt) is opened
