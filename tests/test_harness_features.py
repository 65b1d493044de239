"""What lighteval, evalscope and LiveCodeBench users reach for first (issue 22), through the real CLI: --limit (marked
in config.json, the summary and the leaderboard, never shown as a full run, finished by a rerun without it), the
thinking switch --chat-template-kwargs (rendered by the hf backend with a real tokenizer, by the vLLM backend's
engine loop, sent by the openai backend, recorded and binding), --task-file with --grader math|code, cost in the
summary (wall time, output tokens/s, mean and p95 output tokens, added up over invocations), the leaderboard's
provenance (which run each cell comes from; more samples beat a newer run), compare's labels for two settings of
one model, --new-run resumable by rerunning it, merge refusing shards of two reported models and printing a command
that finishes a gapped merge wherever it was written, and the documented system message default.

Runs replay aime24 answers or use tests/fake_openai_server.py; the hf test builds a tiny local model.
Run: python -m pytest -q tests/test_harness_features.py
"""
from __future__ import annotations

import csv
import io
import json
import shlex
from pathlib import Path

import pytest

from benchmarks.registry import get
from fake_openai_server import FakeOpenAIServer, Reply, answers_for
from mimo_eval.cli import build_parser, main
from mimo_eval.harness.cost import percentile
from mimo_eval.harness.files import slug

AIME = get("aime24").load()
MODEL = FakeOpenAIServer.model
QWEN3_TEMPLATE = (   # the part of Qwen3's template that the thinking switch changes
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}{% endif %}")


def replay(tmp_path: Path, model: str, n: int = 2, right=lambda p, i: True) -> Path:
    rows = [{"problem_id": p.id, "sample_index": i, "text": f"\\boxed{{{p.reference if right(p, i) else 1000}}}"}
            for p in AIME for i in range(n)]
    path = tmp_path / f"{model}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def replay_run(tmp_path: Path, model: str, out: Path, *flags: str, n: int = 2, right=lambda p, i: True) -> int:
    return main(["run", "aime24", "--model", model, "--backend", "replay", "--replay-file",
                 str(replay(tmp_path, model, n, right)), "--n", str(n), "--out", str(out), "--no-progress", *flags])


def served(server: FakeOpenAIServer, out: Path, *flags: str, benchmark: tuple = ("aime24",)) -> int:
    return main(["run", *benchmark, "--model", MODEL, "--backend", "openai", "--base-url", server.base_url,
                 "--out", str(out), "--no-progress", *flags])


def load(path: Path):
    return json.loads(path.read_text())


def right(problem) -> tuple[str, str]:
    return f"so \\boxed{{{problem.reference}}}", "stop"


# ---- --limit ----

def test_limit_is_marked_everywhere_and_a_rerun_without_it_finishes_the_run(tmp_path, capsys):
    out = tmp_path / "runs"
    with FakeOpenAIServer(script=answers_for("aime24", right)) as server:
        assert served(server, out, "--n", "2", "--limit", "5") == 0
        assert len(server.generation_attempts()) == 10
        run = out / f"{MODEL}__aime24"
        assert load(run / "config.json")["limit"] == 5
        summary = load(run / "summary.json")
        assert (summary["limit"], summary["num_problems"], summary["benchmark_problems"]) == (5, 5, 30)
        capsys.readouterr()
        assert main(["leaderboard", str(out)]) == 0
        assert "| aime24 [first 5 of 30 problems] |" in capsys.readouterr().out
        assert served(server, out, "--n", "2") == 0   # the whole benchmark: only the other 25 problems are asked
        assert len(server.generation_attempts()) == 60
    summary = load(run / "summary.json")
    assert (summary["limit"], summary["num_problems"]) == (None, 30)
    capsys.readouterr()
    assert main(["leaderboard", str(out)]) == 0
    assert "| aime24 |" in capsys.readouterr().out


