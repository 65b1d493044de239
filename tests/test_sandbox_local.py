"""LocalSandbox (the driver as a host subprocess, no isolation) and the strict host-side reply parser.

Covers: statuses ok / runtime_error / compile_error / timeout / output_limit / memory / skipped, stdin
without a trailing newline, exit codes, budget and stop_on_error, no environment leak, descendants killed.
Run: python -m pytest -q tests/test_sandbox_local.py
"""
import json
import os
import subprocess
import sys

import pytest

from sandboxes import LocalSandbox, Limits, get_sandbox
from sandboxes.protocol import ProtocolError, parse_reply

FAST = Limits(time_s=1.0, memory_mb=512)


@pytest.fixture(scope="module")
def sandbox():
    return LocalSandbox(workers=2)


# (program, stdin, expected status, expected stdout)
CASES = [
    ("print(int(input()) * 2)", "21\n", "ok", "42\n"),
    ("print(input())", "no newline at end", "ok", "no newline at end\n"),
    ("import sys\nprint(sum(map(int, sys.stdin.read().split())))", "1 2\n3\n", "ok", "6\n"),
    ("print(open(0).read().upper(), end='')", "abc\n", "ok", "ABC\n"),
    ("import sys\nsys.stdout.buffer.write(b'raw\\n')", "", "ok", "raw\n"),
    ("exit()", "", "ok", ""),
    ("1/0", "", "runtime_error", ""),
    ("import sys\nsys.exit(3)", "", "runtime_error", ""),
    ("print('x'", "", "compile_error", ""),
]


@pytest.mark.parametrize("program,stdin,status,stdout", CASES)
def test_statuses(sandbox, program, stdin, status, stdout):
    [r] = sandbox.run(program, [stdin], FAST).results
    assert (r.status, r.stdout) == (status, stdout)


def test_exit_code_and_traceback_are_the_programs(sandbox):
    [exited, raised] = sandbox.run("import sys\nif input() == 'a':\n    sys.exit(7)\nraise KeyError('k')",
                                   ["a", "b"], FAST).results
    assert exited.exit_code == 7
    assert raised.exit_code == 1 and "KeyError: 'k'" in raised.stderr and "driver.py" not in raised.stderr


def test_timeout(sandbox):
    [r] = sandbox.run("while True:\n    pass", [""], FAST).results   # returns at all: it was killed
    assert r.status == "timeout" and r.wall_s >= FAST.time_s


def test_output_cap(sandbox):
    [r] = sandbox.run("while True:\n    print('x' * 4096)", [""], FAST).results
    assert r.status == "output_limit" and len(r.stdout) == FAST.output_bytes


def test_memory(sandbox):
    [r] = sandbox.run("x = bytearray(2 << 30)", [""], FAST).results
    assert r.status == "memory"


def test_stop_on_error_skips_the_rest(sandbox):
    res = sandbox.run("assert input() != 'bad'", ["ok", "bad", "ok"], FAST, stop_on_error=True).results
    assert [r.status for r in res] == ["ok", "runtime_error", "skipped"]


def test_budget_skips_the_rest(sandbox):
    res = sandbox.run("import time\ntime.sleep(0.4)", ["1", "2", "3", "4"], Limits(time_s=1, budget_s=0.6)).results
    assert [r.status for r in res] == ["ok", "timeout", "skipped", "skipped"]


def test_environment_is_not_inherited(sandbox, monkeypatch):
    monkeypatch.setenv("MIMO_SECRET_TOKEN", "hunter2")
    [r] = sandbox.run("import os\nprint(os.environ.get('MIMO_SECRET_TOKEN'))", [""], FAST).results
    assert r.stdout == "None\n"


def test_daemon_left_behind_is_killed(sandbox):
    program = ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    print(os.getpid(), flush=True)\n"
               "    time.sleep(60)\nelse:\n    time.sleep(0.2)")
    [r] = sandbox.run(program, [""], FAST).results
    daemon = int(r.stdout)
    with pytest.raises(ProcessLookupError):
        os.kill(daemon, 0)


# Programs whose stdout and exit code must match a fresh `python3 main.py` (the driver forks instead).
PARITY = [
    "import sys, threading\nthreading.stack_size(1 << 26)\nsys.setrecursionlimit(10 ** 6)\n"
    "def main():\n    f = lambda n: 0 if n == 0 else f(n - 1) + 1\n    print(f(50000))\n"
    "threading.Thread(target=main).start()",  # the competitive-programming threaded-main idiom
    "import atexit\natexit.register(lambda: print('bye'))\nprint('hi')",
    "import sys\nsys.exit('message')",
    "import sys\nprint('partial', end='')\nsys.exit(2)",
    "import os\nprint('lost in the buffer')\nos._exit(0)",
    "if __name__ == '__main__':\n    print(input().split())",
    "import sys\nsys.stdout.close()",
    "print(__name__, __file__.endswith('main.py'))",
]


@pytest.mark.parametrize("program", PARITY)
def test_matches_a_fresh_interpreter(sandbox, program, tmp_path):
    (tmp_path / "main.py").write_text(program)
    real = subprocess.run([sys.executable, "-I", "main.py"], input="a b\n", capture_output=True, text=True,
                          cwd=tmp_path, timeout=30)
    [r] = sandbox.run(program, ["a b\n"], FAST).results
    assert (r.stdout, r.exit_code) == (real.stdout, real.returncode)


@pytest.mark.parametrize("inputs,limits", [
    ("one string, not a list", FAST),
    ([b"bytes"], FAST),
    (["x"], Limits(time_s=0)),
    (["x"], Limits(budget_s=-1)),
])
def test_bad_arguments_fail_loudly(sandbox, inputs, limits):
    with pytest.raises((TypeError, ValueError)):
        sandbox.run("print(1)", inputs, limits)


def test_factory():
    assert isinstance(get_sandbox("local", workers=1), LocalSandbox)
    with pytest.raises(ValueError, match="unknown sandbox kind"):
        get_sandbox("firejail")


GOOD = {"status": "ok", "stdout": "MQo=", "stderr": "", "exit_code": 0, "wall_s": 0.01, "peak_memory_kb": 9}  # "1\n"
BAD_REPLIES = [
    b"not json",
    b'{"ok": false, "error": "boom"}',
    json.dumps({"ok": True, "results": [GOOD, GOOD]}).encode(),           # count differs from the request
    json.dumps({"ok": True, "results": [{**GOOD, "status": "accepted"}]}).encode(),  # unknown status
    json.dumps({"ok": True, "results": [{**GOOD, "extra": 1}]}).encode(),
    json.dumps({"ok": True, "results": [{**GOOD, "exit_code": "0"}]}).encode(),
    json.dumps({"ok": True, "results": [{**GOOD, "exit_code": True}]}).encode(),
    json.dumps([GOOD]).encode(),
    json.dumps({"ok": True, "results": [{**GOOD, "stdout": "1\n"}]}).encode(),  # streams travel base64-encoded
    json.dumps({"ok": True, "results": [GOOD], "recycle": 1}).encode(),
]


@pytest.mark.parametrize("line", BAD_REPLIES)
def test_reply_parser_is_strict(line):
    with pytest.raises(ProtocolError):
        parse_reply(line, 1)


def test_reply_parser_accepts_a_good_reply():
    [r], recycle = parse_reply(json.dumps({"ok": True, "results": [GOOD], "recycle": None}).encode(), 1)
    assert recycle is None and (r.status, r.stdout, r.peak_memory_kb) == ("ok", "1\n", 9)
