"""A worker's two hardened containers, the driver's and the tests', and cleanup of leftover containers.

The driver's container runs `sleep infinity` under docker-init (a PID 1 that reaps) and the driver
(`python3 -I /judge/driver.py --zygote NAME`), started once with one `docker exec` that then serves requests as
JSON lines on its stdin/stdout, so a submission costs no exec and no interpreter start-up. The tests' container
joins its pid and network namespaces; its main process is the zygote (`python3 -I /judge/zygote.py --uid U
--listen NAME`), which forks every test. So the driver, which holds the requests and their outputs, is outside
the tests' memory and CPU cgroups: the tests' memory limit is the test's own (`memory_mb` beyond the zygote's
pages, measured at start-up), a test can never make the driver's container run out of memory, and the
driver's clock does not share the tests' CPU. Each pair's tests run as their own random uid, so the kernel's
per-user quotas (inotify instances, message queue bytes, signals, pipes) are not shared between workers.
"""
from __future__ import annotations

import json
import logging
import os
import random
import socket
import time
import uuid

LABEL = "org.mimo-eval.sandbox"
OWNER_LABEL = "org.mimo-eval.owner"  # "<host>:<pid>:<process start time>"
POOL_LABEL = "org.mimo-eval.pool"    # one DockerSandbox's containers
log = logging.getLogger(__name__)
DRIVER_CMD = ["python3", "-I", "/judge/driver.py"]
ZYGOTE_CMD = ["python3", "-I", "/judge/zygote.py"]
SHM_MB = 16
SYSV_SHM_MB = 16
SCRATCH_INODES = 4096    # files per scratch mount: bounds what cleaning after a test can cost
DRIVER_MEMORY_MB = 1024  # the driver's container: one request's inputs and up to MAX_TOTAL_OUTPUT of output
ZYGOTE_START_MB = 64     # the tests' container until the zygote has measured itself
UIDS = (1 << 20, 1 << 30)  # the tests' uid is drawn from this range, per pair
READY_S = 60.0           # both containers started and connected


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
            _remove(c)
            removed += 1
    return removed


def _remove(container) -> None:
    import docker

    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:  # e.g. removal already in progress
        if exc.status_code != 409:
            raise


def _hardening(pool: str, cpus: float, pids: int, memory_mb: int) -> dict:
    import docker

    mem = f"{memory_mb}m"
    return dict(detach=True, labels={LABEL: "1", OWNER_LABEL: owner_id(), POOL_LABEL: pool}, read_only=True,
                mem_limit=mem, memswap_limit=mem, pids_limit=pids, nano_cpus=int(cpus * 1e9),
                cap_drop=["ALL"], security_opt=["no-new-privileges"], log_config=docker.types.LogConfig(type="none"),
                environment={"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "LANG": "C.UTF-8"})


class Container:
    """A worker's pair of containers plus the socket of its driver's exec; one request at a time.
    `container` is the tests' container (its id is the pool's `meta["container"]`), `driver` the driver's."""

    def __init__(self, client, image: str, *, pool: str, memory_mb: int, cpus: float, pids: int,
                 tmpfs_mb: int):
        import docker

        self.client, self.container, self.driver = client, None, None
        self.name, token = f"mimo-sbx-{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
        uid = random.SystemRandom().randrange(*UIDS)
        scratch = f"rw,nosuid,nodev,noexec,nr_inodes={SCRATCH_INODES},mode=1777"
        try:
            self.driver = client.containers.run(
                image, ["sleep", "infinity"], name=f"{self.name}-driver", init=True, network_mode="none",
                cap_add=["KILL"], **_hardening(pool, 1.0, 16, DRIVER_MEMORY_MB))
            self.container = client.containers.run(
                image, ZYGOTE_CMD + ["--uid", str(uid), "--listen", token], name=f"{self.name}-tests",
                pid_mode=f"container:{self.driver.id}", network_mode=f"container:{self.driver.id}",
                ipc_mode="private",  # private: /dev/shm and the SysV limits are this container's
                tmpfs={"/tmp": f"{scratch},size={tmpfs_mb}m", "/dev/shm": f"{scratch},size={SHM_MB}m"},
                sysctls={"kernel.shmmax": str(SYSV_SHM_MB << 20), "kernel.shmall": str(SYSV_SHM_MB << 8),
                         "kernel.shmmni": "64", "kernel.msgmni": "16", "kernel.sem": "64 256 32 16"},
                cap_add=["SETUID", "SETGID", "KILL"],
                ulimits=[docker.types.Ulimit(name="nofile", soft=256, hard=256),
                         docker.types.Ulimit(name="fsize", soft=16 << 20, hard=16 << 20)],
                **_hardening(pool, cpus, pids, memory_mb + ZYGOTE_START_MB))
            exec_id = client.api.exec_create(self.driver.id, DRIVER_CMD + ["--zygote", token], stdin=True,
                                             stdout=True, stderr=True, tty=False)["Id"]
            sock = client.api.exec_start(exec_id, socket=True)
            self._keepalive = sock  # holds the HTTP response that owns the hijacked connection
            self.sock = getattr(sock, "_sock", sock)
            ready = json.loads(self._read_line(time.monotonic() + READY_S, 1 << 12))
            self.zygote_mb = -(-int(ready["zygote_bytes"]) // (1 << 20))
            self.memory_mb = None
            self.set_memory(memory_mb)
        except Exception:
            self.remove()
            raise

    def set_memory(self, memory_mb: int) -> None:
        """The tests' cgroup: memory_mb for the tests on top of what the zygote itself holds."""
        if memory_mb != self.memory_mb:
            mem = f"{memory_mb + self.zygote_mb}m"
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
        try:
            self.sock.close()
        except (AttributeError, OSError):
            pass
        import docker

        for suffix in ("-tests", "-driver"):  # the tests' first: they live in the driver's pid namespace
            try:  # by name: a container created but not started has no object here
                _remove(self.client.containers.get(self.name + suffix))
            except docker.errors.NotFound:
                pass