def test_a_limited_run_never_stands_in_for_a_full_one(tmp_path, capsys):
    assert replay_run(tmp_path, "m", tmp_path / "full") == 0
    assert replay_run(tmp_path, "m", tmp_path / "smoke", "--limit", "3", right=lambda p, i: False) == 0
    capsys.readouterr()
    assert main(["leaderboard", str(tmp_path), "--format", "csv"]) == 0
    rows = {r["benchmark"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert rows["aime24"]["pass@1"] == "100.00" and rows["aime24"]["problems"] == "30"
    assert rows["aime24 [first 3 of 30 problems]"]["pass@1"] == "0.00"


# ---- the thinking switch ----

def test_thinking_off_is_rendered_by_the_hf_backend_and_recorded(tmp_path, monkeypatch):
    pytest.importorskip("transformers")
    from mimo_eval.tiny import build_tiny_model
    from transformers import AutoTokenizer, PreTrainedTokenizerBase

    model = Path(build_tiny_model(tmp_path / "model"))
    tokenizer = AutoTokenizer.from_pretrained(model)
    tokenizer.chat_template = QWEN3_TEMPLATE
    tokenizer.save_pretrained(model)
    rendered, real = [], PreTrainedTokenizerBase.apply_chat_template

    def recording(self, *args, **kwargs):
        text = real(self, *args, **kwargs)
        rendered.append(text)
        return text

    monkeypatch.setattr(PreTrainedTokenizerBase, "apply_chat_template", recording)
    base = ["run", "aime24", "--model", str(model), "--backend", "hf", "--device", "cpu", "--n", "1", "--limit", "2",
            "--max-tokens", "3", "--no-progress"]
    assert main(base + ["--out", str(tmp_path / "off"), "--chat-template-kwargs", '{"enable_thinking": false}']) == 0
    off, rendered[:] = list(rendered), []
    assert main(base + ["--out", str(tmp_path / "on")]) == 0
    # two prompts generated, and the first rendered once more to record whether it opens a thinking block
    assert len(off) == 3 and all(t.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n") for t in off)
    assert rendered and all(t.endswith("<|im_start|>assistant\n") for t in rendered)
    config = load(tmp_path / "off" / f"{slug(str(model))}__aime24" / "config.json")
    assert config["chat_template_kwargs"] == {"enable_thinking": False}
    assert config["thinking_opened"] is False   # the closed empty thinking block is not an open one


def test_thinking_off_reaches_the_vllm_engine_loop():
    pytest.importorskip("transformers")
    from test_backends_vllm import StandInEngine
    from mimo_eval.tiny import build_tokenizer

    from mimo_eval.backends.vllm import stream
    from mimo_eval.types import Request

    tokenizer = build_tokenizer()
    tokenizer.chat_template = QWEN3_TEMPLATE
    request = Request(problem_id="p", sample_index=0, seed=0, messages=({"role": "user", "content": "1+1?"},),
                      chat_template_kwargs={"enable_thinking": False})
    engine = StandInEngine()
    list(stream(engine, tokenizer, [request], lambda r: None, "run"))
    sent = tokenizer.decode(engine.added["run-0"][0]["prompt_token_ids"])
    assert sent.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")


def test_thinking_switch_is_sent_by_the_openai_backend_and_binds_the_run(tmp_path, capsys):
    with FakeOpenAIServer(script=answers_for("aime24", right)) as server:
        assert served(server, tmp_path, "--n", "1", "--chat-template-kwargs", '{"enable_thinking": false}') == 0
        bodies = [a.body for a in server.generation_attempts()]
        assert served(server, tmp_path, "--n", "2") == 2   # another prompt rendering: not the same run
    assert all(b["chat_template_kwargs"] == {"enable_thinking": False} for b in bodies) and len(bodies) == 30
    err = capsys.readouterr().err
    assert "chat_template_kwargs: run has {'enable_thinking': False}, asked None" in err


@pytest.mark.parametrize("flags, message", [
    (["--backend", "replay", "--replay-file", "x.jsonl"], "needs a backend that renders a chat template"),
    (["--backend", "openai", "--api-mode", "completion"], "needs --api-mode chat"),
    (["--backend", "openai", "--request", 'chat_template_kwargs={"a": 1}'], "given by both --chat-template-kwargs"),
])
def test_thinking_switch_misuse_is_one_line(tmp_path, capsys, flags, message):
    argv = ["run", "aime24", "--model", "m", "--out", str(tmp_path), "--chat-template-kwargs", '{"enable_thinking": false}']
    assert main(argv + flags) == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]


# ---- a task from a file ----

def test_a_math_task_file_runs_and_scores_from_its_own_record(tmp_path, capsys):
    task = tmp_path / "my_task.jsonl"
    task.write_text("\n".join(json.dumps(r) for r in [
        {"id": "add", "problem": "What is 2 + 3?", "answer": "5", "level": 1},
        {"id": "half", "problem": "Half of 1?", "answer": "\\frac{1}{2}"},
        {"prompt": "Verbatim: what is 6 * 7?", "answer": 42}]) + "\n")
    texts = {"What is 2 + 3?": "\\boxed{5}", "Half of 1?": "\\boxed{0.5}", "Verbatim: what is 6 * 7?": "\\boxed{41}"}

    def answer(body: dict, attempt: int) -> Reply:
        prompt = body["messages"][-1]["content"]
        text = next(v for k, v in texts.items() if k in prompt)
        return Reply(body={"choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                        "finish_reason": "stop"}]})

    with FakeOpenAIServer(script=answer) as server:
        assert served(server, tmp_path / "runs", benchmark=("--task-file", str(task), "--grader", "math")) == 0
        prompts = [a.body["messages"][-1]["content"] for a in server.generation_attempts()]
    assert "Verbatim: what is 6 * 7?" in prompts and any(p.startswith("What is 2 + 3?\nPlease reason") for p in prompts)
    run = tmp_path / "runs" / f"{MODEL}__my_task"
    summary = load(run / "summary.json")
    assert (summary["benchmark"], summary["num_problems"], summary["n"]) == ("my_task", 3, 1)
    assert summary["pass@1"] == pytest.approx(200 / 3)
    assert main(["score", str(run), "--rescore", "--no-progress"]) == 0   # rebuilt from config.json's task_file
    task.write_text(task.read_text().replace('"5"', '"6"'))
    assert main(["score", str(run), "--rescore", "--no-progress"]) == 2
    assert "the benchmark data changed since this run" in capsys.readouterr().err


def test_a_code_task_file_is_judged_in_the_sandbox(tmp_path):
    task = tmp_path / "adder.jsonl"
    task.write_text("\n".join(json.dumps(r) for r in [
        {"id": "sum", "problem": "Read a and b, print a + b.",
         "tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "5 5\n", "output": "10\n"}]},
        {"id": "method", "problem": "Return a + b.", "starter_code": "class Solution:\n    def add(self, a, b):",
         "tests": [{"input": "1\n2", "output": "3"}]}]) + "\n")
    programs = {"Read a and b": "```python\na, b = map(int, input().split())\nprint(a + b)\n```",
                "Return a + b": "```python\nclass Solution:\n    def add(self, a, b):\n        return a - b\n```"}

    def answer(body: dict, attempt: int) -> Reply:
        text = next(v for k, v in programs.items() if k in body["messages"][-1]["content"])
        return Reply(body={"choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                        "finish_reason": "stop"}]})

    with FakeOpenAIServer(script=answer) as server:
        assert served(server, tmp_path / "runs", benchmark=("--task-file", str(task), "--grader", "code")) == 0
    scores = {r["problem_id"]: r for r in map(json.loads, (tmp_path / "runs" / f"{MODEL}__adder" / "scores.jsonl")
                                             .open())}
    assert scores["sum"]["correct"] and scores["sum"]["per_test"] == ["AC", "AC"]
    assert not scores["method"]["correct"] and scores["method"]["per_test"] == ["WA"]


@pytest.mark.parametrize("row, message", [
    ({"id": "a", "problem": "x"}, "no 'answer'"), ({"id": "a", "answer": "1"}, "no 'problem' (or 'prompt') text"),
    ("[1]", "a JSON list, not an object")])
def test_a_bad_task_row_is_one_line(tmp_path, capsys, row, message):
    task = tmp_path / "t.jsonl"
    task.write_text((row if isinstance(row, str) else json.dumps(row)) + "\n")
    (tmp_path / "gens.jsonl").write_text('{"problem_id": "a", "sample_index": 0, "text": "1"}\n')
    assert main(["run", "--task-file", str(task), "--grader", "math", "--model", "m", "--backend", "replay",
                 "--replay-file", str(tmp_path / "gens.jsonl"), "--out", str(tmp_path)]) == 2
    assert f"{task}:1: {message}" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["run", "--task-file", "t.jsonl", "--model", "m"], "--task-file needs --grader math"),
    (["run", "aime24", "--task-file", "t.jsonl", "--grader", "math", "--model", "m"], "either a BENCHMARK"),
    (["run", "--model", "m"], "give a BENCHMARK (e.g. aime24) or --task-file"),
    (["run", "aime24", "--grader", "math", "--model", "m"], "--grader goes with --task-file"),
])
def test_task_file_flag_misuse_is_one_line(capsys, argv, message):
    assert main(argv) == 2 and message in capsys.readouterr().err


# ---- cost ----

def test_the_summary_says_what_the_run_cost(tmp_path):
    """Output tokens per sample are the problem number + 1 (the fake server counts words), so the mean and the
    nearest-rank p95 over the 60 counted samples are known; two invocations add up."""
    words = lambda p: (" ".join(["w"] * int(p.metadata["problem_number"])) + f" \\boxed{{{p.reference}}}", "stop")  # noqa
    with FakeOpenAIServer(script=answers_for("aime24", words)) as server:
        assert served(server, tmp_path, "--n", "1") == 0
        assert served(server, tmp_path, "--n", "2") == 0
    cost = load(tmp_path / f"{MODEL}__aime24" / "summary.json")["cost"]
    tokens = sorted([int(p.metadata["problem_number"]) + 1 for p in AIME] * 2)
    assert cost["invocations"] == 2 and cost["wall_s"] > 0 and cost["generation_s"] > 0
    assert cost["output_tokens_mean"] == pytest.approx(sum(tokens) / 60)
    assert cost["output_tokens_p95"] == tokens[56] == 16   # the 57th of 60 (95% of 60): 2..16, four of each
    assert cost["output_tokens_per_s"] == pytest.approx(sum(tokens) / cost["generation_s"], rel=0.01)


@pytest.mark.parametrize("values, q, expected", [([1], 95, 1), (list(range(1, 101)), 95, 95),
                                                 (list(range(1, 21)), 95, 19), ([3, 7], 50, 3)])
def test_p95_is_the_nearest_rank(values, q, expected):
    assert percentile(values, q) == expected


# ---- the leaderboard and compare: which run, which settings ----

def test_the_leaderboard_shows_the_fuller_run_and_names_every_cells_run(tmp_path, capsys):
    assert replay_run(tmp_path, "m", tmp_path / "runs" / "big", n=4) == 0
    assert replay_run(tmp_path, "m", tmp_path / "runs" / "quick", n=1, right=lambda p, i: False) == 0   # newer
    capsys.readouterr()
    assert main(["leaderboard", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "| aime24 | 100.0 ± 0.0 (4) |" in out
    assert "quick/m__aime24 (n=1) not shown: same settings as big/m__aime24 (n=4)" in out
    assert main(["leaderboard", str(tmp_path / "runs"), "--format", "csv"]) == 0
    [row] = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert row["run"] == "big/m__aime24"


def test_compare_labels_two_settings_of_one_model(tmp_path, capsys):
    assert replay_run(tmp_path, "probe", tmp_path / "a") == 0
    assert replay_run(tmp_path, "probe", tmp_path / "b", "--temperature", "1.0", right=lambda p, i: i == 0) == 0
    assert replay_run(tmp_path, "probe", tmp_path / "c") == 0
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "a" / "probe__aime24"), str(tmp_path / "b" / "probe__aime24")]) == 0
    assert "| aime24 | probe (temperature=0.6) | probe (temperature=1.0) |" in capsys.readouterr().out
    assert main(["compare", str(tmp_path / "a" / "probe__aime24"), str(tmp_path / "c" / "probe__aime24")]) == 0
    assert "| aime24 | probe [a/probe__aime24] | probe [c/probe__aime24] |" in capsys.readouterr().out


# ---- --new-run, merge ----

def test_rerunning_a_new_run_command_resumes_it(tmp_path, capsys):
    out = tmp_path / "runs"
    assert replay_run(tmp_path, "m", out, n=1) == 0
    assert replay_run(tmp_path, "m", out, "--temperature", "1.0", n=1) == 2   # other settings: refused
    assert replay_run(tmp_path, "m", out, "--temperature", "1.0", "--new-run", n=1) == 0
    assert replay_run(tmp_path, "m", out, "--temperature", "1.0", "--new-run", n=2) == 0   # the same run, extended
    assert sorted(p.name for p in out.iterdir()) == ["m__aime24", "m__aime24-2"]
    assert load(out / "m__aime24-2" / "summary.json")["n"] == 2
    assert load(out / "m__aime24" / "summary.json")["temperature"] == 0.6


def test_merge_refuses_shards_of_two_reported_models(tmp_path, capsys):
    for k, name in ((1, "ckpt-a"), (2, "ckpt-b")):
        with FakeOpenAIServer(script=answers_for("aime24", right, model=name)) as server:
            assert served(server, tmp_path, "--n", "1", "--shard", f"{k}/2") == 0
    capsys.readouterr()
    shards = [str(tmp_path / f"{MODEL}__aime24__shard{k}of2") for k in (1, 2)]
    assert main(["merge", *shards, "--out", str(tmp_path / "merged")]) == 2
    err = capsys.readouterr().err
    assert "come from 2 models as their servers reported them ('ckpt-a'" in err and "'ckpt-b'" in err
    assert not (tmp_path / "merged").exists()


def test_a_gapped_merge_anywhere_is_finished_by_the_printed_command(tmp_path, capsys):
    with FakeOpenAIServer(script=answers_for("aime24", right)) as server:
        assert served(server, tmp_path, "--n", "2", "--shard", "1/2") == 0
        merged = tmp_path / "elsewhere" / "merged_run"
        capsys.readouterr()
        shard = tmp_path / f"{MODEL}__aime24__shard1of2"
        other = tmp_path / "empty_shard"
        other.mkdir()
        (other / "config.json").write_text((shard / "config.json").read_text().replace('"1/2"', '"2/2"'))
        assert main(["merge", str(shard), str(other), "--out", str(merged), "--allow-gaps"]) == 0
        printed = [line.strip() for line in capsys.readouterr().out.splitlines() if line.strip().startswith("mimo-eval run")]
        asked_before = len(server.generation_attempts())
        command = shlex.split(printed[0])[1:] + ["--base-url", server.base_url, "--no-progress"]
        assert main(command) == 0
        generated = len(server.generation_attempts()) - asked_before
    assert generated == 60 - sum(1 for _ in (shard / "samples.jsonl").open())   # only the missing pairs
    assert load(merged / "summary.json")["pass@1"] == 100.0 and not (merged.parent / f"{MODEL}__aime24").exists()


# ---- documentation of the default system message ----

def test_the_system_prompt_default_and_none_are_documented():
    run = next(a for a in build_parser()._subparsers._group_actions[0].choices["run"]._actions
               if "--system-prompt" in a.option_strings)
    assert "empty system message, as MiMo" in run.help and "lighteval and LiveCodeBench's runner" in run.help
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "--system-prompt none" in readme and "lighteval" in readme
