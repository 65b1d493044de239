"""Code grader: a response's program against a problem's tests, run through a `Sandbox`.

Modes:
  "lcb" (evaluation default): LiveCodeBench's judge. Extraction from the last fenced block, the judge's
      in-process semantics (see graders/code/lcb_harness.py, which runs inside the sandbox), 6 s per test, the
      judge's global limit (timeout+1)*n+5 s, public then private tests, first failure ends the sample,
      pass iff all pass. Comparison here on the host (graders/code/lcb_compare.py).
  "all_tests" (rewards): the same semantics, but every test runs and gets a verdict (AC WA TLE RE MLE CE),
      within `budget_s` for the sample; tests the budget did not reach are SKIP.

All tests of a sample run in one sandboxed process, which keeps LCB's cross-test state (one `Solution()`
instance, module globals). If that process dies (hard timeout, memory, segfault), "lcb" stops there (the
judge scores the whole sample as failed); "all_tests" records the verdict for the test it died in and
starts a fresh process at the next test (state from earlier tests is then lost: a documented difference).
A sandbox failure gives reason "infra_error" and score None (masked), never a 0.
"""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

from graders.code.lcb_compare import compare_return, compare_stdout, extract_code
from graders.types import CodeMode, CodeOptions, CodeReference, CodeVerdict, TestOutcome
from sandboxes.types import Limits, Sandbox

HARNESS_SOURCE = Path(__file__).with_name("lcb_harness.py").read_text()
DEFAULT_TIMEOUT_S = 6           # LCB's --timeout
DEFAULT_MEMORY_MB = 4096        # LCB sets none (its comment says 4 GB); a sandbox needs one
OUTPUT_CAP_SLACK = 1 << 16      # captured output kept per test: 4 x expected + this
DEATH_VERDICTS = {"timeout": "TLE", "memory": "MLE", "output_limit": "WA", "runtime_error": "RE", "ok": "RE"}
STATUS_VERDICTS = {"timeout": "TLE", "memory": "MLE", "runtime_error": "RE"}
RECORD_FIELDS = {"i": int, "status": str, "truncated": bool, "error": str, "time": (int, float),
                 "compile": bool, "ready": bool}

_default_lock = threading.Lock()
_default_sandbox: Sandbox | None = None


class _InfraError(Exception):
    pass


def grade(*, reference: CodeReference, response: str, mode: CodeMode = "lcb", sandbox: Sandbox | None = None,
          timeout_s: int = DEFAULT_TIMEOUT_S, options: CodeOptions = CodeOptions(),
          budget_s: float | None = None, memory_mb: int = DEFAULT_MEMORY_MB) -> CodeVerdict:
    """Grade a whole model response: LCB's extraction, then `judge`."""
    _check_arguments(reference, response)
    return judge(reference=reference, code=extract_code(response), mode=mode, sandbox=sandbox,
                 timeout_s=timeout_s, options=options, budget_s=budget_s, memory_mb=memory_mb)


def judge(*, reference: CodeReference, code: str, mode: CodeMode = "lcb", sandbox: Sandbox | None = None,
          timeout_s: int = DEFAULT_TIMEOUT_S, options: CodeOptions = CodeOptions(),
          budget_s: float | None = None, memory_mb: int = DEFAULT_MEMORY_MB) -> CodeVerdict:
    """Judge already-extracted code (e.g. LCB's `code_list`)."""
    _check_arguments(reference, code)
    if mode not in ("lcb", "all_tests"):
        raise ValueError(f"mode must be 'lcb' or 'all_tests', got {mode!r}")
    n = len(reference.tests)
    common = dict(extracted_code=code, mode=mode, options=options)
    problem = _reference_problem(reference)
    if problem:
        return CodeVerdict(passed=False, reason="bad_tests", detail=problem, **common)
    if not code.strip():
        return CodeVerdict(passed=False, reason="no_code", detail="no fenced code block in the response",
                           per_test=(TestOutcome("CE", detail="no code"),) * n, **common)
    try:
        outcomes = _run(reference, code, mode, sandbox or default_sandbox(), timeout_s, options,
                        budget_s, memory_mb)
    except _InfraError as exc:
        return CodeVerdict(passed=False, reason="infra_error", infra_error=str(exc), **common)
    passed = all(o.verdict == "AC" for o in outcomes)
    return CodeVerdict(passed=passed, reason="passed" if passed else "failed", per_test=tuple(outcomes), **common)


