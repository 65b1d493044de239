"""Host side of the driver protocol (see driver.py): encode one request, parse one reply strictly."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from sandboxes.types import Limits, RunResult, SandboxResult

DRIVER_PATH = Path(__file__).with_name("driver.py")
STATUSES = {"ok", "runtime_error", "timeout", "memory", "output_limit", "compile_error", "skipped"}
RESULT_KEYS = {"status", "stdout", "stderr", "exit_code", "wall_s", "peak_memory_kb"}
# Per-test slack for fork, kill sweep and reaping, and per-request slack for start-up and cleaning.
TEST_SLACK_S = 0.5
REQUEST_SLACK_S = 5.0


class ProtocolError(RuntimeError):
    """The driver's reply was not what the protocol promises: treat the sandbox as broken."""


def encode_request(program: str, inputs: Sequence[str], limits: Limits, stop_on_error: bool) -> bytes:
    if not isinstance(program, str) or isinstance(inputs, str) or any(not isinstance(x, str) for x in inputs):
        raise TypeError("program must be a str and inputs a sequence of str (one stdin per test)")
    if not (limits.time_s > 0 and limits.memory_mb >= 0 and limits.output_bytes > 0
            and (limits.budget_s is None or limits.budget_s > 0)):
        raise ValueError(f"limits out of range: {limits} (time_s, output_bytes, budget_s > 0; memory_mb >= 0)")
    req = {"program": program, "inputs": list(inputs), "time_s": limits.time_s,
           "memory_mb": limits.memory_mb, "output_bytes": limits.output_bytes,
           "budget_s": limits.budget_s, "stop_on_error": stop_on_error}
    return json.dumps(req).encode() + b"\n"


def request_deadline(limits: Limits, n_tests: int) -> float:
    """How long the host waits for a reply before declaring the sandbox broken."""
    total = n_tests * (limits.time_s + TEST_SLACK_S)
    if limits.budget_s is not None:
        total = min(total, limits.budget_s + n_tests * TEST_SLACK_S)
    return total + REQUEST_SLACK_S


def reply_cap(limits: Limits, n_tests: int) -> int:
    """Most bytes a well-behaved reply can take: two capped streams per test, JSON-escaped (x6 worst case)."""
    return n_tests * (2 * limits.output_bytes * 6 + 4096) + 65536


def parse_reply(line: bytes, n_tests: int) -> tuple[RunResult, ...]:
    try:
        reply = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"reply is not JSON: {exc}; starts {line[:200]!r}") from None
    if not isinstance(reply, dict) or reply.get("ok") is not True:
        error = reply.get("error") if isinstance(reply, dict) else None
        raise ProtocolError(f"driver failed: {error or str(reply)[:500]}")
    results = reply.get("results")
    if not isinstance(results, list) or len(results) != n_tests:
        raise ProtocolError(f"expected {n_tests} results, got {type(results).__name__}")
    return tuple(_parse_result(r) for r in results)


def _parse_result(r: object) -> RunResult:
    if not isinstance(r, dict) or set(r) != RESULT_KEYS:
        raise ProtocolError(f"malformed result: {str(r)[:200]}")
    ok = (r["status"] in STATUSES and isinstance(r["stdout"], str) and isinstance(r["stderr"], str)
          and (r["exit_code"] is None or type(r["exit_code"]) is int)
          and type(r["wall_s"]) in (int, float)
          and (r["peak_memory_kb"] is None or type(r["peak_memory_kb"]) is int))
    if not ok:
        raise ProtocolError(f"malformed result: {str(r)[:200]}")
    return RunResult(status=r["status"], stdout=r["stdout"], stderr=r["stderr"], exit_code=r["exit_code"],
                     wall_s=float(r["wall_s"]), peak_memory_kb=r["peak_memory_kb"])
