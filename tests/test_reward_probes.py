"""The reward-hacking probes (graders/rewards/probes.py) through the reward pool: every hack in every reward
mode scores 0 or is masked (a row listed in probes.KNOWN_GAPS is a strict xfail), and every control (a real
solution) scores 1, so the suite cannot pass by scoring everything 0. Code probes run in the Docker sandbox
(skipped without it; in CI a missing engine fails).

Run: python -m pytest -q tests/test_reward_probes.py      (about 1-2 min on 2 cores)
"""
import pytest

from graders.rewards import probes
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


def test_every_probe_is_run():
    assert len(KEYS) == len(set(KEYS)) and len(KEYS) > 40


def _param(key):
    if (key[1], key[2]) in probes.KNOWN_GAPS:   # strict: the day it is fixed, this fails and the gap is removed
        return pytest.param(key, marks=pytest.mark.xfail(strict=True, reason="soft reward pays for guessed tests"))
    return key


@pytest.mark.parametrize("key", [_param(k) for k in KEYS], ids=[f"{k}:{h}:{m}" for k, h, m in KEYS])
def test_probe(rows, key):
    row = rows[key]
    assert row.ok, f"{row.hack} ({row.mode}) scored {row.score} ({row.reason})"
