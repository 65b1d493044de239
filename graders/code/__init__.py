"""Code grader: a response's program against a problem's tests, run through a `Sandbox`.

Modes:
  "lcb" (evaluation default): LiveCodeBench's judge. Extraction from the last fenced block, the judge's
      in-process semantics (see graders/code/lcb_harness.py, which runs inside the sandbox), 6 s per test, the
      judge's global limit (timeout+1)*n+5 s, public then private tests, first failure ends the sample,
      pass iff all pass. Comparison here on the host (graders/code/lcb_compare.py).
  "all_tests" (rewards): the same semantics, but every test runs and gets a verdict (AC WA TLE RE MLE CE),
      within `budget_s` for the sample; tests the budget did not reach are SKIP.

All tests of a sample run in one sandboxed process (a sandbox session), which keeps LCB's cross-test state
(one `Solution()` instance, module globals). The sandbox hands that process one test input at a time and
measures and enforces each test's time itself, so a TLE cannot be dodged from inside (LCB's in-process alarm
could be). The expected outputs never leave this host process: the process under test gets the code and the
inputs, output caps are constants (OUTPUT_CAP_BYTES per test, RESULT_CAP_BYTES per sample, relaunches
included), and every comparison happens here, after the session: nothing the program can observe, its
timing included, depends on the expected outputs. If that process dies (timeout, memory, segfault), "lcb"
stops there (the judge scores the whole sample as failed); in "all_tests" the sandbox starts a fresh one at
the next test, inside the sample's budget (state from earlier tests is then lost: a documented difference),
and a relaunch that cannot start before the budget ends is that test's TLE.
Host cost per sample is bounded whatever the program prints: stdin records are decoded as one string, a
return value is parsed only if it is no larger than a value equal to the expected one can be, and lines
and tokens are counted before any is converted (graders/code/lcb_compare.py).
A sandbox failure gives reason "infra_error" and score None (masked), never a 0; tests whose expected
outputs do not fit the caps give "bad_tests" (masked).
"""
from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from json.decoder import scanstring
from pathlib import Path
from typing import Sequence

from graders.code.lcb_compare import compare_return, compare_stdout, extract_code
from graders.types import CodeMode, CodeOptions, CodeReference, CodeVerdict, TestOutcome
from sandboxes.types import Limits, Sandbox

HARNESS_SOURCE = Path(__file__).with_name("lcb_harness.py").read_text()
DEFAULT_TIMEOUT_S = 6           # LCB's --timeout
DEFAULT_MEMORY_MB = 4096        # LCB sets none (its comment says 4 GB); a sandbox needs one
OUTPUT_CAP_BYTES = 8 << 20      # one test's record (JSON line) from the process under test; longer: WA
RESULT_CAP_BYTES = 32 << 20     # all records of one sample: with base64 and decoding, host memory <= ~6x this
EXPECTED_CAP_BYTES = 4 << 20    # an expected output longer than this could not fit a record: bad_tests
RECORD_FIELDS = {"status": str, "truncated": bool, "error": str, "compile": bool, "ready": bool}
SMALL_RECORD = 4096             # a record without output (ready, compile, an error: 300 characters, JSON-escaped)
RETURN_RATIO = 5                # a value == the expected JSON encodes to <= 5x its text (0 == False: "false")
DEATH_VERDICTS = {"timeout": "TLE", "memory": "MLE", "output_limit": "WA", "runtime_error": "RE", "ok": "RE"}
STATUS_VERDICTS = {"memory": "MLE", "runtime_error": "RE"}

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
    sizes = [len(t.output.encode("utf-8", "surrogatepass")) for t in reference.tests]
    if max(sizes) > EXPECTED_CAP_BYTES or 2 * sum(sizes) > RESULT_CAP_BYTES:
        return (f"expected outputs too large for the output caps (largest {max(sizes)} bytes, total {sum(sizes)}; "
                f"caps {EXPECTED_CAP_BYTES} per test, {RESULT_CAP_BYTES // 2} per sample)")
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
    """One sandbox session for the whole sample, then every comparison: nothing the program can observe,
    time included, happens after a comparison (the relaunches after a death are the sandbox's)."""
    tests, n = reference.tests, len(reference.tests)
    lcb_limit = (timeout_s + 1) * n + 5  # LCB's global join timeout
    budget = lcb_limit if budget_s is None else min(lcb_limit, budget_s)
    setup = {"code": code, "fn_name": reference.fn_name, "out_cap": OUTPUT_CAP_BYTES,
             "stop_after_failure": mode == "lcb", "stdout_buffer": options.stdout_buffer}
    steps = [json.dumps(setup) + "\n", "{}\n"] + [json.dumps(t.input) + "\n" for t in tests]
    limits = Limits(time_s=float(timeout_s), memory_mb=memory_mb, output_bytes=OUTPUT_CAP_BYTES + 2,
                    total_output_bytes=RESULT_CAP_BYTES, budget_s=float(budget))
    try:  # all_tests: a process that dies is relaunched (the harness's two set-up steps again) at the next test
        result = sandbox.run(HARNESS_SOURCE, steps, limits, session=True, relaunch=2 if mode == "all_tests" else 0)
    except Exception as exc:  # whatever the sandbox raises is its failure, not the program's
        raise _InfraError(f"sandbox raised {exc!r}") from exc
    if result.infra_error:
        raise _InfraError(result.infra_error)
    if len(result.results) != len(steps) or result.results[0].status in ("compile_error", "skipped"):
        raise _InfraError(f"sandbox returned {result.results!r:.300}")
    ready, compiled, runs = result.results[0], result.results[1], result.results[2:]
    if ready.status != "ok" or _record(ready, SMALL_RECORD).get("ready") is not True:  # no program code ran yet
        raise _InfraError(f"harness did not start ({ready.status}): {ready.stderr[-500:]}")
    if compiled.status != "ok" or not _record(compiled, SMALL_RECORD).get("compile"):
        detail = _record(compiled, SMALL_RECORD).get("error") or _died(compiled)
        verdict = "CE" if compiled.status == "ok" else DEATH_VERDICTS.get(compiled.status, "RE")
        outcomes = [TestOutcome(verdict, compiled.wall_s, str(detail))] * n
    else:
        outcomes = [None if run.status == "skipped" else _outcome(run, test, reference.fn_name, options)
                    for run, test in zip(runs, tests)]
    if mode == "lcb":
        first_failure = next((i for i, o in enumerate(outcomes) if o is None or o.verdict != "AC"), n)
        outcomes[first_failure + 1:] = [None] * (n - first_failure - 1)
    return [o or TestOutcome("SKIP") for o in outcomes]