def _check_arguments(reference: object, text: object) -> None:
    if not isinstance(reference, CodeReference):
        raise TypeError(f"reference must be a CodeReference, got {type(reference).__name__}; "
                        "build one with graders.code.lcb_tests.reference_from_lcb_row")
    if not isinstance(text, str):
        raise TypeError(f"the response/code must be str, got {type(text).__name__}")


def judge_sandbox(kind: str = "auto", workers: int | None = None) -> Sandbox:
    """A sandbox like LiveCodeBench's judge process: the runner image with numpy (judged programs may
    import it). "auto": Docker when an engine answers, else LocalSandbox with a warning."""
    from sandboxes import get_sandbox
    from sandboxes.build import image_name

    return get_sandbox(kind, workers, image=image_name(numpy=True))


def default_sandbox() -> Sandbox:
    """One shared judge sandbox per process."""
    global _default_sandbox
    with _default_lock:
        if _default_sandbox is None:
            _default_sandbox = judge_sandbox()
        return _default_sandbox


def _reference_problem(reference: CodeReference) -> str:
    """Tests the judge itself could not run: reported as bad_tests (masked), not as the model's failure."""
    if not reference.tests:
        return "no tests"
    if reference.fn_name is None:
        return ""
    if not reference.fn_name.isidentifier():
        return f"fn_name {reference.fn_name!r} is not an identifier"
    for index, test in enumerate(reference.tests):
        try:
            [json.loads(line) for line in test.input.split("\n")]
            json.loads(test.output)
        except ValueError as exc:
            return f"test {index}: functional input/output is not JSON per line ({exc})"
    return ""


def _run(reference, code, mode, sandbox, timeout_s, options, budget_s, memory_mb) -> list[TestOutcome]:
    tests, n = reference.tests, len(reference.tests)
    outcomes: list[TestOutcome | None] = [None] * n
    if budget_s is None and mode == "all_tests":  # relaunches after a crash share the judge's global limit
        budget_s = (timeout_s + 1) * n + 5
    deadline = None if budget_s is None else time.monotonic() + budget_s
    start = 0
    while start < n:
        time_s = float((timeout_s + 1) * (n - start) + 5)  # LCB's global join timeout
        if deadline is not None:
            time_s = min(time_s, deadline - time.monotonic())
            if time_s <= 0:
                break
        records, run = _run_once(sandbox, reference, code, start, mode, timeout_s, options, time_s, memory_mb)
        compiled = next((r for r in records if "compile" in r), None)
        if compiled is None or not compiled["compile"]:
            verdict = "CE" if compiled is not None else DEATH_VERDICTS.get(run.status, "RE")
            detail = compiled["error"] if compiled is not None else _died(run)
            outcomes[start:] = [TestOutcome(verdict, detail=detail)] * (n - start)
            break
        done: list[dict] = []
        for record in records:  # in order and contiguous; anything else on the channel is ignored
            if record.get("i") == len(done):
                done.append(record)
        for record in done:
            index = start + record["i"]
            if index < n:
                outcomes[index] = _outcome(record, tests[index], reference.fn_name, options)
        start += len(done)
        if start >= n or mode == "lcb":
            if start < n and (not done or done[-1]["status"] == "ok"):
                outcomes[start] = TestOutcome(DEATH_VERDICTS.get(run.status, "RE"), detail=_died(run))
            break
        outcomes[start] = TestOutcome(DEATH_VERDICTS.get(run.status, "RE"), detail=_died(run))
        start += 1
    if mode == "lcb":
        first_failure = next((i for i, o in enumerate(outcomes) if o is None or o.verdict != "AC"), n)
        outcomes[first_failure + 1:] = [None] * (n - first_failure - 1)
    return [o or TestOutcome("SKIP") for o in outcomes]


