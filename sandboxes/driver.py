"""The in-sandbox driver: runs one Python program on many stdin inputs, each test in a process it times.

Protocol: one JSON request per line on stdin, one JSON reply per line on stdout, until EOF.
  request: {"program", "inputs", "time_s", "memory_mb", "output_bytes", "total_output_bytes", "budget_s",
            "stop_on_error", "session", "relaunch", "reply_within_s"}
  reply:   {"ok": true, "results": [{"status", "stdout", "stderr", "exit_code", "wall_s", "peak_memory_kb"}],
            "recycle": null | "why the container must not serve another request"}
           {"ok": false, "error": "..."}  when the driver itself could not do its job
  stdout/stderr travel base64-encoded, so a reply is at most 4/3 of the bytes kept (never JSON-escaped 6x).
With `--zygote NAME` (DockerSandbox) it first prints {"ready": true, "zygote_bytes": N} once connected.

Plain requests: each input is one test, in its own process (own session, rlimits, wall deadline `time_s` and
output cap measured here). Session requests: ONE process serves the inputs in turn: the driver writes input k
to its stdin, waits for exactly one line on its stdout within `time_s`, records the time it measured, and
only then writes input k+1; no line in time is "timeout" and the process is killed, whatever the program does
with signals. With `relaunch` = r > 0, a process that dies at input k (after the first r) is replaced by a
fresh one that gets inputs 0..r-1 again (their answers are not reported; the first that fails, e.g. for lack
of budget, is input k+1's status) and then input k+1. Kept stdout+stderr over the whole request, relaunches
included, is capped at `total_output_bytes` (stderr keeps only its last 64 KiB per process).

No test process is ever forked from this one, which holds every request's program, inputs and replies: the
zygote (zygote.py) forks them, from a state that never held any of it, and kills, reaps and cleans up after
each. The driver sends it pipe ends only; the program (a marshalled code object) and the inputs go straight
to the test over its stdin. In DockerSandbox the driver runs in a container of its own, outside the tests'
memory and CPU cgroups (the zygote and the tests share one whose memory limit is the test's); it kills a test
at its deadline by process group (CAP_KILL, the tests' pid namespace). For LocalSandbox it forks its zygote
first thing, and there is no isolation. Standard library only; Python 3.11.
"""
import base64
import fcntl
import json
import marshal
import os
import select
import signal
import socket
import sys
import time
import traceback

STDERR_TAIL = 64 << 10
SWEEP_S = 2.0          # most time the zygote spends killing, reaping and cleaning after one test process
CLEAN_RESERVE_S = 0.5  # kept before the reply deadline for the last sweep
CONNECT_S = 20.0       # the zygote starts with its container: wait this long for it to listen
F_SETPIPE_SZ, PIPE_BYTES = 1031, 1 << 20
_unclean = []  # why this request leaves the tests' container unfit for the next one (then the host recycles it)
_reply_by = [float("inf")]  # monotonic time by which the reply must be written (the host stops waiting after)


class Zygote:
    """The driver's end of the zygote's socket: spawn and finish, one small JSON message each way."""

    def __init__(self, sock):
        self.sock = sock
        self.hello = self._reply()

    def spawn(self, memory_mb, fds):
        socket.send_fds(self.sock, [json.dumps({"spawn": memory_mb}).encode()], fds)
        return self._reply()["pid"]

    def finish(self, pid):
        within = max(0.0, min(SWEEP_S, _reply_by[0] - time.monotonic() - CLEAN_RESERVE_S))
        self.sock.sendall(json.dumps({"finish": pid, "within": within}).encode())
        return self._reply()

    def _reply(self):
        msg = self.sock.recv(1 << 16)
        if not msg:
            raise RuntimeError("the zygote is gone (connection closed)")
        reply = json.loads(msg)
        if "error" in reply:
            raise RuntimeError(f"zygote failed: {reply['error']}")
        return reply


