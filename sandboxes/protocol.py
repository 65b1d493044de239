"""Host side of the driver protocol (see driver.py): encode one request, parse one reply strictly."""
from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Sequence

from sandboxes.types import Limits, RunResult

DRIVER_PATH = Path(__file__).with_name("driver.py")
RUNNER_FILES = tuple(Path(__file__).with_name(n) for n in ("driver.py", "zygote.py", "cleanup.py"))  # in the image
STATUSES = {"ok", "runtime_error", "timeout", "memory", "output_limit", "compile_error", "skipped"}
RESULT_KEYS = {"status", "stdout", "stderr", "exit_code", "wall_s", "peak_memory_kb"}
# Per-test slack for fork, kill sweep and reaping, and per-request slack for start-up and cleaning.
TEST_SLACK_S = 0.5
REQUEST_SLACK_S = 5.0
REPLY_MARGIN_S = 1.0            # the driver replies this long before the host stops waiting (transport)
STDERR_TAIL = 64 << 10          # the driver's stderr tail per test (driver.py)
PER_RESULT_BYTES = 256          # status, exit code, times and JSON punctuation of one result
MAX_TOTAL_OUTPUT = 64 << 20     # no caller may ask the host to hold more than this per submission


class ProtocolError(RuntimeError):
    """The driver's reply was not what the protocol promises: treat the sandbox as broken."""


def encode_request(program: str, inputs: Sequence[str], limits: Limits, stop_on_error: bool,
                   session: bool = False, relaunch: int = 0) -> bytes:
    if not isinstance(program, str) or isinstance(inputs, str) or any(not isinstance(x, str) for x in inputs):
        raise TypeError("program must be a str and inputs a sequence of str (one stdin per test)")
    if relaunch and not (session and isinstance(relaunch, int) and 0 < relaunch < len(inputs)):
        raise ValueError(f"relaunch={relaunch!r} needs session=True and fewer set-up inputs than inputs")
    if not (limits.time_s > 0 and limits.memory_mb >= 0 and limits.output_bytes > 0
            and 0 < limits.total_output_bytes <= MAX_TOTAL_OUTPUT and (limits.budget_s is None or limits.budget_s > 0)):
        raise ValueError(f"limits out of range: {limits} (time_s, output_bytes, budget_s > 0; memory_mb >= 0; "
                         f"0 < total_output_bytes <= {MAX_TOTAL_OUTPUT})")
    req = {"program": program, "inputs": list(inputs), "time_s": limits.time_s,
           "memory_mb": limits.memory_mb, "output_bytes": limits.output_bytes,
           "total_output_bytes": limits.total_output_bytes, "budget_s": limits.budget_s,
           "stop_on_error": stop_on_error, "session": session, "relaunch": relaunch,
           "reply_within_s": request_deadline(limits, len(inputs), relaunch) - REPLY_MARGIN_S}
    return json.dumps(req).encode() + b"\n"


def request_deadline(limits: Limits, n_tests: int, relaunch: int = 0) -> float:
    """How long the host waits for a reply before declaring the sandbox broken (a relaunch after every
    death replays `relaunch` set-up steps)."""
    total = n_tests * (limits.time_s + TEST_SLACK_S) * (1 + relaunch)
    if limits.budget_s is not None:
        total = min(total, limits.budget_s + n_tests * TEST_SLACK_S)
    return total + REQUEST_SLACK_S


def reply_cap(limits: Limits, n_tests: int) -> int:
    """Most bytes a reply can take: the submission's kept output (plus one stderr tail per test, which the
    driver may overshoot by) base64-encoded, plus fixed fields per test. Independent of the expected outputs."""
    kept = limits.total_output_bytes + STDERR_TAIL
    return kept * 4 // 3 + n_tests * PER_RESULT_BYTES + 65536


def parse_reply(line: bytes, n_tests: int) -> tuple[tuple[RunResult, ...], str | None]:
    """(results, recycle): `recycle` is the driver's reason why its container must not serve again."""
    try:
        reply = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"reply is not JSON: {exc}; starts {line[:200]!r}") from None
    if not isinstance(reply, dict) or reply.get("ok") is not True:
        error = reply.get("error") if isinstance(reply, dict) else None
        raise ProtocolError(f"driver failed: {error or str(reply)[:500]}")
    results, recycle = reply.get("results"), reply.get("recycle")
    if not isinstance(results, list) or len(results) != n_tests:
        raise ProtocolError(f"expected {n_tests} results, got {type(results).__name__}")
    if recycle is not None and not isinstance(recycle, str):
        raise ProtocolError(f"malformed recycle field: {str(recycle)[:200]}")
    return tuple(_parse_result(r) for r in results), recycle


def _parse_result(r: object) -> RunResult:
    if not isinstance(r, dict) or set(r) != RESULT_KEYS:
        raise ProtocolError(f"malformed result: {str(r)[:200]}")
    ok = (r["status"] in STATUSES and isinstance(r["stdout"], str) and isinstance(r["stderr"], str)
          and (r["exit_code"] is None or type(r["exit_code"]) is int)
          and type(r["wall_s"]) in (int, float)
          and (r["peak_memory_kb"] is None or type(r["peak_memory_kb"]) is int))
    if not ok:
        raise ProtocolError(f"malformed result: {str(r)[:200]}")
    try:
        stdout, stderr = (base64.b64decode(r[k], validate=True).decode("utf-8", "replace")
                          for k in ("stdout", "stderr"))
    except (binascii.Error, ValueError):
        raise ProtocolError(f"malformed result streams: {str(r)[:200]}") from None
    return RunResult(status=r["status"], stdout=stdout, stderr=stderr, exit_code=r["exit_code"],
                     wall_s=float(r["wall_s"]), peak_memory_kb=r["peak_memory_kb"])
