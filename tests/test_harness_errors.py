"""Every bad input is one line that names the file, line and field and says what to do (issue 22), and nothing
stored is lost: damaged run files (a torn scores.jsonl tail, NUL bytes, garbage, a line without its keys, a
non-integer sample_index, a damaged summary.json), a read-only run directory, a full disk (resumed afterwards),
benchmark data (a LiveCodeBench row without its id, statement or decodable tests; duplicate problem ids; a bundled
row without its answer), flags (--out naming a file, an impossible --n, any argparse error without the usage
block, NaN request fields, max_completion_tokens recorded as the run's max tokens), and a grader worker whose
caller died exits without a traceback.

Runs replay aime24 answers built from the gold answers; served runs use tests/fake_openai_server.py.
Run: python -m pytest -q tests/test_harness_errors.py
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import livecodebench
from benchmarks.registry import get
from fake_openai_server import FakeOpenAIServer, answers_for
from mimo_eval.cli import main
from mimo_eval.harness.store import RunStore

AIME = get("aime24").load()
RUN = "m__aime24"


def aime_replay(tmp_path: Path, n: int = 1) -> Path:
    rows = [{"problem_id": p.id, "sample_index": i, "text": f"\\boxed{{{p.reference}}}"} for p in AIME for i in range(n)]
    path = tmp_path / "gens.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def replay_run(tmp_path: Path, *flags: str, n: int = 1) -> int:
    return main(["run", "aime24", "--model", "m", "--backend", "replay",
                 "--replay-file", str(aime_replay(tmp_path, min(n, 2))), "--out", str(tmp_path / "runs"), "--n", str(n),
                 "--no-progress", *flags])


def one_error_line(capsys) -> str:
    """stderr's lines: the last is the one-line error, and no traceback came before it."""
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith("mimo-eval: error: "), err
    return lines[-1]


@pytest.fixture
def run_dir(tmp_path, capsys) -> Path:
    assert replay_run(tmp_path) == 0
    capsys.readouterr()
    return tmp_path / "runs" / RUN


# ---- appended files: a torn tail is repaired by whoever appends next ----

def test_a_torn_scores_line_is_moved_aside_and_score_show_run_go_on(run_dir, tmp_path, capsys):
    scores = run_dir / "scores.jsonl"
    kept = scores.read_text().splitlines()[:-1]
    scores.write_text("\n".join(kept) + '\n{"problem_id": "aime24/II-15", "sample_in')   # a kill mid-write
    assert main(["score", str(run_dir), "--no-progress"]) == 0
    assert b'"sample_in' in (run_dir / "scores.torn").read_bytes()
    rows = [json.loads(line) for line in scores.read_text().splitlines()]   # every line whole again
    assert len(rows) == 30 and len({r["problem_id"] for r in rows}) == 30
    assert main(["show", str(run_dir), "--limit", "1"]) == 0
    assert replay_run(tmp_path) == 0
    assert json.loads((run_dir / "summary.json").read_text())["pass@1"] == 100.0


@pytest.mark.parametrize("line, problem", [
    (b"\0" * 40, "NUL bytes instead of a JSON line"),
    (b"garbage{", "malformed JSONL line"),
    (b"\xff\xfe\xfa", "not UTF-8 text"),
    (b"[1, 2]", "a JSON list, not an object"),
    (b'{"problem_id": "aime24/I-1", "text": "x"}', "no 'sample_index' field"),
    (b'{"problem_id": "aime24/I-1", "sample_index": "3a", "text": "x"}', "'sample_index' must be an integer, got '3a'"),
    (b'{"problem_id": "aime24/I-1", "sample_index": 0}', "no 'text' field"),
])
@pytest.mark.parametrize("command", ["score", "show", "run"])
def test_a_damaged_samples_line_is_one_line_naming_file_and_line(run_dir, tmp_path, capsys, line, problem, command):
    samples = run_dir / "samples.jsonl"
    samples.write_bytes(line + b"\n" + samples.read_bytes())
    argv = {"score": ["score", str(run_dir), "--no-progress"], "show": ["show", str(run_dir)]}.get(command)
    code = main(argv) if argv else replay_run(tmp_path)
    assert code == 2
    error = one_error_line(capsys)
    assert f"{samples}:1: {problem}" in error and "delete that line and re-run: its generation is redone" in error


