"""graders/code/__init__.py end to end through a real LocalSandbox: LCB's mocked-stdin semantics, the stdin-program
wrapping, functional tests with one shared Solution instance, verdict kinds in "all_tests" mode, the
score-changing options, and a broken sandbox giving a masked verdict. Docker variants are marked docker.

Run: pytest -q tests/test_code_grader.py            (about 20 s on 2 cores; add -m docker for Docker)
"""
import pytest

from graders.code import grade, grade_many, judge
from graders.types import CodeOptions, CodeReference, CodeTest
from sandboxes import LocalSandbox

STDIN = CodeReference(tests=(CodeTest("3\n1 2 3\n", "6\n"), CodeTest("2\n5 5\n", "10\n")))


@pytest.fixture(scope="module")
def sandbox():
    return LocalSandbox(workers=2)


def run(sandbox, code, reference=STDIN, **kw):
    return judge(reference=reference, code=code, sandbox=sandbox, **kw)


# Ways of reading stdin that LCB's judge accepts (o1-mini samples use each of them and pass officially).
READERS = {
    "input": "n = int(input())\nprint(sum(map(int, input().split())))",
    "readline": "import sys\nn = int(sys.stdin.readline())\nprint(sum(map(int, sys.stdin.readline().split())))",
    "read": "import sys\ndata = sys.stdin.read().split()\nprint(sum(map(int, data[1:])))",
    "readlines": "import sys\nlines = sys.stdin.readlines()\nprint(sum(map(int, lines[1].split())))",
    "iterate": "import sys\nrows = [l for l in sys.stdin]\nprint(sum(map(int, rows[1].split())))",
    "main_guard": "import sys\ndef main():\n    sys.stdin.readline()\n    print(sum(map(int, sys.stdin.readline().split())))\n"
                  "if __name__ == '__main__':\n    main()",
    "exit_swallowed": "input()\nprint(sum(map(int, input().split())))\nexit()\nprint('never')",
    "sys_exit_swallowed": "import sys\ninput()\nprint(sum(map(int, input().split())))\nsys.exit(0)",
    "stdout_write": "import sys\ninput()\nsys.stdout.write(str(sum(map(int, input().split()))) + '\\n')",
    "from_sys_stdin_readline": "from sys import stdin\nstdin.readline()\nprint(sum(map(int, stdin.readline().split())))",
    "builtins_open_is_mocked": "import builtins\nprint(sum(map(int, builtins.open(0).read().split()[1:])))",
    "builtins_open_reached_indirectly": "o = getattr(__import__('bu' + 'iltins'), 'op' + 'en')\n"
                                        "print(sum(map(int, o(0).read().split()[1:])))",
}


@pytest.mark.parametrize("name", sorted(READERS))
def test_stdin_readers_pass(sandbox, name):
    verdict = run(sandbox, READERS[name])
    assert verdict.passed, verdict


def test_read_returns_the_rest_after_readline(sandbox):
    # the judge's sys.stdin is a plain StringIO: read() continues after readline()
    code = "import sys\nsys.stdin.readline()\nprint(repr(sys.stdin.read()))"
    ref = CodeReference(tests=(CodeTest("a\nb\nc\n", repr("b\nc\n")),))
    assert run(sandbox, code, ref).passed


def test_open_zero_reads_the_real_fd_and_times_out(sandbox):
    # `open` is shadowed by the prelude's `from io import *`: the official o1-mini verdicts are TLE (4/4)
    verdict = run(sandbox, "print(sum(map(int, open(0).read().split()[1:])))", timeout_s=1)
    assert verdict.verdicts == ("TLE", "SKIP")


def test_stdout_buffer_is_re_unless_the_option_is_on(sandbox):
    code = "import sys\ninput()\nsys.stdout.buffer.write(str(sum(map(int, input().split()))).encode())"
    assert run(sandbox, code).verdicts[0] == "RE"
    lenient = run(sandbox, code, options=CodeOptions(stdout_buffer=True))
    assert lenient.passed and lenient.options.stdout_buffer


def test_global_statement_fails_because_top_level_is_wrapped(sandbox):
    # top-level names become locals of wrapped_function: `global total` finds no module global (LCB: RE)
    code = "total = 0\ndef add(x):\n    global total\n    total += x\ninput()\nfor v in input().split():\n" \
           "    add(int(v))\nprint(total)"
    assert run(sandbox, code).verdicts[0] == "RE"


def test_recursion_limit_is_raised(sandbox):
    code = "def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\ninput()\ninput()\nprint(depth(20000) - 19994)"
    assert run(sandbox, code).per_test[0].verdict == "AC"


