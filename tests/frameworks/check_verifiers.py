"""verifiers 0.4.0 scoring with our plugged reward (graders/rewards/verifiers.py:task_reward) through its own
code. Runs INSIDE .venvs/verifiers, started by tests/test_frameworks.py; by hand:

    PYTHONPATH=. .venvs/verifiers/bin/python -m pytest -q tests/frameworks/check_verifiers.py

The reward is plugged by import path in a `TaskConfig` (`rewards.<name>.fn = "module:function"`), loaded by
verifiers' `load_plugged_fn` and called by `Task.score` (verifiers/v1/task.py:213-270, arguments bound by
parameter name out of {"task", "trace", "runtime"}). 0.4.0 has no `vf.Rubric` (rl_loop.md §3 describes
the earlier API). The trace is built directly (`Trace.model_construct` with the reply): running a rollout
needs a model server and a harness, which is not what this checks.
"""
from __future__ import annotations

import asyncio
import json

import pytest
import verifiers as vf
from verifiers.v1.task import Task, WireTaskData
from verifiers.v1.trace import Trace

from graders.rewards import verifiers as ours

FN = "graders.rewards.verifiers:task_reward"
GOOD = "```python\nprint(2*int(input()))\n```"
CODE_TESTS = json.dumps({"inputs": ["3\n", "5\n"], "outputs": ["6\n", "10\n"]})
# (task data fields, reply, expected reward, expected mimo_masked metric)
CASES = [
    ({"answer": "7"}, "so \\boxed{7}", 1.0, 0.0),
    ({"answer": "7"}, "<think>\\boxed{7}</think> no idea", 0.0, 0.0),
    ({"answer": "7", "data_source": "aime24"}, "\\boxed{\\frac{14}{2}}", 1.0, 0.0),
    ({"answer": "\\frac{1}{"}, "\\boxed{7}", 0.0, 1.0),
    ({"answer": CODE_TESTS, "data_source": "codecontests"}, GOOD, 1.0, 0.0),
]


def score(fields: dict, reply: str) -> Trace:
    config = Task.config_type()(rewards={"correct": {"fn": FN}})
    task = Task(WireTaskData(prompt="Q", **fields), config)
    trace = Trace.model_construct(root_reply=reply, rewards={}, metrics={})
    asyncio.run(task.score(trace))
    return trace


def test_verifiers_version():
    assert vf.__version__ == "0.4.0"


@pytest.mark.parametrize("fields,reply,reward,masked", CASES)
def test_task_score_with_plugged_reward(fields, reply, reward, masked):
    trace = score(fields, reply)
    assert trace.rewards["correct"].score == reward and trace.rewards["correct"].weight == 1.0
    assert trace.metrics["mimo_masked"] == masked


def test_task_without_answer_is_a_clear_error():
    with pytest.raises(Exception, match="no 'answer' field"):
        score({"info": "x"}, "\\boxed{7}")


def test_legacy_rubric_says_what_to_use_instead():
    with pytest.raises(ImportError, match="task_reward"):
        ours.rubric()


# A template that opens the thinking (R1-distill, QwQ): the task says so (a `thinking_opened` field), or the
# reward is made for the run with make_task_reward(thinking_opened=True); a reply cut inside it has no answer.
@pytest.mark.parametrize("reply,reward", [("so \\boxed{7}", 0.0), ("</think> so \\boxed{7}", 1.0)])
def test_thinking_opened_task_field(reply, reward):
    assert score({"answer": "7", "thinking_opened": True}, reply).rewards["correct"].score == reward


def test_thinking_opened_run_reward_and_a_split_reply():
    from verifiers.v1.graph import MessageNode
    from verifiers.v1.types import AssistantMessage

    data = WireTaskData(prompt="Q", answer="7")
    opened = ours.make_task_reward(thinking_opened=True)
    cut = Trace.model_construct(root_reply="so \\boxed{7}", rewards={}, metrics={})
    assert asyncio.run(opened(data, cut)) == 0.0
    # a server that split the reasoning off (reasoning_content) leaves the answer alone in the reply
    reply = AssistantMessage(content="so \\boxed{7}", reasoning_content="hmm, 3 + 4 is 7")
    split = Trace.model_construct(nodes=[MessageNode(message=reply, sampled=True)], rewards={}, metrics={})
    assert split.last_reply == "so \\boxed{7}" and asyncio.run(opened(data, split)) == 1.0