@pytest.mark.parametrize("content, problem", [(b"", "damaged (Expecting value"), (b'{"model": "m"', "damaged"),
                                              (b"[]", "not an object"), (b'{"model": "m"}', "no 'benchmark'")])
def test_a_damaged_summary_is_one_line_and_score_rewrites_it(run_dir, capsys, content, problem):
    (run_dir / "summary.json").write_bytes(content)
    assert main(["leaderboard", str(run_dir.parent)]) == 2
    error = one_error_line(capsys)
    assert str(run_dir / "summary.json") in error and problem in error and "mimo-eval score RUN_DIR" in error
    assert main(["score", str(run_dir), "--no-progress"]) == 0
    assert main(["leaderboard", str(run_dir.parent)]) == 0


def test_a_read_only_run_directory_is_one_line(run_dir, tmp_path, capsys, monkeypatch):
    if os.geteuid() == 0:   # root writes through file modes: refuse the lock file as a read-only mount would
        real_open = open

        def read_only(path, *args, **kwargs):
            if str(path).startswith(str(run_dir)) and args and args[0][0] in "wax":
                raise PermissionError(errno.EROFS, "Read-only file system", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr("builtins.open", read_only)
    else:
        run_dir.chmod(0o555)
    try:
        assert replay_run(tmp_path, n=2) == 2
    finally:
        run_dir.chmod(0o755)
    error = one_error_line(capsys)
    assert f"cannot use {run_dir}" in error and "give --out a folder you can write to" in error


def test_a_full_disk_is_one_line_and_the_resume_completes(tmp_path, capsys, monkeypatch):
    """The disk fills after 25 appends (samples and grades): one line; the rerun, with space, stores every sample
    exactly once and grades them all."""
    appends, real_append = [], RunStore.append

    def filling(self, name, row):
        if len(appends) >= 25:
            raise OSError(errno.ENOSPC, "No space left on device", str(self.path / name))
        appends.append(name)
        real_append(self, name, row)

    monkeypatch.setattr(RunStore, "append", filling)
    assert replay_run(tmp_path, n=2) == 2
    error = one_error_line(capsys)
    assert "no space left on the device writing" in error and "rerun the same command" in error
    monkeypatch.setattr(RunStore, "append", real_append)
    assert replay_run(tmp_path, n=2) == 0
    run = tmp_path / "runs" / RUN
    keys = [(r["problem_id"], r["sample_index"]) for r in map(json.loads, (run / "samples.jsonl").open())]
    assert len(keys) == 60 and len(set(keys)) == 60
    assert json.loads((run / "summary.json").read_text())["pass@1"] == 100.0


# ---- benchmark data ----

def lcb_dump(tmp_path: Path, change) -> Path:
    rows = [json.loads(line) for line in livecodebench.SAMPLE_FILE.read_text().splitlines()][:4]
    change(rows)
    path = tmp_path / "dump.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def without(key: str):
    return lambda rows: rows[1].pop(key)


@pytest.mark.parametrize("change, problem", [
    (without("question_content"), "row 2 (abc366_a): no question_content"),
    (without("question_id"), "row 2: no question_id: every problem needs its own id"),
    (lambda rows: rows[1].update(public_test_cases="[{broken"), "public_test_cases does not decode (JSONDecodeError"),
    (lambda rows: rows[1].update(public_test_cases='[{"input": "1"}]'), "public_test_cases is not a list of tests"),
    (lambda rows: rows[1].update(private_test_cases="eJy=notbase64"), "private_test_cases does not decode"),
    (lambda rows: rows[1].update(metadata="{oops"), "metadata does not decode"),
    (lambda rows: rows.__setitem__(2, {**rows[2], "question_id": rows[1]["question_id"]}),
     "problem id 'lcb/abc366_a' is used by problems 2 and 3: every problem needs its own id"),
])
def test_a_bad_livecodebench_row_is_one_line(tmp_path, capsys, change, problem):
    dump = lcb_dump(tmp_path, change)
    code = main(["run", "livecodebench", "--data-path", str(dump), "--model", "m", "--backend", "replay",
                 "--replay-file", str(aime_replay(tmp_path)), "--out", str(tmp_path / "runs"), "--no-progress"])
    assert code == 2 and problem in one_error_line(capsys)
    assert not (tmp_path / "runs").exists()


def test_a_bundled_row_without_its_answer_is_one_line(tmp_path, capsys, monkeypatch):
    from benchmarks import common

    data = tmp_path / "data"
    shutil.copytree(common.DATA_DIR, data)
    rows = (data / "aime24.jsonl").read_text().splitlines()
    broken = json.loads(rows[4])
    del broken["answer"]
    rows[4] = json.dumps(broken)
    (data / "aime24.jsonl").write_text("\n".join(rows) + "\n")
    monkeypatch.setattr(common, "DATA_DIR", data)
    assert replay_run(tmp_path) == 2
    assert f"{data / 'aime24.jsonl'}:5: no 'answer': the file was altered" in one_error_line(capsys)


# ---- flags ----

def test_out_naming_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "runs").write_text("not a folder")
    assert replay_run(tmp_path) == 2
    assert f"--out {tmp_path / 'runs'} is a file: give the folder" in one_error_line(capsys)