def test_float_tolerance_is_an_option(sandbox):
    ref = CodeReference(tests=(CodeTest("", "0.3333333333\n"),))
    code = "print('%.6f' % (1/3))"
    assert not run(sandbox, code, ref).passed
    assert run(sandbox, code, ref, options=CodeOptions(float_tolerance=1e-6)).passed


FUNCTIONAL = CodeReference(fn_name="step", tests=(CodeTest("1\n[2]", "[1, 2]"), CodeTest("3\n[]", "[3]"),
                                                  CodeTest("0\n[]", "2")))


def test_functional_shares_one_solution_instance(sandbox):
    # the third expected output (2) is the number of earlier calls: only a shared instance gets it right
    code = ("class Solution:\n    def __init__(self):\n        self.calls = 0\n"
            "    def step(self, x, xs):\n        self.calls += 1\n"
            "        return self.calls - 1 if self.calls == 3 else (x, *xs)\n")
    verdict = run(sandbox, code, FUNCTIONAL)
    assert verdict.passed, verdict


def test_functional_missing_method_is_ce(sandbox):
    verdict = run(sandbox, "class Solution:\n    def other(self):\n        pass", FUNCTIONAL)
    assert verdict.verdicts == ("CE", "SKIP", "SKIP")


def test_lcb_mode_stops_at_first_failure(sandbox):
    verdict = run(sandbox, "print(6)", STDIN)
    assert verdict.verdicts == ("AC", "WA") and not verdict.passed and verdict.score == 0.0


ALL_TESTS = CodeReference(tests=tuple(CodeTest(str(i), str(i)) for i in range(6)))
KINDS_CODE = """
n = int(input())
if n == 1: print(-1)
elif n == 2:
    while True: pass
elif n == 3: raise ValueError("boom")
elif n == 4: x = bytearray(3 << 30)
else: print(n)
"""


def test_all_tests_mode_reports_every_verdict_kind(sandbox):
    verdict = run(sandbox, KINDS_CODE, ALL_TESTS, mode="all_tests", timeout_s=1, memory_mb=1024)
    assert verdict.verdicts == ("AC", "WA", "TLE", "RE", "MLE", "AC")
    assert run(sandbox, "syntax error(", ALL_TESTS, mode="all_tests").verdicts == ("CE",) * 6


def test_all_tests_mode_continues_after_a_crash(sandbox):
    code = "import os\nn = int(input())\nif n == 2:\n    os._exit(3)\nprint(n)"
    verdict = run(sandbox, code, ALL_TESTS, mode="all_tests")
    assert verdict.verdicts == ("AC", "AC", "RE", "AC", "AC", "AC")


def test_budget_exhaustion_skips(sandbox):
    code = "import time\ntime.sleep(0.6)\nprint(input())"
    verdict = run(sandbox, code, ALL_TESTS, mode="all_tests", budget_s=1.0)
    assert "SKIP" in verdict.verdicts and not verdict.passed


def test_broken_sandbox_is_masked_not_zero():
    broken = LocalSandbox(workers=1, python="/nonexistent/python3")
    verdict = judge(reference=STDIN, code="print(6)", sandbox=broken)
    assert verdict.reason == "infra_error" and verdict.score is None and verdict.infra_error


def test_no_code_block_is_a_zero_not_a_mask(sandbox):
    verdict = grade(reference=STDIN, response="I think the answer is 6.", sandbox=sandbox)
    assert verdict.reason == "no_code" and verdict.score == 0.0


def test_bad_functional_tests_are_masked(sandbox):
    ref = CodeReference(fn_name="f", tests=(CodeTest("not json", "1"),))
    assert judge(reference=ref, code="def f(x): return 1", sandbox=sandbox).score is None


def test_arguments_cannot_be_swapped(sandbox):
    with pytest.raises(TypeError):
        grade(reference="print(1)", response=STDIN, sandbox=sandbox)


def test_grade_many_preserves_order(sandbox):
    responses = ["```python\nprint(6)\n```", READERS["input"].join(["```python\n", "\n```"]), "none"]
    verdicts = grade_many([(STDIN, r) for r in responses], sandbox=sandbox, workers=2, progress=False)
    assert [v.verdicts for v in verdicts] == [("AC", "WA"), ("AC", "AC"), ("CE", "CE")]


@pytest.mark.docker
def test_docker_sandbox_agrees_on_semantics():
    from conftest import docker_sandbox_or_skip

    docker = docker_sandbox_or_skip(workers=1)
    try:
        for name in ("input", "iterate", "exit_swallowed", "from_sys_stdin_readline"):
            assert run(docker, READERS[name]).passed, name
        verdict = run(docker, KINDS_CODE, ALL_TESTS, mode="all_tests", timeout_s=1, memory_mb=1024)
        assert verdict.verdicts == ("AC", "WA", "TLE", "RE", "MLE", "AC")
    finally:
        docker.close()
