"""The --shard K/N split (mimo_eval/harness/shard.py): parsing, the pinned assignment, balance, stability under a larger n.

The assignment is pinned because shards of one evaluation may run different mimo-eval versions on different
machines: a changed hash would make their shards overlap and leave gaps (which merge would then refuse).

Run: python -m pytest -q tests/test_shard.py
"""
from __future__ import annotations

from collections import Counter

import pytest

from mimo_eval.harness.shard import parse_shard, shard_of


@pytest.mark.parametrize("text, expected", [("1/4", (1, 4)), ("4/4", (4, 4)), (" 2 / 3 ", (2, 3)), ("1/1", (1, 1))])
def test_parse(text, expected):
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text, message", [("0/4", "K must be between 1 and N"), ("5/4", "K must be between 1 and N"),
                                           ("1/0", "K must be between 1 and N"), ("2", "takes K/N such as 1/4"),
                                           ("a/b", "takes K/N"), ("-1/4", "takes K/N")])
def test_parse_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_shard(text)


def test_assignment_is_pinned():
    # sha256("aime24/2024-I-1#i"), first 8 bytes big-endian, mod N, + 1: recorded when the split was introduced
    assert [shard_of("aime24/2024-I-1", i, 4) for i in range(8)] == [3, 2, 1, 3, 1, 4, 1, 4]
    assert shard_of("lcb/abc301_a", 3, 2) == 1


def test_shards_are_about_equal():
    sizes = Counter(shard_of(f"aime24/{p}", i, 4) for p in range(30) for i in range(32))   # 960 pairs
    # a hash, not a round robin: binomial spread, SD sqrt(960 * 1/4 * 3/4) = 13.4; this split gives 224..255
    assert set(sizes) == {1, 2, 3, 4} and all(abs(size - 240) <= 3 * 13.4 for size in sizes.values())


def test_a_larger_n_keeps_every_earlier_pair_in_its_shard():
    small = {(p, i): shard_of(f"q/{p}", i, 3) for p in range(20) for i in range(8)}
    large = {(p, i): shard_of(f"q/{p}", i, 3) for p in range(20) for i in range(32)}
    assert all(large[key] == shard for key, shard in small.items())


def test_the_cli_rejects_a_bad_shard_at_parse_time(capsys):
    from mimo_eval.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["run", "aime24", "--model", "m", "--shard", "5/4"])
    assert exit_.value.code == 2 and "K must be between 1 and N" in capsys.readouterr().err