def test_an_impossible_n_is_one_line_not_a_memory_error(tmp_path, capsys):
    assert replay_run(tmp_path, n=1_000_000_000) == 2
    assert "--n 1000000000 x 30 problems is 30,000,000,000 generations" in one_error_line(capsys)


@pytest.mark.parametrize("argv", [["run", "aime24", "--n", "x"], ["run"], ["leaderboard", "r", "--format", "xls"],
                                  ["run", "aime24", "--model", "m", "--bogus"], ["score"]])
def test_a_flag_error_is_one_line_without_the_usage_block(capsys, argv):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and len(err.strip().splitlines()) == 1 and "usage:" not in err, err
    assert err.startswith("mimo-eval") and ": error: " in err


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999", '{"a": NaN}'])
def test_non_json_numbers_in_request_fields_are_refused(capsys, value):
    with pytest.raises(SystemExit):
        main(["run", "aime24", "--model", "m", "--backend", "openai", "--request", f"top_k={value}"])
    assert "is not a JSON value" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "aime24", "--model", "m", "--backend", "openai", "--extra-body", f'{{"top_k": {value}}}'])
    assert "is not a JSON value" in capsys.readouterr().err


def test_max_completion_tokens_is_recorded_as_the_runs_max_tokens(tmp_path, capsys):
    right = lambda p: (f"\\boxed{{{p.reference}}}", "stop")  # noqa: E731
    with FakeOpenAIServer(script=answers_for("aime24", right)) as server:
        base = ["run", "aime24", "--model", server.model, "--backend", "openai", "--base-url", server.base_url,
                "--n", "1", "--out", str(tmp_path), "--no-progress"]
        assert main(base + ["--request", "max_completion_tokens=1000"]) == 0
        bodies = [a.body for a in server.generation_attempts()]
        assert main(base + ["--max-tokens", "2000", "--request", "max_completion_tokens=1000"]) == 2
        assert "--max-tokens 2000 and max_completion_tokens=1000 disagree" in one_error_line(capsys)
    assert all(b["max_completion_tokens"] == 1000 and "max_tokens" not in b for b in bodies)
    run = tmp_path / f"{server.model}__aime24"
    assert json.loads((run / "config.json").read_text())["max_tokens"] == 1000
    assert json.loads((run / "summary.json").read_text())["max_tokens"] == 1000
    assert main(["leaderboard", str(tmp_path), "--format", "csv"]) == 0
    assert "/ 1000," in capsys.readouterr().out   # T / top-p / max tokens


# ---- a grader worker outliving its caller ----

def test_a_grader_worker_whose_caller_died_exits_without_a_traceback():
    # in a child interpreter: the worker loop lowers its own address-space limit, which must not stay on pytest's
    code = ("import multiprocessing\n"
            "from graders.pool import serve\n"
            "parent, child = multiprocessing.Pipe()\n"
            "parent.send((len, ('abc',)))\n"   # a call in flight, then the caller is killed
            "parent.close()\n"
            "serve(child, ())\n")              # returns: its answer has nowhere to go
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
