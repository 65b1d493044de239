"""`--shard K/N`: which (problem, sample) pairs one of N machines generates, and the shard's run directory name.

A pair belongs to shard K when a hash of (problem id, sample index) falls in bucket K (1-based), so the split does
not depend on the order or number of problems loaded, and a run extended to a larger n keeps every earlier
pair on the machine that made it. Shards are about equal in size (a hash, not a round robin: 30 problems x 32
samples over 4 shards gave 224 to 255 of the 960 pairs each). `mimo-eval merge` joins the N run directories
into one run.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

SHARD_SUFFIX = re.compile(r"__shard(\d+)of(\d+)$")


def parse_shard(text: str) -> tuple[int, int]:
    """'2/4' -> (2, 4). Raises ValueError with what a valid value looks like."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise ValueError(f"--shard takes K/N such as 1/4, got {text!r}")
    k, n = int(match.group(1)), int(match.group(2))
    if not 1 <= k <= n:
        raise ValueError(f"--shard {text}: K must be between 1 and N (shards are numbered 1/{n} .. {n}/{n})")
    return k, n


def shard_of(problem_id: str, sample_index: int, count: int) -> int:
    """The shard (1..count) that owns one (problem, sample) pair."""
    digest = hashlib.sha256(f"{problem_id}#{sample_index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def shard_dir(run_dir: Path, shard: tuple[int, int] | None) -> Path:
    """Each shard has its own run directory beside the unsharded one: a shard is never confused with a run."""
    if shard is None:
        return run_dir
    return run_dir.parent / f"{run_dir.name}__shard{shard[0]}of{shard[1]}"


def shard_label(shard: tuple[int, int] | None) -> str | None:
    return None if shard is None else f"{shard[0]}/{shard[1]}"