def connect_zygote():
    if "--zygote" in sys.argv:  # the tests container's main process, listening on an abstract socket
        name, end = sys.argv[sys.argv.index("--zygote") + 1], time.monotonic() + CONNECT_S
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                sock.connect("\0" + name)
                return Zygote(sock)
            except (ConnectionRefusedError, FileNotFoundError):
                sock.close()
                if time.monotonic() > end:
                    raise
                time.sleep(0.01)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    if os.fork() == 0:  # LocalSandbox: fork the zygote before reading any request
        ours.close()
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)  # never the driver's requests or replies
        os.dup2(devnull, 1)
        zygote = _load_zygote_module()
        zygote.prepare(None)
        zygote.Zygote(None).serve(theirs)
        os._exit(0)
    theirs.close()
    return Zygote(ours)


def _load_zygote_module():
    import importlib.util  # -I keeps this file's directory off sys.path

    spec = importlib.util.spec_from_file_location("zygote", os.path.join(os.path.dirname(__file__), "zygote.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    zygote = connect_zygote()
    if "--zygote" in sys.argv:
        sys.stdout.write(json.dumps({"ready": True, "zygote_bytes": zygote.hello["zygote_bytes"]}) + "\n")
        sys.stdout.flush()
    for line in sys.stdin.buffer:
        try:
            results = handle(zygote, json.loads(line))
            reply = {"ok": True, "results": results, "recycle": _unclean[0] if _unclean else None}
        except Exception:  # a driver failure is reported to the host, which treats it as infra error
            reply = {"ok": False, "error": traceback.format_exc(limit=5)}
        _unclean.clear()
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def handle(zygote, req):
    started, inputs = time.monotonic(), req["inputs"]
    _reply_by[0] = started + req["reply_within_s"]
    try:
        code = marshal.dumps(compile(req["program"], "main.py", "exec"))
    except (SyntaxError, ValueError, OverflowError, RecursionError, MemoryError) as exc:
        msg = "".join(traceback.format_exception_only(type(exc), exc)).encode()
        return [result("compile_error", err=msg) for _ in inputs]
    run = Run(zygote, len(code).to_bytes(8, "big") + code, req, started)
    if req.get("session"):
        return run.session(inputs)
    results = []
    for stdin in inputs:
        left = run.budget_left()
        stop = req.get("stop_on_error") and results and results[-1]["status"] != "ok"
        if stop or left <= 0 or run.out_left <= 0 or _unclean:
            results.append(result("skipped"))
            continue
        results.append(run.test(stdin, min(req["time_s"], left)))
    return results


def result(status, out=b"", err=b"", exit_code=None, wall_s=0.0, peak_memory_kb=None):
    return {"status": status, "stdout": base64.b64encode(out).decode(), "stderr": base64.b64encode(err).decode(),
            "exit_code": exit_code, "wall_s": round(wall_s, 6), "peak_memory_kb": peak_memory_kb}


class Child:
    """One test process (forked by the zygote) and its pipes: stdin fed in pieces, stdout kept, stderr's
    tail kept. Its stdin starts with the code object."""

    def __init__(self, zygote, code, memory_mb):
        fds = [os.pipe() for _ in range(4)]  # stdin, stdout, stderr, ready
        for fd in (fds[0][1], fds[1][1]):  # fewer round trips between the driver and the test for large data
            try:
                fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_BYTES)
            except OSError:  # above /proc/sys/fs/pipe-max-size, or the user's pipe quota: the default size
                pass
        try:
            self.pid = zygote.spawn(memory_mb, [fds[0][0], fds[1][1], fds[2][1], fds[3][1]])
        finally:
            for fd in (fds[0][0], fds[1][1], fds[2][1], fds[3][1]):
                os.close(fd)
        self.zygote = zygote
        self.w_in, self.r_out, self.r_err, self.ready = fds[0][1], fds[1][0], fds[2][0], fds[3][0]
        for fd in (self.w_in, self.r_out, self.r_err):
            os.set_blocking(fd, False)
        self.pidfd = os.pidfd_open(self.pid)
        self.out, self.err, self.data, self.exited, self.cap = bytearray(), bytearray(), memoryview(code), False, 0
        self.readers = [self.r_out, self.r_err, self.pidfd]
        self.spent = False  # its last deadline or cap was cut short by what the submission had already spent

    def feed(self, data):
        self.data = memoryview(bytes(self.data) + data) if self.data else memoryview(data)

    def pump(self, deadline, cap, done):
        """Feed `self.data`, read until done() or the process exits; "timeout"/"output_limit" or None."""
        self.cap = cap
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            writers = [self.w_in] if self.data and self.w_in is not None else []
            rl, wl, _ = select.select(self.readers, writers, [], left)
            if self.pidfd in rl:  # gone: drain what its pipes hold now, ignore lingering writers
                self.readers.remove(self.pidfd)
                self.exited = True
            for fd in (self.r_out, self.r_err):
                if fd in self.readers and (fd in rl or self.exited):
                    self._drain(fd)
            if len(self.out) > cap:
                return "output_limit"
            if wl:
                self._feed()
            if self.exited:
                return None
        return None

    def _drain(self, fd):
        buf = self.out if fd == self.r_out else self.err
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                return
            if not chunk:
                self.readers.remove(fd)
                return
            buf += chunk
            if fd == self.r_err and len(buf) > 2 * STDERR_TAIL:
                del buf[:-STDERR_TAIL]
            elif fd == self.r_out and len(buf) > self.cap:
                return  # over the cap: stop reading, the caller kills

    def _feed(self):
        try:
            sent = os.write(self.w_in, self.data[:1 << 16])
        except BrokenPipeError:  # the program stopped reading: not an error
            sent = len(self.data)
        self.data = self.data[sent:]  # a memoryview: no copy of what is left

    def close_stdin(self):
        if self.w_in is not None:
            os.close(self.w_in)
            self.w_in = None

    def finish(self):
        """Kill; the zygote sweeps, reaps and cleans. (exit code or None, peak RSS KiB or None, oom-killed)."""
        try:
            os.killpg(self.pid, signal.SIGKILL)  # at once, from outside the tests' CPU cgroup
        except (ProcessLookupError, PermissionError):
            pass
        self.close_stdin()
        for fd in (self.r_out, self.r_err, self.pidfd):
            os.close(fd)
        done = self.zygote.finish(self.pid)
        if not _started(self.ready) and not (self.spent and done["exit"] == -signal.SIGKILL):
            raise RuntimeError("test process failed before the program started (set-up error)")
        if done["unclean"]:
            _unclean.append(done["unclean"])
        return done["exit"], done["maxrss"], done["oom"]


class Run:
    """One request's tests: its code, limits, budget and what is left of its output allowance."""

    def __init__(self, zygote, code, req, started):
        self.zygote, self.code, self.req, self.started = zygote, code, req, started
        self.out_left = req["total_output_bytes"]

    def budget_left(self):
        """Seconds the next step may still take: the submission's budget, and the reply deadline less what a
        sweep may need (so a bomb in every test ends in skipped tests, not a host timeout)."""
        left = _reply_by[0] - time.monotonic() - SWEEP_S - CLEAN_RESERVE_S
        budget = self.req.get("budget_s")
        return left if budget is None else min(left, budget - (time.monotonic() - self.started))

    def child(self):
        return Child(self.zygote, self.code, self.req["memory_mb"])

    def test(self, stdin, time_s):
        t0 = time.monotonic()
        child = self.child()
        child.feed(stdin.encode("utf-8", "surrogatepass"))
        cap = max(0, min(self.req["output_bytes"], self.out_left))
        child.spent = time_s < self.req["time_s"] or cap < self.req["output_bytes"]

        def fed():
            if not child.data:
                child.close_stdin()  # all fed: EOF for the program
            return False
        try:
            outcome = child.pump(t0 + time_s, cap, fed)
            wall = time.monotonic() - t0
        finally:
            exit_code, maxrss, oom = child.finish()
        out, err = bytes(child.out[:cap]), bytes(child.err[-STDERR_TAIL:])
        self.out_left -= len(out) + len(err)
        return result(outcome or _classify(exit_code, err, oom), out, err, exit_code, wall, maxrss)

    def step(self, child, stdin, pos):
        """Input `stdin` to a session process whose answers so far end at `pos`: (outcome, line, wall)."""
        t0, left = time.monotonic(), self.budget_left()
        cap = max(0, min(self.req["output_bytes"], self.out_left))
        child.spent = left < self.req["time_s"] or cap < self.req["output_bytes"]
        child.feed(stdin.encode("utf-8", "surrogatepass"))
        scan = [pos]  # where the newline search resumes: each byte is searched once

        def answered():
            end = child.out.find(b"\n", scan[0])
            scan[0] = len(child.out) if end < 0 else end
            return end >= 0
        outcome = child.pump(t0 + min(self.req["time_s"], left), pos + cap, answered)
        end = child.out.find(b"\n", scan[0])
        if outcome is None and end < 0:
            outcome = "exited"  # the process died without answering this input
        line = bytes(child.out[pos:end + 1] if end >= 0 else child.out[pos:pos + cap])
        self.out_left -= len(line)
        return outcome, line, time.monotonic() - t0

    def session(self, inputs):
        """One process for all inputs; with relaunch r, a fresh one after each death (see the docstring)."""
        relaunch, replies, k = self.req.get("relaunch", 0), [], 0
        while k < len(inputs) and self.budget_left() > 0 and self.out_left > 0 and not _unclean:
            child, pos, outcome, t0, first = self.child(), 0, None, time.monotonic(), len(replies)
            for j in range(relaunch if k else 0):  # a relaunch: the set-up inputs again, not reported
                outcome, line, _ = self.step(child, inputs[j], pos)
                pos += len(line)
                if outcome or self.budget_left() <= 0:
                    outcome, line = outcome or "timeout", b""
                    break
            if outcome is None:
                while k < len(inputs) and self.budget_left() > 0:
                    outcome, line, wall = self.step(child, inputs[k], pos)
                    pos += len(line)
                    replies.append([outcome or "ok", line, wall])
                    if outcome:
                        break
                    k += 1
            else:
                replies.append([outcome, line, time.monotonic() - t0])
            self._ended(child, replies[first:])
            if not outcome or not relaunch or k < relaunch:
                break
            k += 1
        return [result(*r) if len(r) > 3 else result(r[0], r[1], wall_s=r[2]) for r in replies] + \
            [result("skipped") for _ in inputs[len(replies):]]

    def _ended(self, child, replies):
        """The process is done: its last step (if any) carries what it left (exit, stderr tail, peak memory)."""
        exit_code, maxrss, oom = child.finish()
        if not replies:
            return
        err = bytes(child.err[-STDERR_TAIL:])
        self.out_left -= len(err)
        status, line, wall = replies[-1][:3]
        if status == "exited":
            status = _classify(exit_code, err, oom)
            status = "runtime_error" if status == "ok" else status
        replies[-1][:] = [status, line, err, exit_code, wall, maxrss]


def _started(ready_fd):
    """The test writes one byte after its set-up, before any program code runs. No byte, no verdict: unless
    the driver killed it first, on a deadline or cap that the submission's own spending had cut short (a
    relaunch at the end of its budget), that is a set-up failure of the sandbox's."""
    try:
        return os.read(ready_fd, 1) == b"R"
    finally:
        os.close(ready_fd)


def _classify(exit_code, err, oom_killed):
    if exit_code == 0:
        return "ok"
    if oom_killed or (exit_code != -signal.SIGKILL and b"MemoryError" in err[-512:]):
        return "memory"
    return "runtime_error"


if __name__ == "__main__":
    main()