def _run_once(sandbox, reference, code, start, mode, timeout_s, options, time_s, memory_mb):
    tests = reference.tests[start:]
    caps = [4 * len(t.output) + OUTPUT_CAP_SLACK for t in tests]
    payload = {"code": code, "fn_name": reference.fn_name, "inputs": [t.input for t in tests], "caps": caps,
               "timeout": int(timeout_s), "stop_after_failure": mode == "lcb",
               "stdout_buffer": options.stdout_buffer}
    limits = Limits(time_s=time_s, memory_mb=memory_mb, output_bytes=6 * sum(caps) + (1 << 20))
    try:
        result = sandbox.run(HARNESS_SOURCE, [json.dumps(payload) + "\n"], limits)
    except Exception as exc:  # whatever the sandbox raises is its failure, not the program's
        raise _InfraError(f"sandbox raised {exc!r}") from exc
    if result.infra_error:
        raise _InfraError(result.infra_error)
    if len(result.results) != 1 or result.results[0].status in ("compile_error", "skipped"):
        raise _InfraError(f"sandbox returned {result.results!r:.300}")
    run = result.results[0]
    records = _parse_records(run.stdout)
    if not any(r.get("ready") for r in records):
        raise _InfraError(f"harness did not start ({run.status}): {run.stderr[-500:]}")
    return records, run


def _parse_records(stdout: str) -> list[dict]:
    records = []
    for line in stdout.split("\n"):
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # a record cut by a kill or an output cap, or nested to crash us
            continue
        if isinstance(record, dict) and _well_formed(record):
            records.append(record)
    return records


def _well_formed(record: dict) -> bool:
    """The judged program runs in the harness's process and can write to its channel (fd 3): a forged record
    may claim a wrong verdict (outputs are still compared here), but must never crash the host grader and so
    turn the program's 0 into a masked sample."""
    for key, kind in RECORD_FIELDS.items():
        if key in record and (not isinstance(record[key], kind) or (kind is int and isinstance(record[key], bool))):
            return False
    return True


def _outcome(record: dict, test, fn_name: str | None, options: CodeOptions) -> TestOutcome:
    wall = float(record.get("time") or 0.0)
    if record.get("status") != "ok":
        return TestOutcome(STATUS_VERDICTS.get(record.get("status"), "RE"), wall, str(record.get("error", "")))
    if record.get("truncated"):
        return TestOutcome("WA", wall, "output far longer than expected (over the per-test cap)")
    if fn_name is None:
        ok, why = compare_stdout(expected=test.output, actual=str(record.get("out", "")),
                                 float_tolerance=options.float_tolerance)
    else:
        ok, why = compare_return(expected_json=test.output, actual_encoded=record.get("out"),
                                 float_tolerance=options.float_tolerance)
    return TestOutcome("AC" if ok else "WA", wall, why)


def _died(run) -> str:
    return f"process ended ({run.status}, exit {run.exit_code}): {run.stderr[-300:]}"


def grade_many(pairs: Sequence[tuple[CodeReference, str]], *, code_is_extracted: bool = False,
               workers: int | None = None, progress: bool = True, sandbox: Sandbox | None = None,
               **options) -> list[CodeVerdict]:
    """Grade (reference, response) pairs on a thread pool feeding the sandbox's workers; order preserved.
    With code_is_extracted the second item is code, as LCB's `code_list`. `options` go to `grade`/`judge`."""
    sandbox = sandbox or default_sandbox()
    fn = judge if code_is_extracted else grade
    key = "code" if code_is_extracted else "response"
    workers = workers or getattr(sandbox, "workers", None) or 2
    results: list[CodeVerdict | None] = [None] * len(pairs)

    def one(index: int) -> None:
        reference, text = pairs[index]
        results[index] = fn(reference=reference, sandbox=sandbox, **{key: text}, **options)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(one, i) for i in range(len(pairs))]
        if progress:
            from rich.progress import track
            for future in track(futures, description="grading code", total=len(futures)):
                future.result()
        else:
            for future in futures:
                future.result()
    return results  # type: ignore[return-value]
