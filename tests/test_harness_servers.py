"""Several servers, shards and merge, through the real CLI against fake OpenAI-compatible servers on 127.0.0.1
(tests/fake_openai_server.py; the real math grader; aime24's 30 bundled problems).

Covers: requests spread over several --base-url servers with --concurrency as a per-server bound; a request a
server fails is retried on another; every sample records its server and the model the server reported; a
resume against a server reporting another model is refused (and --new-run allowed); two servers reporting two
models in one run are refused; --shard K/N gives disjoint shards that cover the run; merge gives the unsharded
run's samples and pass@1 and is read by leaderboard and compare; merge refuses mismatched settings, overlaps and
gaps (and --allow-gaps writes an unfinished run that `mimo-eval run` then finishes).

Run: python -m pytest -q tests/test_harness_servers.py
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fake_openai_server import FakeOpenAIServer, Reply, answers_for
from mimo_eval.cli import main

MODEL = FakeOpenAIServer.model


def even_right(problem) -> tuple[str, str]:
    """Right on the even-numbered AIME problems (7 of 15 per exam), a wrong integer on the others."""
    right = int(problem.metadata["problem_number"]) % 2 == 0
    return f"so \\boxed{{{problem.reference if right else 1000}}}", "stop"


def run_args(urls: list[str], out: Path, *extra: str) -> list[str]:
    args = ["run", "aime24", "--model", MODEL, "--backend", "openai", "--out", str(out), "--no-progress"]
    for url in urls:
        args += ["--base-url", url]
    return args + list(extra)


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def keys(run_dir: Path) -> set[tuple[str, int]]:
    return {(r["problem_id"], r["sample_index"]) for r in rows(run_dir / "samples.jsonl")}


def test_requests_spread_over_servers_within_each_bound(tmp_path):
    script = answers_for("aime24", even_right)
    slow = lambda body, attempt: Reply(delay_s=0.1, body=script(body, attempt).body)  # noqa: E731
    with FakeOpenAIServer(script=slow) as a, FakeOpenAIServer(script=slow) as b:
        assert main(run_args([a.base_url, b.base_url], tmp_path, "--n", "2", "--concurrency", "3")) == 0
    assert 1 < a.max_in_flight <= 3 and 1 < b.max_in_flight <= 3
    samples = rows(tmp_path / f"{MODEL}__aime24" / "samples.jsonl")
    assert len(samples) == 60 and {s["server"] for s in samples} == {a.base_url, b.base_url}
    assert {s["model"] for s in samples} == {MODEL}
    config = json.loads((tmp_path / f"{MODEL}__aime24" / "config.json").read_text())
    assert config["backend"]["base_url"] == [a.base_url, b.base_url] and config["backend"]["concurrency"] == 3


def test_a_request_a_server_fails_is_retried_on_another(tmp_path):
    script = answers_for("aime24", even_right)
    slow = lambda body, attempt: Reply(delay_s=0.05, body=script(body, attempt).body)  # noqa: E731
    # one slot per server: the first worker's home is the failing server, and the other cannot drain the queue
    # before it starts (30 requests x 0.05 s), so the failing server is asked however loaded the machine is
    with FakeOpenAIServer(script=lambda body, attempt: Reply(503)) as down, FakeOpenAIServer(script=slow) as up:
        assert main(run_args([down.base_url, up.base_url], tmp_path, "--n", "1", "--max-retries", "1",
                             "--concurrency", "1")) == 0
        assert down.generation_attempts()   # it was asked, failed, and the other server answered
    samples = rows(tmp_path / f"{MODEL}__aime24" / "samples.jsonl")
    assert len(samples) == 30 and {s["server"] for s in samples} == {up.base_url}


def test_resuming_against_a_server_reporting_another_model_is_refused(tmp_path, capsys):
    with FakeOpenAIServer(script=answers_for("aime24", even_right, model="fake-model-0501")) as old:
        assert main(run_args([old.base_url], tmp_path, "--n", "1")) == 0
    run = tmp_path / f"{MODEL}__aime24"
    before = (run / "samples.jsonl").read_bytes()
    with FakeOpenAIServer(script=answers_for("aime24", even_right, model="fake-model-0601")) as new:
        assert main(run_args([new.base_url], tmp_path, "--n", "2")) == 2
        assert "reports model 'fake-model-0601', but this run's samples came from 'fake-model-0501'" in \
            capsys.readouterr().err
        assert (run / "samples.jsonl").read_bytes() == before   # nothing of the other model was stored
        assert main(run_args([new.base_url], tmp_path, "--n", "2", "--new-run")) == 0
    assert {r["model"] for r in rows(tmp_path / f"{MODEL}__aime24-2" / "samples.jsonl")} == {"fake-model-0601"}


def slowly(script):
    return lambda body, attempt: Reply(delay_s=0.05, body=script(body, attempt).body)


def test_servers_reporting_two_models_in_one_run_are_refused(tmp_path, capsys):
    # 0.05 s per answer: neither server can answer all 60 before the other's first answer arrives
    with FakeOpenAIServer(script=slowly(answers_for("aime24", even_right, model="ckpt-a"))) as a, \
            FakeOpenAIServer(script=slowly(answers_for("aime24", even_right, model="ckpt-b"))) as b:
        assert main(run_args([a.base_url, b.base_url], tmp_path, "--n", "2", "--concurrency", "1")) == 2
    assert "reports model 'ckpt-" in capsys.readouterr().err
    assert len({r["model"] for r in rows(tmp_path / f"{MODEL}__aime24" / "samples.jsonl")}) == 1


@pytest.fixture(scope="module")
def sharded(tmp_path_factory) -> Path:
    """aime24 at n=2: three shards in one folder, and the same run unsharded in another."""
    tmp = tmp_path_factory.mktemp("shards")
    with FakeOpenAIServer(script=answers_for("aime24", even_right)) as server:
        for k in (1, 2, 3):
            assert main(run_args([server.base_url], tmp / "shards", "--n", "2", "--shard", f"{k}/3")) == 0
        assert main(run_args([server.base_url], tmp / "whole", "--n", "2")) == 0
    return tmp


def shard_dirs(tmp: Path) -> list[Path]:
    return [tmp / "shards" / f"{MODEL}__aime24__shard{k}of3" for k in (1, 2, 3)]


def test_shards_are_disjoint_and_cover_the_run(sharded):
    parts = [keys(d) for d in shard_dirs(sharded)]
    assert all(parts) and sum(map(len, parts)) == 60
    assert set().union(*parts) == keys(sharded / "whole" / f"{MODEL}__aime24")
    assert not any((d / "summary.json").exists() for d in shard_dirs(sharded))   # no metrics from a part
    assert [json.loads((d / "config.json").read_text())["shard"] for d in shard_dirs(sharded)] == ["1/3", "2/3", "3/3"]


def test_a_shard_is_not_scored_alone(sharded, capsys):
    assert main(["score", str(shard_dirs(sharded)[0]), "--no-progress"]) == 2
    assert "is shard 1/3 of a run: join the shards with `mimo-eval merge" in capsys.readouterr().err


def test_merge_gives_the_unsharded_run(sharded, capsys):
    merged = sharded / "merged" / f"{MODEL}__aime24"
    assert main(["merge", *map(str, shard_dirs(sharded)), "--out", str(merged)]) == 0
    whole = sharded / "whole" / f"{MODEL}__aime24"
    texts = lambda d: {(r["problem_id"], r["sample_index"]): r["text"] for r in rows(d / "samples.jsonl")}  # noqa
    assert texts(merged) == texts(whole)
    summary = json.loads((merged / "summary.json").read_text())
    assert summary["pass@1"] == pytest.approx(100 * 14 / 30)
    assert summary["pass@1"] == json.loads((whole / "summary.json").read_text())["pass@1"]
    assert len(json.loads((merged / "config.json").read_text())["merged_from"]) == 3
    capsys.readouterr()
    assert main(["compare", str(merged), str(whole)]) == 0
    assert "| +0.0 |" in capsys.readouterr().out
    assert main(["leaderboard", str(sharded / "merged")]) == 0
    assert "46.7 ± 0.0 (2)" in capsys.readouterr().out
    assert main(["score", str(merged), "--rescore", "--no-progress"]) == 0
    assert json.loads((merged / "summary.json").read_text())["pass@1"] == pytest.approx(100 * 14 / 30)


def test_merge_refuses_mismatched_settings(tmp_path, capsys):
    with FakeOpenAIServer(script=answers_for("aime24", even_right)) as server:
        assert main(run_args([server.base_url], tmp_path / "a", "--n", "1", "--shard", "1/2")) == 0
        assert main(run_args([server.base_url], tmp_path / "b", "--n", "1", "--shard", "2/2",
                             "--temperature", "1.0")) == 0
    capsys.readouterr()
    dirs = [tmp_path / "a" / f"{MODEL}__aime24__shard1of2", tmp_path / "b" / f"{MODEL}__aime24__shard2of2"]
    assert main(["merge", *map(str, dirs), "--out", str(tmp_path / "m")]) == 2
    assert "other settings (temperature:" in capsys.readouterr().err and not (tmp_path / "m").exists()


def test_merge_refuses_an_overlap(sharded, tmp_path, capsys):
    first = shard_dirs(sharded)[0]
    copy = tmp_path / "copy_of_shard1"
    shutil.copytree(first, copy)
    assert main(["merge", str(first), str(copy), *map(str, shard_dirs(sharded)[1:]),
                 "--out", str(tmp_path / "m")]) == 2
    assert f"{len(keys(first))} samples are stored by two inputs" in capsys.readouterr().err


def test_merge_reports_a_gap_and_allow_gaps_leaves_a_run_to_finish(sharded, tmp_path, capsys):
    two = shard_dirs(sharded)[:2]
    missing = len(keys(shard_dirs(sharded)[2]))
    assert main(["merge", *map(str, two), "--out", str(tmp_path / "m" / f"{MODEL}__aime24")]) == 2
    assert f"{missing} of 60 samples are in no input (shard 3/3: {missing} missing (not given)" in \
        capsys.readouterr().err
    merged = tmp_path / "m" / f"{MODEL}__aime24"
    assert main(["merge", *map(str, two), "--out", str(merged), "--allow-gaps"]) == 0
    assert not (merged / "summary.json").exists()
    with FakeOpenAIServer(script=answers_for("aime24", even_right)) as server:
        assert main(run_args([server.base_url], tmp_path / "m", "--n", "2")) == 0   # the same command resumes it
        assert len(server.generation_attempts()) == missing
    assert json.loads((merged / "summary.json").read_text())["pass@1"] == pytest.approx(100 * 14 / 30)
