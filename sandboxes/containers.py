"""One hardened runner container with a long-lived driver inside, and cleanup of leftover containers.

The container's main process is `sleep infinity` under docker-init (a PID 1 that reaps: without it a fork
bomb's zombies fill the pids limit for good). The driver (`python3 -I /judge/driver.py --container`) is
started once per container with one `docker exec` and then serves requests as JSON lines on that exec's
stdin/stdout, so a submission costs no exec and no interpreter start-up. It runs as container-root with
only SETUID/SETGID/KILL; each test drops to uid 65534 (see driver.py for why).
"""
from __future__ import annotations

import logging
import os
import socket
import time
import uuid

LABEL = "org.mimo-eval.sandbox"
OWNER_LABEL = "org.mimo-eval.owner"  # "<host>:<pid>:<process start time>"
POOL_LABEL = "org.mimo-eval.pool"    # one DockerSandbox's containers
log = logging.getLogger(__name__)
DRIVER_CMD = ["python3", "-I", "/judge/driver.py", "--container"]
# The cgroup limit is the test's memory limit plus DRIVER_MEMORY_MB: the driver (~30 MB) and its buffers for
# one submission's kept output (16 MiB, ~3x while encoding) plus all scratch a test can fill and leave (tmpfs
# /tmp and /dev/shm, SysV shm, POSIX mqueues), so what a test leaves behind can never make the cgroup OOM once
# the test is dead; while it lives, the OOM killer prefers it (oom_score_adj 1000).
SHM_MB = 16
SYSV_SHM_MB = 16
SCRATCH_INODES = 4096  # files per scratch mount: bounds what cleaning after a submission can cost
DRIVER_MEMORY_MB = 192
_no_sys_resource: list[bool] = []  # set once the engine refused CAP_SYS_RESOURCE (e.g. not in its bounding set)


class SandboxBroken(RuntimeError):
    """The container or its driver misbehaved; the caller recreates the container."""


class DeadlineExceeded(SandboxBroken):
    """No reply within the host-side deadline."""


def owner_id(pid: int | None = None) -> str | None:
    pid = pid or os.getpid()
    try:
        with open(f"/proc/{pid}/stat") as f:
            start = f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None
    return f"{socket.gethostname()}:{pid}:{start}"


def remove_orphans(client) -> int:
    """Remove labelled containers whose owning process (on this host) is gone, e.g. after a kill -9."""
    removed = 0
    for c in client.containers.list(all=True, filters={"label": LABEL}):
        host, _, rest = c.labels.get(OWNER_LABEL, "::").partition(":")
        pid = rest.split(":")[0]
        if host == socket.gethostname() and (not pid.isdigit() or owner_id(int(pid)) != c.labels[OWNER_LABEL]):
            c.remove(force=True)
            removed += 1
    return removed


def _remove_named(client, name: str) -> None:
    import docker

    try:
        client.containers.get(name).remove(force=True)
    except docker.errors.NotFound:
        pass


