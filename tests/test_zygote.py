"""The grading zygote (graders/zygote.py) that deadline-pool workers fork from: its first worker forks before any
warm-up and is replaced by a warm fork once the zygote is warm; forked from a single-threaded caller it keeps none of
the caller's files open (a run's flock must not outlive the run through it), spawned from a threaded one; it
ignores Ctrl-C, which is the caller's to handle; no caller code runs again in it (a script read from stdin, without
a main guard). Each case runs in a fresh Python, since the way the zygote starts depends on the caller's threads.
The first worker imports SymPy itself, and that is neither timed against its first call's deadline nor counted as
that call's CPU. No wall-clock bounds: the order of events is checked, not their speed.

    python -m pytest -q tests/test_zygote.py
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(script: str, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(script), *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


WARM_REPLACEMENT = """
    import json, time
    from graders.math import grade
    from graders.pool import _pools

    assert grade(gold="x+1", response="\\\\boxed{1+x}").correct          # starts the zygote, forks worker 1
    pool = _pools["math"]
    slot = pool._idle.queue[-1]
    first = (slot.pid, slot.forked_warm)
    deadline = time.monotonic() + 300
    while not pool._zygote.is_warm() and time.monotonic() < deadline:   # it warms after that first answer
        time.sleep(0.05)
    assert grade(gold="x+2", response="\\\\boxed{2+x}").correct          # the same slot, now a warm fork
    print(json.dumps({"first": first, "then": (slot.pid, slot.forked_warm), "warm": pool._zygote.warm}))
"""


FIRST_CALL = """
    import json, time
    from graders.pool import DeadlineExceeded, DeadlinePool

    pool = DeadlinePool(1, ("graders.math.warm",))
    try:
        pool.call(time.sleep, (5,), 0.3)   # the worker imports SymPy first: ~0.3 s of CPU that is not this call's
    except DeadlineExceeded as exc:
        print(json.dumps({"cpu_s": exc.cpu_s, "cpu_bound": exc.cpu_bound}))
    pool.close()
"""


def test_the_first_workers_imports_are_neither_timed_nor_its_first_calls_cpu():
    out = run(FIRST_CALL)
    assert out["cpu_s"] is not None and out["cpu_s"] < 0.1 and not out["cpu_bound"], out


def test_the_first_worker_forks_cold_and_is_replaced_by_a_warm_fork():
    out = run(WARM_REPLACEMENT)
    assert out["warm"] and out["first"][1] is False
    assert out["then"][1] is True and out["then"][0] != out["first"][0]


FILES_AND_SIGNALS = """
    import fcntl, json, os, sys, threading
    if sys.argv[1] == "threaded":
        threading.Thread(target=threading.Event().wait, daemon=True).start()
    held = open(sys.argv[2], "w")
    fcntl.flock(held, fcntl.LOCK_EX)                 # as a run holds run.lock while it grades
    from graders.math import grade
    from graders.pool import _pools

    assert grade(gold="x+1", response="\\\\boxed{1+x}").correct
    zygote = _pools["math"]._zygote
    worker = _pools["math"]._idle.queue[-1].pid
    def files(pid):
        return {os.path.realpath(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    def sigint_ignored(pid):
        with open(f"/proc/{pid}/status") as f:
            ignored = int(next(l for l in f if l.startswith("SigIgn")).split()[1], 16)
        return bool(ignored & (1 << 1))                   # SIGINT is signal 2: bit 1
    print(json.dumps({"start": zygote.how,
                      "zygote_holds": sys.argv[2] in files(zygote.pid), "worker_holds": sys.argv[2] in files(worker),
                      "zygote_ignores_sigint": sigint_ignored(zygote.pid), "worker_ignores_sigint": sigint_ignored(worker)}))
"""


def test_forked_from_a_single_threaded_caller_it_keeps_none_of_its_files(tmp_path):
    out = run(FILES_AND_SIGNALS, "single", str(tmp_path / "run.lock"))
    assert out["start"] == "fork", out
    assert not out["zygote_holds"] and not out["worker_holds"]
    assert out["zygote_ignores_sigint"] and not out["worker_ignores_sigint"]


def test_spawned_from_a_threaded_caller(tmp_path):
    out = run(FILES_AND_SIGNALS, "threaded", str(tmp_path / "run.lock"))
    assert out["start"] == "spawn", out
    assert not out["zygote_holds"] and not out["worker_holds"]


STDIN_SCRIPT = """
import sys, threading
print("script ran")
if sys.argv[1] == "threaded":
    threading.Thread(target=threading.Event().wait, daemon=True).start()
from graders.math import grade
print(grade(gold="x+1", response="\\\\boxed{1+x}").correct)
"""


@pytest.mark.parametrize("caller", ["single", "threaded"])
def test_a_script_from_stdin_without_a_main_guard_runs_once(caller):
    # multiprocessing's spawn re-runs the caller's __main__ in each child: such a script crashed or recursed
    out = subprocess.run([sys.executable, "-", caller], input=textwrap.dedent(STDIN_SCRIPT), cwd=ROOT, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["script", "ran", "True"], out.stdout
