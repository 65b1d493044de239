"""Hostile programs against the code grader's real entry point (`graders.code.judge` with DockerSandbox), in
both modes, one adversarial property per test.

The cases are the failures of issue 9 (a policy's view of the reward): reading the expected outputs from
inside, dodging the per-test time limit, turning a 0 into a masked sample (its own or the next
submission's), and making the host work. After each one the next, innocent submission in the same container
must pass quickly, with no retry and no recycling. Needs a Docker engine and the runner image
(tools/setup_system.sh); in CI (CI=true or MIMO_REQUIRE_DOCKER=1) a missing engine fails instead of skipping.
Run: python -m pytest -q tests/test_code_grader_hostile.py
"""
import time
import tracemalloc

import pytest
from conftest import docker_sandbox_or_skip

from graders.code import RESULT_CAP_BYTES, judge
from graders.types import CodeReference, CodeTest

pytestmark = pytest.mark.docker
MODES = ("lcb", "all_tests")
# Identical inputs, different expected outputs: no program can pass every test unless it learns the answers.
YES_NO = CodeReference(tests=tuple(CodeTest("1\n", f"{a}\n") for a in ("Yes", "No", "No", "Yes", "No", "Yes")))
ECHO = CodeReference(tests=(CodeTest("3\n", "3\n"), CodeTest("4\n", "4\n")))
INNOCENT = "print(input())"


@pytest.fixture(scope="module")
def sandbox():
    sb = docker_sandbox_or_skip(workers=1)
    warm = judge(reference=ECHO, code=INNOCENT, sandbox=sb)
    assert warm.passed, warm
    yield sb
    sb.close()


def judged(sb, code, mode, reference=YES_NO, **kw):
    """The verdict, after checking it is a real one and that the next submission is unaffected."""
    verdict = judge(reference=reference, code=code, sandbox=sb, mode=mode, **kw)
    assert verdict.reason != "infra_error", verdict.infra_error
    after = judge(reference=ECHO, code=INNOCENT, sandbox=sb)
    assert after.passed and set(after.verdicts) == {"AC"}, after   # unaffected: within its own time limits, no TLE
    return verdict


# Looks for any per-test sequence of numbers (e.g. output caps) anywhere in its process: stack frames, every
# object the garbage collector knows, and answers "Yes" where the sequence is at its maximum.
PEEK = """
import sys, gc, builtins
def candidates():
    f, found = sys._getframe(), []
    while f is not None:
        found += list(f.f_locals.values())
        f = f.f_back
    found += gc.get_objects()
    for o in found:
        if isinstance(o, dict):
            yield from (v for v in o.values() if isinstance(v, (list, tuple)))
        if isinstance(o, (list, tuple)):
            yield o
def leak():
    for seq in candidates():
        if len(seq) == 6 and all(type(x) is int for x in seq) and len(set(seq)) == 2:
            return seq
i = builtins.__dict__.setdefault("calls", [0])
seq = leak()
input()
print("Yes" if seq is None or seq[i[0]] == max(seq) else "No")
i[0] += 1
"""


@pytest.mark.parametrize("mode", MODES)
def test_expected_outputs_are_unreachable_from_the_program(sandbox, mode):
    verdict = judged(sandbox, PEEK, mode)
    assert not verdict.passed and "WA" in verdict.verdicts


# each would answer on its own after 20 s: a wall time under 20 s is the driver's kill, however loaded the machine
IGNORE_ALARM = "import signal, time\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\ntime.sleep(20)\ninput()\nprint('Yes')"
CATCH_ALL = ("import time\nend = time.time() + 20\nwhile time.time() < end:\n    try:\n        sum(range(1000))\n"
             "    except BaseException:\n        pass\ninput()\nprint('Yes')")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("code", [IGNORE_ALARM, CATCH_ALL], ids=["sigalrm_ignored", "except_baseexception"])
def test_time_limit_holds_whatever_the_program_does_with_signals(sandbox, mode, code):
    verdict = judged(sandbox, code, mode, timeout_s=1)
    first = verdict.per_test[0]
    assert first.verdict == "TLE" and 1.0 <= first.wall_s < 20, first  # the driver's kill, not the program's end


# LCB's hygiene sets os.fork, os.chdir, os.chmod to None; posix has them all the same.
SETSID_BOMB = """
import posix
input()
for _ in range(400):
    try:
        if posix.fork() == 0:
            posix.setsid()
            while True:
                try:
                    posix.fork()
                except OSError:
                    pass
    except OSError:
        pass
print("Yes")
"""


@pytest.mark.parametrize("mode", MODES)
def test_setsid_fork_bomb_scores_zero_not_masked(sandbox, mode):
    verdict = judged(sandbox, SETSID_BOMB, mode, timeout_s=2)
    assert verdict.score == 0.0 and verdict.per_test[0].verdict in ("TLE", "AC")  # its own verdict, then WA


