"""verifiers: our reward in a verifiers environment.

verifiers 0.4.0 (read from its source: verifiers/v1/task.py `Task.score`, utils/decorators.py `invoke`) has
no `vf.Rubric`: a task's rewards are `@vf.reward` methods or functions plugged by import path in the task
config, called with the arguments their parameter names ask for out of {"task", "trace", "runtime"}, and
awaited together. `task_reward(task, trace)` is such a function:

    [env.taskset.task.rewards.correct]            # in the environment's TOML config
    fn = "graders.rewards.verifiers:task_reward"

It reads the gold from the task data's `answer` field (a TaskData subclass or WireTaskData extra), the
kind from its `data_source` field if any (else math), and the response from `trace.last_reply`. Math's
`thinking_opened` (the server's chat template ended the prompt inside an open `<think>`, so a reply without
`</think>` is unfinished thinking and scores 0) comes from the task's `thinking_opened` field, else from
`make_task_reward(thinking_opened=True)` (assign it in your module and plug that); a reply whose reasoning the
server split off (`reasoning_content` set) holds no thinking, so it is never read as unfinished.
Earlier verifiers (and prime-rl environments built on them) bind `vf.Rubric(funcs=[...])` functions by the
names completion / answer / info: `correct_answer` is that function, and `rubric()` builds the Rubric on a
verifiers that still has one. A reward must be a float in both, so an undecided sample scores 0.0; 0.4.0's
trace also records the metric "mimo_masked" = 1.0 (recorded, not summed into the reward).
"""
from __future__ import annotations

from typing import Any, Mapping

from graders.rewards._common import completion_text, math_options, pool_from
from graders.rewards.routing import kind_for


def _kind(fields: Mapping | Any) -> str:
    source = fields.get("data_source") if isinstance(fields, Mapping) else getattr(fields, "data_source", None)
    return "math" if source is None else kind_for(source)


def make_task_reward(*, thinking_opened: bool | None = None):
    """A verifiers 0.4.0 reward like `task_reward`, for a run whose template opens the thinking (or not)."""
    async def task_reward(task, trace) -> float:
        answer = getattr(task, "answer", None)
        if answer is None:
            raise ValueError(f"task {type(task).__name__} has no 'answer' field: give the task data the gold answer "
                             "as 'answer' (a TaskData subclass, or an extra field on WireTaskData)")
        kind = _kind(task)
        opened = getattr(task, "thinking_opened", None)
        opened = thinking_opened if opened is None else opened
        replies = trace.assistant_messages
        if replies and replies[-1].reasoning_content:   # the server split the thinking off: the reply is the answer
            opened = False
        result = await pool_from({}).ascore(kind, trace.last_reply, answer, math_options(kind, None, opened))
        trace.record_metric("mimo_masked", float(result.masked))
        return 0.0 if result.score is None else result.score

    return task_reward


task_reward = make_task_reward()   # verifiers 0.4.0 plugged reward


async def correct_answer(completion, answer, info=None, **kwargs) -> float:
    """Legacy Rubric function: `completion` a str or chat messages, `answer` the gold, `info` a dict (its
    `thinking_opened` as above)."""
    kind = _kind(info or {})
    options = math_options(kind, None, (info or {}).get("thinking_opened"))
    result = await pool_from({}).ascore(kind, completion_text(completion), answer, options)
    return 0.0 if result.score is None else result.score


def rubric(weight: float = 1.0):
    """A `vf.Rubric` scoring with `correct_answer`, on a verifiers that has Rubric (before 0.4.0)."""
    import verifiers as vf

    if not hasattr(vf, "Rubric"):
        raise ImportError(f"verifiers {getattr(vf, '__version__', '?')} has no Rubric: plug "
                          "graders.rewards.verifiers:task_reward into the task config's rewards instead")
    return vf.Rubric(funcs=[correct_answer], weights=[weight])