class Container:
    """A runner container plus the socket of its driver's exec; one request at a time."""

    def __init__(self, client, image: str, *, pool: str, memory_mb: int, cpus: float, pids: int,
                 tmpfs_mb: int):
        import docker

        self.client, self.memory_mb = client, memory_mb
        mem = f"{memory_mb + DRIVER_MEMORY_MB}m"
        scratch = f"rw,nosuid,nodev,noexec,nr_inodes={SCRATCH_INODES},mode=1777"
        options = dict(
            detach=True, init=True, labels={LABEL: "1", OWNER_LABEL: owner_id(), POOL_LABEL: pool},
            network_mode="none", read_only=True, ipc_mode="private",  # private: /dev/shm is ours to mount
            tmpfs={"/tmp": f"{scratch},size={tmpfs_mb}m", "/dev/shm": f"{scratch},size={SHM_MB}m"},
            sysctls={"kernel.shmmax": str(SYSV_SHM_MB << 20), "kernel.shmall": str(SYSV_SHM_MB << 8),
                     "kernel.shmmni": "64", "kernel.msgmni": "16", "kernel.sem": "64 256 32 16"},
            mem_limit=mem, memswap_limit=mem, pids_limit=pids, nano_cpus=int(cpus * 1e9),
            cap_drop=["ALL"], security_opt=["no-new-privileges"],
            ulimits=[docker.types.Ulimit(name="nofile", soft=256, hard=256),
                     docker.types.Ulimit(name="fsize", soft=16 << 20, hard=16 << 20)],
            log_config=docker.types.LogConfig(type="none"),
            environment={"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "LANG": "C.UTF-8"})
        self.container = self._start(client, image, options)
        try:
            exec_id = client.api.exec_create(self.container.id, DRIVER_CMD, stdin=True, stdout=True,
                                             stderr=True, tty=False)["Id"]
            sock = client.api.exec_start(exec_id, socket=True)
        except Exception:
            self.remove()
            raise
        self._keepalive = sock  # holds the HTTP response that owns the hijacked connection
        self.sock = getattr(sock, "_sock", sock)

    @staticmethod
    def _start(client, image: str, options: dict):
        """CAP_SYS_RESOURCE lets the driver take oom_score_adj -1000 and pin the tests' floor at 1000; an
        engine whose bounding set lacks it refuses the container, and then it runs without (logged once)."""
        import docker

        caps = ["SETUID", "SETGID", "KILL"]
        if not _no_sys_resource:
            name = f"mimo-sbx-{uuid.uuid4().hex[:12]}"
            try:
                return client.containers.run(image, ["sleep", "infinity"], name=name,
                                             cap_add=caps + ["SYS_RESOURCE"], **options)
            except docker.errors.APIError as exc:
                _remove_named(client, name)  # created, never started
                if "caps" not in str(exc):
                    raise
                _no_sys_resource.append(True)
                log.warning("engine refuses CAP_SYS_RESOURCE (%s): the driver runs without oom_score_adj -1000; "
                            "the tests still get 1000", exc)
        return client.containers.run(image, ["sleep", "infinity"], name=f"mimo-sbx-{uuid.uuid4().hex[:12]}",
                                     cap_add=caps, **options)

    def set_memory(self, memory_mb: int) -> None:
        if memory_mb != self.memory_mb:
            mem = f"{memory_mb + DRIVER_MEMORY_MB}m"
            self.container.update(mem_limit=mem, memswap_limit=mem)
            self.memory_mb = memory_mb

    def request(self, line: bytes, deadline: float, cap: int) -> bytes:
        """Send one request line, return the reply line (without newline)."""
        try:
            self.sock.settimeout(max(0.001, deadline - time.monotonic()))
            self.sock.sendall(line)
            return self._read_line(deadline, cap)
        except socket.timeout:
            raise DeadlineExceeded("no reply from the driver before the host deadline") from None
        except OSError as exc:
            raise SandboxBroken(f"driver connection failed: {exc}") from None

    def _read_line(self, deadline: float, cap: int) -> bytes:
        pending, pos, out, err = bytearray(), 0, bytearray(), bytearray()
        while True:
            while len(pending) - pos >= 8:  # docker's stream framing: stream id, 3 zero bytes, big-endian size
                size = int.from_bytes(pending[pos + 4:pos + 8], "big")
                if len(pending) - pos < 8 + size:
                    break
                (out if pending[pos] == 1 else err).extend(pending[pos + 8:pos + 8 + size])
                pos += 8 + size
            del pending[:pos]  # once per read, not per frame: large replies stay linear
            pos = 0
            if err:
                raise SandboxBroken(f"driver wrote to stderr: {bytes(err[-500:]).decode(errors='replace')}")
            if out.endswith(b"\n"):  # the driver writes nothing after its reply's newline
                if out.count(b"\n") != 1 or pending:
                    raise SandboxBroken("driver sent more than one reply")
                return bytes(out[:-1])
            if len(out) > cap:
                raise SandboxBroken(f"driver reply exceeds {cap} bytes")
            left = deadline - time.monotonic()
            if left <= 0:
                raise DeadlineExceeded("no reply from the driver before the host deadline")
            self.sock.settimeout(left)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise SandboxBroken("driver exited (connection closed)")
            pending.extend(chunk)

    def remove(self) -> None:
        import docker

        try:
            self.sock.close()
        except (AttributeError, OSError):
            pass
        try:
            self.container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:  # e.g. removal already in progress
            if exc.status_code != 409:
                raise