ORPHAN_SHM = """
import ctypes
libc = ctypes.CDLL(None)
libc.shmat.restype = ctypes.c_void_p
made = 0
for key in range(1, 200):
    ident = libc.shmget(key, 8 << 20, 0o1600)
    if ident < 0:
        break
    addr = libc.shmat(ident, None, 0)
    if addr in (None, ctypes.c_void_p(-1).value):
        break
    ctypes.memset(addr, 1, 8 << 20)  # charged to the container's memory cgroup
    libc.shmdt(ctypes.c_void_p(addr))
    made += 1
input()
print("Yes" if made < 100 else "No")
"""


@pytest.mark.parametrize("mode", MODES)
def test_orphaned_sysv_shm_cannot_oom_the_driver(sandbox, mode):
    verdict = judged(sandbox, ORPHAN_SHM, mode, memory_mb=256)
    assert verdict.per_test[0].verdict == "AC" and not verdict.passed  # it ran, and the "No" tests are WA


LOWER_OOM_SCORE = """
import os
def try_write(value):
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write(str(value))
    except OSError:
        pass
for value in (-1000, -999, -1, 0):
    try_write(value)
mine = int(open("/proc/self/oom_score_adj").read())
driver = int(open(f"/proc/{os.getppid()}/oom_score_adj").read())
caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
input()
print("Yes" if mine > driver or (mine == driver == 0) else f"No {mine} {driver}", caps)
"""


def test_program_cannot_lower_its_oom_score_below_the_drivers(sandbox):
    verdict = judge(reference=CodeReference(tests=(CodeTest("1\n", "Yes 0000000000000000\n"),)),
                    code=LOWER_OOM_SCORE, sandbox=sandbox)
    assert verdict.passed, verdict.per_test  # no capability left; never below the driver (equal only at 0)


MANY_FILES = """
import os
made = 0
for top in ("/tmp", "/dev/shm"):
    for i in range(1_000_000):
        try:
            open(f"{top}/f{i}", "w").close()
        except OSError:
            break
        made += 1
input()
print("Yes" if made < 20000 else "No")
"""


@pytest.mark.parametrize("mode", MODES)
def test_millions_of_files_cannot_slow_the_next_submission(sandbox, mode):
    verdict = judged(sandbox, MANY_FILES, mode)  # judged(): the next submission passes within 3 s
    assert verdict.per_test[0].verdict == "AC"  # the inode bound stopped it early


DEEP_TREE = """
import posix
posix.chdir("/tmp")
for depth in range(1500):
    posix.mkdir("d")
    posix.chdir("d")
posix.chmod("/tmp/d", 0)
input()
print("Yes")
"""


@pytest.mark.parametrize("mode", MODES)
def test_deep_directory_tree_is_cleaned_without_recreating_the_container(sandbox, mode):
    home = sandbox.run("print(1)", [""]).meta["container"]
    assert judged(sandbox, DEEP_TREE, mode).per_test[0].verdict == "AC"  # the tree was made
    after = sandbox.run("import os\nprint(os.listdir('/tmp'))", [""])
    assert after.meta["container"] == home and after.meta["attempts"] == 1 and "recycled" not in after.meta
    assert after.results[0].stdout == "[]\n"


# Writes straight to every pipe it holds (the result channel among them) lines just under the per-test cap
# made of NULs (JSON-escaped six-fold) and one astral character (the host's str then takes 4 bytes per
# character), until the per-sample cap stops it.
FLOOD = """
import os, stat
line = ("\\U0001F600" + "\\x00" * ((8 << 20) - 64)).encode() + b"\\n"
fds = [fd for fd in range(3, 64) if os.path.exists(f"/proc/self/fd/{fd}") and stat.S_ISFIFO(os.fstat(fd).st_mode)]
for fd in fds:
    os.set_blocking(fd, False)
while True:
    for fd in fds:
        view = memoryview(line)
        while view:
            try:
                view = view[os.write(fd, view):]
            except BlockingIOError:
                continue
            except OSError:
                break
"""
TINY_LINES = """
import os, stat
fds = [fd for fd in range(3, 64) if os.path.exists(f"/proc/self/fd/{fd}") and stat.S_ISFIFO(os.fstat(fd).st_mode)]
for fd in fds:
    os.set_blocking(fd, False)
while True:
    for fd in fds:
        try:
            os.write(fd, b"{}\\n" * 65536)
        except OSError:
            pass
"""
BIG_EXPECTED = CodeReference(tests=(CodeTest("1\n", "7 " * (1 << 19) + "\n"),) * 6)  # 1 MiB each


@pytest.mark.parametrize("mode", MODES)
def test_output_flood_keeps_host_memory_under_the_documented_bound(sandbox, mode):
    tracemalloc.start()
    try:
        verdict = judged(sandbox, FLOOD, mode, reference=BIG_EXPECTED, timeout_s=2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not verdict.passed and peak < 6 * RESULT_CAP_BYTES, peak  # graders/code: RESULT_CAP_BYTES


@pytest.mark.parametrize("mode", MODES)
def test_millions_of_tiny_records_cost_the_host_little_cpu(sandbox, mode):
    cpu = time.process_time()
    verdict = judged(sandbox, TINY_LINES, mode, timeout_s=2)
    assert not verdict.passed and time.process_time() - cpu < 1.0  # host parses one record per step
