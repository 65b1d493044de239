"""Running untrusted programs with limits. Imports nothing else from this project.

`get_sandbox("auto" | "docker" | "local")` picks one. The Docker SDK is only imported when a DockerSandbox
is created, so `import sandboxes` stays light.

What a submission (one `run` call) can and cannot affect, with DockerSandbox (LocalSandbox: no isolation).
Each worker is a pair of containers (containers.py): the driver's (driver.py: requests, pipes, clocks) and the
tests', whose main process is the zygote (zygote.py) that forks every test, in the driver's pid namespace.
  * Its own results only. Each test's status, output and wall time are decided by the driver, root in
    another container, from outside the program: the deadline is the driver's clock (not in the tests' CPU
    cgroup) and its SIGKILL, so signals, `except BaseException` or a forged time change nothing; in a
    session the driver writes input k only after answer k-1, timing each step itself. The graders keep the
    expected outputs on the host and compare after the whole session (relaunches included).
  * Nothing of any other submission, nor its own later inputs. A test is forked from the zygote, which was
    started before any request and only ever receives pipe ends and a memory limit: a test's memory (stack
    frames, heap, freed pages) holds its own program and the inputs sent to it so far, nothing else. The
    driver, which holds every request and reply, cannot be read, traced or signalled from a test.
  * Not the next test or submission. After every test process, on the submission's own time: every process
    of the tests' uid is SIGKILLed with one kill(-1) and reaped by the zygote (fork bombs and setsid daemons
    included), its SysV IPC objects are removed, /tmp, /dev/shm and /dev/mqueue are emptied without
    recursion, and no anonymous or shared memory may stay charged to the tests' cgroup. If any of that
    fails, the verdicts made stand, the submission's later tests are skipped, and the pair is replaced.
  * Memory: all processes of a test together (anonymous memory, scratch files, shared memory, memfds) are
    held to exactly Limits.memory_mb by the tests' cgroup (memory+swap = memory_mb + the zygote's own
    charge, measured at start-up, ~9 MiB, which a forked test shares rather than copies), each process also
    to RLIMIT_AS = memory_mb. The driver is not in that cgroup (DRIVER_MEMORY_MB of its own), and the zygote
    is never the OOM killer's choice while a test lives: tests run at oom_score_adj 1000 under a seccomp
    filter, installed by the zygote on itself, that refuses prctl(PR_SET_DUMPABLE), execve and execveat
    (exec makes a process dumpable) and other syscall ABIs, so no test can write its own oom_score_adj; the
    zygote forks only into a cgroup that holds nothing else. This needs no CAP_SYS_RESOURCE (this engine
    refuses it). The cost: a judged program cannot exec another binary (EPERM).
  * Per-user kernel quotas (inotify instances, message-queue bytes, pending signals, pipe buffers) are not
    shared: each pair's tests run as their own uid, drawn at random from containers.UIDS.
  * The host, within constants: stdout per test <= Limits.output_bytes, stdout + stderr tails per
    submission, relaunches included, <= Limits.total_output_bytes (16 MiB default, at most
    protocol.MAX_TOTAL_OUTPUT = 64 MiB), sent base64-encoded (4/3, never JSON-escaped), so the host holds at
    most about 6x that per submission while decoding (graders' RESULT_CAP_BYTES = 32 MiB: < 192 MiB, tested);
    graders then parse each record in time and memory bounded by the expected output (graders/code).
Where limits are enforced: wall time, output caps and the kill sweep by the driver and the zygote; memory by
the tests' cgroup and RLIMIT_AS; pids, CPU (1 core for the tests, 1 for the driver), nofile, fsize, network
none, read-only root by the containers; the host only bounds its wait (protocol.request_deadline) and reply.
What becomes infra_error (masked): no reply before the host deadline, a reply that breaks the protocol, the
driver, zygote or a container dying, the engine failing, a test process that fails its set-up; each is
retried once in a fresh pair unless the deadline passed. A program's own failure is never one of these: a
relaunch (session `relaunch`) that cannot start before the submission's budget ends is that test's timeout.
Not enforced: kernel exploits (no gVisor); timing side channels between workers that run at the same time
(they share the host's CPUs and caches); covert channels a cooperating earlier submission of the same pair
could leave in kernel counters (pid and inode numbers), which carry only what that submission chose to
signal, never anything it did not itself produce. Measured here: Docker 20.10, runc, cgroup v1, no
CAP_SYS_RESOURCE. A default install (cgroup v2) has all the features used (container pid/network
namespaces, seccomp under no-new-privileges, memory.stat/memory.events), read in both layouts; not run here.
"""
from __future__ import annotations

import logging

from sandboxes.local import LocalSandbox
from sandboxes.types import Limits, RunResult, Sandbox, SandboxResult

__all__ = ["Limits", "RunResult", "SandboxResult", "Sandbox", "LocalSandbox", "get_sandbox"]
log = logging.getLogger(__name__)


def get_sandbox(kind: str = "auto", workers: int | None = None, **docker_options) -> Sandbox:
    """"docker": DockerSandbox or a DockerUnavailable error saying what to run. "local": LocalSandbox (no
    isolation). "auto": Docker when an engine answers (then a missing image is an error, never a silent
    fallback); LocalSandbox, with a warning, only when there is no engine or SDK at all."""
    from sandboxes.docker import DockerSandbox, DockerUnavailable, connect

    if kind == "local":
        return LocalSandbox(workers)
    if kind == "docker":
        return DockerSandbox(workers, **docker_options)
    if kind != "auto":
        raise ValueError(f"unknown sandbox kind {kind!r}: use 'auto', 'docker' or 'local'")
    try:
        connect()
    except DockerUnavailable as exc:
        log.warning("no Docker engine (%s); falling back to LocalSandbox WITHOUT isolation", exc)
        return LocalSandbox(workers)
    return DockerSandbox(workers, **docker_options)
