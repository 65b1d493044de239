"""The reward-hacking probes (graders/rewards/probes.py) through the reward pool: every hack in every reward mode
scores 0 and every control (a real solution) scores 1, so the suite cannot pass by scoring everything 0. A masked
hack (score None) does not hold: a masked sample earns advantage 0, more than a wrong answer's. Only a mask the host
caused (a deadline while the worker waited for a CPU, a sandbox down: probes.HOST_REASONS) is shown apart, as a
skip naming the cause: the hack was not decided, neither held nor paid. A row in probes.KNOWN_GAPS is a strict
xfail. Code probes run in the Docker sandbox (skipped without it; in CI a missing engine fails). Also: the
verdicts themselves, and `--target` probing someone else's reward in each calling convention.

Run: python -m pytest -q tests/test_reward_probes.py      (about 1-2 min on 2 cores)
"""
import pytest

from graders.rewards import probe_targets, probes
from graders.rewards.pool import RewardPool
from conftest import docker_sandbox_or_skip

KEYS = [(p.kind, p.name, mode) for kind, make, modes in (("math", probes.math_probes, probes.MATH_MODES),
                                                         ("code", probes.code_probes, probes.CODE_MODES))
        for p in make() for mode in modes
        if not ("tiers" in modes[mode] and p.reference is not None)]


@pytest.fixture(scope="module")
def rows():
    sandbox = docker_sandbox_or_skip(workers=2)
    with RewardPool(2, sandbox=sandbox) as pool:
        yield {(r.kind, r.hack, r.mode): r for r in probes.run_probes(pool)}
    sandbox.close()


def test_every_probe_is_run_and_every_math_class_has_one():
    assert len(KEYS) == len(set(KEYS)) and len(KEYS) > 50
    assert {p.hack_class for p in probes.math_probes()} == set(probes.MATH_CLASSES)


def _param(key):
    if (key[1], key[2]) in probes.KNOWN_GAPS:   # strict: the day it is fixed, this fails and the gap is removed
        return pytest.param(key, marks=pytest.mark.xfail(strict=True, reason="soft reward pays for guessed tests"))
    return key


@pytest.mark.parametrize("key", [_param(k) for k in KEYS], ids=[f"{k}:{h}:{m}" for k, h, m in KEYS])
def test_probe(rows, key):
    row = rows[key]
    if row.host_masked:
        pytest.skip(f"masked by the host ({row.reason}): not decided, shown apart")
    assert row.ok, f"{row.hack} ({row.mode}) scored {row.score} ({row.reason})"


@pytest.mark.parametrize("score,reason,control,ok,host,verdict", [
    (0.0, "wrong", False, True, False, "held (0)"),
    (None, "gold_unparseable", False, False, False, "NO: masked (gold_unparseable)"),   # a mask is no 0
    (None, "timeout", False, False, True, "masked by the host (timeout)"),
    (None, "infra_error", False, False, True, "masked by the host (infra_error)"),
    (1.0, "correct", False, False, False, "NO: paid 1 (correct)"),
    (1.0, "correct", True, True, False, "pays 1"),
    (None, "timeout", True, False, False, "NO: masked (timeout)"),   # a control must be paid, whatever masked it
])
def test_a_hack_holds_only_with_a_zero(score, reason, control, ok, host, verdict):
    row = probes.ProbeRow("h", "math", "reward", score, reason, control, "taken back")
    assert (row.ok, row.host_masked, row.verdict) == (ok, host, verdict)


def pays_any_last_box(response, gold):   # a plain-convention reward that reads the last box anywhere, naively
    return float(response.rfind("\\boxed{" + gold + "}") >= 0)


def test_target_plain_convention_reports_what_a_naive_reward_pays():
    rows = [row for row, _ in probe_targets.run_target(pays_any_last_box, "plain")]
    summary = probes.class_summary(rows)
    assert summary["control"] == "pays 2/2" and summary["taken back"] == "paid 3/3"
    assert summary["inside the thinking"] == "paid 2/2"


@pytest.mark.parametrize("convention,spec", [("verl", "graders.rewards.verl:compute_score"),
                                             ("trl", "graders.rewards.trl:reward")])
def test_target_our_adapters_hold_every_math_probe_in_their_convention(convention, spec):
    rows = [row for row, _ in probe_targets.run_target(probe_targets.load_target(spec), convention, "aime24")]
    missed = [(r.hack, r.score, r.reason) for r in rows if not r.ok]
    assert not missed, missed     # thinking_opened reaches them through extra_info / the column


def test_target_errors_are_clear():
    with pytest.raises(ValueError, match="module:function"):
        probe_targets.load_target("trl.rewards")
    with pytest.raises(ValueError, match="cannot import"):
        probe_targets.load_target("no_such_module_xyz:f")
    rows = [row for row, _ in probe_targets.run_target(lambda response: 1.0, "plain")]   # wrong arity: raises
    assert all(r.reason.startswith("raised TypeError") for r in rows)
    assert probes.class_summary(rows)["taken back"] == "paid 0/3, 3 raised"


def test_cli_target_writes_the_per_class_summary(tmp_path, capsys):
    import json

    from mimo_eval.cli import main

    out = tmp_path / "probes.json"
    assert main(["reward-probes", "--target", "test_reward_probes:pays_any_last_box", "--convention", "plain",
                 "--json", str(out)]) == 0     # another's reward paying hacks is information, not a failure
    report = json.loads(out.read_text())
    assert report["target"] == "test_reward_probes:pays_any_last_box" and report["classes"]["control"] == "pays 2/2"
    assert "taken back: paid 3/3" in capsys.readouterr().out
