"""Request options, reasoning text, truncation and the plain progress line, through the real CLI against a fake
OpenAI-compatible server on 127.0.0.1 (tests/fake_openai_server.py; the real math grader; aime24).

Covers: --request / --extra-body fields reach every request body with their JSON types and are recorded in
config.json; a changed field refuses the resume; a field that has its own flag is refused; the same field given
twice is refused; max_completion_tokens is sent instead of max_tokens; the options of the openai backend are
refused for another backend; --system-prompt none sends no system turn (and the default sends an empty one);
reasoning_content is stored apart and grading sees only the final content; every sample records finish_reason;
--truncated wrong counts a truncated right answer wrong while the default grades it, and `score --truncated`
switches a stored run either way without regrading; the truncated count is in the summary and the leaderboard; off a terminal, a plain progress line is printed while a run goes.

Run: python -m pytest -q tests/test_request_options.py
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from fake_openai_server import FakeOpenAIServer, Reply, answers_for
from mimo_eval.cli import main

MODEL = FakeOpenAIServer.model


def right(problem) -> tuple[str, str]:
    return f"so \\boxed{{{problem.reference}}}", "stop"


def run(server: FakeOpenAIServer, out: Path, *extra: str) -> int:
    return main(["run", "aime24", "--model", MODEL, "--backend", "openai", "--base-url", server.base_url,
                 "--out", str(out), "--n", "1", "--no-progress", *extra])


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def run_dir(out: Path) -> Path:
    return out / f"{MODEL}__aime24"


def test_request_fields_reach_the_body_with_their_types_and_are_recorded(tmp_path):
    with FakeOpenAIServer(script=answers_for("aime24", right)) as server:
        assert run(server, tmp_path, "--request", "top_k=20", "--request", "min_p=0.05",
                   "--request", "reasoning_effort=high", "--request", 'stop=["</answer>"]',
                   "--extra-body", '{"chat_template_kwargs": {"enable_thinking": false}}') == 0
        bodies = [a.body for a in server.generation_attempts()]
    expected = {"top_k": 20, "min_p": 0.05, "reasoning_effort": "high", "stop": ["</answer>"],
                "chat_template_kwargs": {"enable_thinking": False}}
    assert len(bodies) == 30 and all(expected.items() <= b.items() for b in bodies)
    config = json.loads((run_dir(tmp_path) / "config.json").read_text())
    assert config["backend"]["extra_body"] == expected and config["generation_options"]["extra_body"] == expected


def test_a_changed_request_field_refuses_the_resume(tmp_path, capsys):
    with FakeOpenAIServer(script=answers_for("aime24", right)) as server:
        assert run(server, tmp_path, "--request", "top_k=20") == 0
        assert run(server, tmp_path, "--request", "top_k=40") == 2
        assert run(server, tmp_path) == 2
    assert "generation_options: run has {'extra_body': {'top_k': 20}}, asked None" in capsys.readouterr().err


@pytest.mark.parametrize("flags, message", [
    (["--request", "temperature=1.0"], "request field 'temperature' cannot be set as an extra request field: "
                                       "it is set by --temperature"),
    (["--extra-body", '{"max_tokens": 5}'], "it is set by --max-tokens"),
    (["--request", "top_k=20", "--extra-body", '{"top_k": 40}'], "'top_k' is given by both --extra-body and"),
])
def test_a_field_with_its_own_setting_or_given_twice_is_refused(tmp_path, capsys, flags, message):
    with FakeOpenAIServer(script=answers_for("aime24", right)) as server:
        assert run(server, tmp_path, *flags) == 2
        assert not server.generation_attempts()
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("flags", [["--extra-body", "{top_k: 20}"], ["--extra-body", "[1]"],
                                   ["--request", "top_k"], ["--request", "a=1", "--request", "a=2"]])
def test_malformed_request_options_are_usage_errors(tmp_path, capsys, flags):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "aime24", "--model", MODEL, "--backend", "openai", "--out", str(tmp_path), *flags])
    assert exit_.value.code == 2 and "error:" in capsys.readouterr().err


def test_request_options_belong_to_the_openai_backend(tmp_path, capsys):
    assert main(["run", "qwen25math_math100", "--model", "m", "--backend", "replay", "--replay-file",
                 str(tmp_path / "x.jsonl"), "--request", "top_k=20", "--out", str(tmp_path)]) == 2
    assert "--extra-body and --request are options of the openai backend" in capsys.readouterr().err


def test_max_completion_tokens_is_sent_instead_of_max_tokens(tmp_path):
    with FakeOpenAIServer(script=answers_for("aime24", right)) as server:
        assert run(server, tmp_path, "--request", "max_completion_tokens=4096") == 0
        bodies = [a.body for a in server.generation_attempts()]
    assert all(b["max_completion_tokens"] == 4096 and "max_tokens" not in b for b in bodies)


def test_system_prompt_none_sends_no_system_turn(tmp_path):
    with FakeOpenAIServer(script=answers_for("aime24", right)) as server:
        assert run(server, tmp_path / "none", "--system-prompt", "none") == 0
        assert run(server, tmp_path / "default") == 0
        bodies = [a.body for a in server.generation_attempts()]
    assert [m["role"] for m in bodies[0]["messages"]] == ["user"]
    assert bodies[-1]["messages"][0] == {"role": "system", "content": ""}
    assert json.loads((run_dir(tmp_path / "none") / "config.json").read_text())["system_prompt"] is None


def test_reasoning_is_stored_apart_and_grading_sees_the_final_content(tmp_path):
    thinking = "Maybe \\boxed{999}? No, recheck."   # a wrong answer in the thinking must not be graded
    with FakeOpenAIServer(script=answers_for("aime24", right, reasoning=thinking)) as server:
        assert run(server, tmp_path) == 0
    samples = rows(run_dir(tmp_path) / "samples.jsonl")
    assert all(s["reasoning"] == thinking and "999" not in s["text"] for s in samples)
    assert json.loads((run_dir(tmp_path) / "summary.json").read_text())["pass@1"] == 100.0


def cut_on_odd(problem) -> tuple[str, str]:
    """Right everywhere, but the odd-numbered problems end with finish_reason "length" (8 per exam)."""
    return f"so \\boxed{{{problem.reference}}}", "length" if int(problem.metadata["problem_number"]) % 2 else "stop"


@pytest.mark.parametrize("policy, pass1", [("grade", 100.0), ("wrong", 100 * 14 / 30)])
def test_truncated_policy(tmp_path, policy, pass1):
    with FakeOpenAIServer(script=answers_for("aime24", cut_on_odd)) as server:
        assert run(server, tmp_path, "--truncated", policy) == 0
    summary = json.loads((run_dir(tmp_path) / "summary.json").read_text())
    assert summary["pass@1"] == pytest.approx(pass1) and summary["outcomes"]["truncated"] == 16
    assert {s["finish_reason"] for s in rows(run_dir(tmp_path) / "samples.jsonl")} == {"stop", "length"}
    assert json.loads((run_dir(tmp_path) / "config.json").read_text())["truncated"] == policy


def test_truncated_count_is_in_the_leaderboard(tmp_path, capsys):
    with FakeOpenAIServer(script=answers_for("aime24", cut_on_odd)) as server:
        assert run(server, tmp_path) == 0
    capsys.readouterr()
    assert main(["leaderboard", str(tmp_path), "--format", "csv"]) == 0
    [row] = [r for r in csv.DictReader(io.StringIO(capsys.readouterr().out)) if r["benchmark"] == "aime24"]
    assert row["truncated"] == "16"


def test_the_truncated_policy_is_decided_at_scoring_time(tmp_path, capsys):
    """One run gives both numbers: `score --truncated wrong|grade` recounts the stored verdicts (no regrading, no
    generation), records the policy (and the previous one in history), and a rerun of `run` keeps it."""
    with FakeOpenAIServer(script=answers_for("aime24", cut_on_odd)) as server:
        assert run(server, tmp_path) == 0
        scores_before = (run_dir(tmp_path) / "scores.jsonl").read_bytes()
        summary = lambda: json.loads((run_dir(tmp_path) / "summary.json").read_text())  # noqa: E731
        assert summary()["pass@1"] == pytest.approx(100.0)
        assert main(["score", str(run_dir(tmp_path)), "--truncated", "wrong", "--no-progress"]) == 0
        assert summary()["pass@1"] == pytest.approx(100 * 14 / 30) and summary()["truncated"] == "wrong"
        assert (run_dir(tmp_path) / "scores.jsonl").read_bytes() == scores_before   # nothing regraded
        config = json.loads((run_dir(tmp_path) / "config.json").read_text())
        assert config["truncated"] == "wrong" and config["history"][-1] == {"truncated": "grade"}
        assert run(server, tmp_path) == 0   # the same command: resumes, keeps the policy
        assert summary()["pass@1"] == pytest.approx(100 * 14 / 30)
        assert len(server.generation_attempts()) == 30
        assert main(["score", str(run_dir(tmp_path)), "--truncated", "grade", "--no-progress"]) == 0
        assert summary()["pass@1"] == pytest.approx(100.0)
        capsys.readouterr()
        assert main(["show", str(run_dir(tmp_path)), "--truncated", "--limit", "1"]) == 0
        assert "counted wrong" not in capsys.readouterr().out


def test_plain_progress_lines_when_stdout_is_not_a_terminal(tmp_path, capsys):
    script = answers_for("aime24", right)
    slow = lambda body, attempt: Reply(delay_s=0.05, body=script(body, attempt).body)  # noqa: E731
    with FakeOpenAIServer(script=slow) as server:
        code = main(["run", "aime24", "--model", MODEL, "--backend", "openai", "--base-url", server.base_url,
                     "--out", str(tmp_path), "--n", "1", "--concurrency", "2", "--progress-every", "0.2",
                     "--progress-percent", "50"])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("progress: ")]
    assert code == 0 and len(lines) >= 3 and "generated 30/30 (100%), graded 30, pass@1 100.0" in lines[-1]
