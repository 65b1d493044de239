"""A run records whether its prompts end inside an open thinking block (`thinking_opened` in config.json) and grades
knowing it (issue 21 item 1): R1-distill and QwQ templates end the prompt with `<think>`, so a response cut off
mid-thinking carries no marker at all and would otherwise be read as an answer. Through the real CLI against fake
OpenAI-compatible servers (tests/fake_openai_server.py; the real grader; aime24's 30 bundled problems) and the hf
backend's own rendering of a tiny model's template.

Run: python -m pytest -q tests/test_run_thinking.py
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from fake_openai_server import FakeOpenAIServer, answers_for
from mimo_eval.cli import main

MODEL = FakeOpenAIServer.model
CUT = 14   # aime24's even-numbered problems: 2, 4, ..., 14 of each exam


def r1_render(body: dict) -> str:
    """The end of a DeepSeek-R1-Distill prompt; Qwen3's template closes the block when thinking is switched off."""
    if (body.get("chat_template_kwargs") or {}).get("enable_thinking") is False:
        return "<|im_start|>user\n" + body["messages"][-1]["content"] + "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    return "<｜User｜>" + body["messages"][-1]["content"] + "<｜Assistant｜><think>\n"


def half_cut(problem) -> tuple[str, str]:
    """Every answer right; on the even-numbered problems the response was cut inside the thinking (no </think>)."""
    if int(problem.metadata["problem_number"]) % 2 == 0:
        return f"So the answer is \\boxed{{{problem.reference}}}. Let me verify once more", "length"
    return f"So it is {problem.reference}.\n</think>\n\nThe answer is $\\boxed{{{problem.reference}}}$.", "stop"


def run(server: FakeOpenAIServer, out: Path, *extra: str) -> tuple[dict, list[dict]]:
    assert main(["run", "aime24", "--model", MODEL, "--backend", "openai", "--base-url", server.base_url,
                 "--out", str(out), "--n", "1", "--no-progress", *extra]) == 0
    run_dir = next(out.iterdir())
    config = json.loads((run_dir / "config.json").read_text())
    return config, [json.loads(line) for line in (run_dir / "scores.jsonl").read_text().splitlines()]


def test_auto_asks_the_server_to_render_and_grades_a_cut_thinking_as_no_answer(tmp_path):
    with FakeOpenAIServer(script=answers_for("aime24", half_cut), render=r1_render) as server:
        config, scores = run(server, tmp_path)
    assert config["thinking_opened"] is True
    assert server.tokenize_bodies and server.tokenize_bodies[0]["add_generation_prompt"] is True
    cut = [s for s in scores if s["reason"] == "no_answer"]
    assert len(cut) == CUT and all("thinking never finished" in s["detail"] for s in cut)
    assert sum(s["correct"] for s in scores) == 30 - CUT


def test_the_server_renders_with_the_runs_chat_template_kwargs(tmp_path):
    with FakeOpenAIServer(script=answers_for("aime24", half_cut), render=r1_render) as server:
        config, _ = run(server, tmp_path, "--extra-body", '{"chat_template_kwargs": {"enable_thinking": false}}')
    assert config["thinking_opened"] is False
    assert server.tokenize_bodies[0]["chat_template_kwargs"] == {"enable_thinking": False}


@pytest.mark.parametrize("flag,expected", [("yes", True), ("no", False)])
def test_the_flag_decides_without_asking(tmp_path, flag, expected):
    with FakeOpenAIServer(script=answers_for("aime24", half_cut), render=r1_render) as server:
        config, scores = run(server, tmp_path, "--thinking-opened", flag)
    assert config["thinking_opened"] is expected and not server.tokenize_bodies
    assert sum(s["correct"] for s in scores) == (30 - CUT if expected else 30)


def test_a_server_that_cannot_render_leaves_it_unknown_and_says_so(tmp_path, caplog):
    with caplog.at_level(logging.WARNING), FakeOpenAIServer(script=answers_for("aime24", half_cut)) as server:
        config, scores = run(server, tmp_path)
    assert config["thinking_opened"] is None and "--thinking-opened" in caplog.text
    assert sum(s["correct"] for s in scores) == 30     # graded from the response alone, as before


def test_a_reply_whose_reasoning_the_server_split_off_is_the_answer(tmp_path):
    def answer(problem):
        return f"The answer is $\\boxed{{{problem.reference}}}$.", "stop"

    script = answers_for("aime24", answer, reasoning="Let me think... it is the reference.")
    with FakeOpenAIServer(script=script, render=r1_render) as server:
        config, scores = run(server, tmp_path)
    assert config["thinking_opened"] is True and all(s["correct"] for s in scores)


def test_rescore_grades_with_the_recorded_value(tmp_path):
    with FakeOpenAIServer(script=answers_for("aime24", half_cut), render=r1_render) as server:
        run(server, tmp_path)
    run_dir = next(tmp_path.iterdir())
    assert main(["score", str(run_dir), "--rescore", "--no-progress"]) == 0
    scores = [json.loads(line) for line in (run_dir / "scores.jsonl").read_text().splitlines()]
    assert sum(s["correct"] for s in scores) == 30 - CUT


@pytest.mark.parametrize("name", ["hf", "vllm"])
def test_hf_and_vllm_backends_render_the_models_own_template(tmp_path, name):
    """Before any model is loaded: the tokenizer files alone (vLLM's engine would render the same template)."""
    pytest.importorskip("torch", reason="torch not installed: pip install 'mimo-eval[hf]'")
    pytest.importorskip("transformers", reason="transformers not installed: pip install 'mimo-eval[hf]'")
    from mimo_eval.tiny import CHAT_TEMPLATE, build_tokenizer
    from mimo_eval.backends import HFBackend, VLLMBackend
    from mimo_eval.types import Request

    backend = {"hf": HFBackend, "vllm": VLLMBackend}[name]

    tokenizer = build_tokenizer()
    request = Request("p", 0, ({"role": "user", "content": "What is 1 + 1?"},), seed=0)
    for template, opened in ((CHAT_TEMPLATE, False), (CHAT_TEMPLATE.replace("assistant\n{% endif %}",
                                                                          "assistant\n<think>\n{% endif %}"), True)):
        tokenizer.chat_template = template
        directory = tmp_path / str(opened)
        tokenizer.save_pretrained(directory)
        assert backend(model=str(directory)).thinking_opened(request) is opened
    assert backend(model=str(tmp_path / "True")).thinking_opened(Request("p", 0, (), seed=0, prompt="raw")) is False