def _record(run, limit: int) -> dict:
    """The JSON record a step answered with; {} for a line cut by a kill or a cap, not JSON, or longer than
    `limit`. The program shares the harness's process and can forge its own line, so nothing here may cost
    the host more than the limit allows: json.loads of a line of n characters builds up to ~25n bytes."""
    if len(run.stdout) > limit:
        return {}
    try:
        record = json.loads(run.stdout)
    except (ValueError, RecursionError):  # RecursionError: a line nested 200k deep
        return {}
    return record if isinstance(record, dict) and _well_formed(record) else {}


def _stdin_record(run) -> dict:
    """A stdin test's record: {"status": "ok", "out": <one JSON string>} is decoded without json.loads on
    the whole line (a forged line of nested arrays would build millions of objects); others are small."""
    prefix = '{"status":"ok","out":"'
    if not run.stdout.startswith(prefix):
        return _record(run, SMALL_RECORD)
    try:
        out, end = scanstring(run.stdout, len(prefix))
    except ValueError:
        return {}
    return {"status": "ok", "out": out} if run.stdout[end:].rstrip("\n") == "}" else {}


def _larger_than_any_equal(line: str, expected_json: str) -> bool:
    """A return value equal to the expected one encodes (lcb_harness.encode_value, in its record) to at most
    RETURN_RATIO x the expected JSON's characters, and to at most 3x its structural characters (a list adds a
    tag, a dict entry a pair). Checked before json.loads, so what the host builds is bounded by the expected
    value, not by what the program printed (a list of millions of empty lists is ~25 bytes per character)."""
    def structure(text: str) -> int:
        return sum(text.count(c) for c in "[{,:")
    return (len(line) > RETURN_RATIO * len(expected_json) + SMALL_RECORD
            or structure(line) > 3 * structure(expected_json) + 8)


def _well_formed(record: dict) -> bool:
    """The program under test shares the harness's process and can write its own line to the channel: a forged
    record may claim a wrong verdict (outputs are still compared here), but must never crash the host grader,
    which a reward pool would report as an error and mask instead of the program's 0."""
    return all(isinstance(record[key], kind) for key, kind in RECORD_FIELDS.items() if key in record)


def _outcome(run, test, fn_name: str | None, options: CodeOptions) -> TestOutcome:
    """A test's verdict from its step: the sandbox's status and time, then the record's status, then the
    comparison (here, on the host, after the session)."""
    wall = run.wall_s
    if run.status != "ok":
        return TestOutcome(DEATH_VERDICTS.get(run.status, "RE"), wall, _died(run))
    if fn_name is None:
        record = _stdin_record(run)
    elif _larger_than_any_equal(run.stdout, test.output):
        return TestOutcome("WA", wall, "returned value larger than any value equal to the expected one")
    else:
        record = _record(run, len(run.stdout))
    if record.get("truncated"):
        return TestOutcome("WA", wall, f"output over the per-test cap ({OUTPUT_CAP_BYTES} bytes)")
    if record.get("status") != "ok":
        return TestOutcome(STATUS_VERDICTS.get(record.get("status"), "RE"), wall, str(record.get("error", "")))
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
