"""DockerSandbox: a thread-safe pool of hardened runner containers, one pair per worker (default: one per core).

Covers: no network, read-only root, small noexec tmpfs on /tmp and /dev/shm with inode caps, SysV shm
capped by sysctls, the tests' cgroup memory = memory+swap limit, pids, CPU (1 core per container), nofile
and fsize limits, all capabilities dropped but SETUID/SETGID/KILL (the driver's container: KILL only),
no-new-privileges, no logs, the engine's default seccomp plus ours on the tests; tests run as a uid of
their pair's own, forked by a zygote (see containers.py, driver.py, zygote.py and the guarantees in
sandboxes/__init__.py). The host wraps each submission in its own deadline, reads at most a
bounded reply, parses it strictly, and recreates the container on any anomaly or when the driver asks to
be recycled. Does not cover: kernel exploits (no gVisor), CPU-time fairness between workers beyond
`--cpus`, or languages other than Python.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
import uuid
import weakref
from typing import Sequence

from sandboxes.containers import Container, DeadlineExceeded, SandboxBroken, remove_orphans
from sandboxes.protocol import ProtocolError, encode_request, parse_reply, reply_cap, request_deadline
from sandboxes.types import Limits, SandboxResult

log = logging.getLogger(__name__)


class DockerUnavailable(RuntimeError):
    """No Docker engine, SDK or runner image: the message says what to run."""


class DockerSandbox:
    def __init__(self, workers: int | None = None, image: str | None = None, *, cpus: float = 1.0,
                 pids: int = 128, tmpfs_mb: int = 64):
        from sandboxes.build import image_name, image_status

        self.client = connect()
        self.image = image or image_name()
        status = image_status(self.client, self.image)
        if status != "ok":
            raise DockerUnavailable(f"runner image {self.image} is {status}: run `mimo-eval sandbox build "
                                    "--offline` (or `python -m sandboxes.build --offline`)")
        removed = remove_orphans(self.client)
        if removed:
            log.info("removed %d sandbox containers left by dead processes", removed)
        self.workers = workers or os.cpu_count() or 1
        self.pool_id = uuid.uuid4().hex
        self._options = {"pool": self.pool_id, "cpus": cpus, "pids": pids, "tmpfs_mb": tmpfs_mb}
        self._slots = [_Slot() for _ in range(self.workers)]
        self._idle: queue.Queue[_Slot] = queue.Queue()
        for slot in self._slots:
            self._idle.put(slot)
        self._lock = threading.Lock()
        self._closed = False
        # Removes the containers on close(), when the pool is garbage-collected, or at interpreter exit.
        self._finalizer = weakref.finalize(self, _remove_all, self._slots, self._lock)

    def run(self, program: str, inputs: Sequence[str], limits: Limits = Limits(), *,
            stop_on_error: bool = False, session: bool = False, relaunch: int = 0) -> SandboxResult:
        if self._closed:
            raise RuntimeError("DockerSandbox is closed")
        if limits.memory_mb <= 0:
            raise ValueError("DockerSandbox needs memory_mb > 0: it is the tests' cgroup limit")
        request = encode_request(program, inputs, limits, stop_on_error, session, relaunch)
        slot = self._idle.get()
        try:
            return self._run_in(slot, request, len(inputs), limits, relaunch)
        finally:
            self._idle.put(slot)

    def _run_in(self, slot: "_Slot", request: bytes, n: int, limits: Limits, relaunch: int) -> SandboxResult:
        error, deadline_passed = "", False
        for attempt in range(2):  # one transparent retry in a fresh container, unless the deadline passed
            try:
                container = self._container(slot, limits.memory_mb)
                deadline = time.monotonic() + request_deadline(limits, n, relaunch)
                line = container.request(request, deadline, reply_cap(limits, n))
                results, recycle = parse_reply(line, n)
                meta = {"sandbox": "docker", "container": container.container.short_id, "attempts": attempt + 1}
                if recycle:  # the verdicts stand; the replacement is made now, on this submission's time
                    log.warning("recycling sandbox container %s: %s", meta["container"], recycle)
                    meta["recycled"] = recycle
                    _discard(slot)
                    try:
                        self._container(slot, limits.memory_mb)
                    except Exception as exc:  # then the next request creates it
                        log.warning("could not start the replacement container: %s", exc)
                        _discard(slot)
                return SandboxResult(results=results, meta=meta)
            except (SandboxBroken, ProtocolError) as exc:
                error, deadline_passed = f"{type(exc).__name__}: {exc}", isinstance(exc, DeadlineExceeded)
            except Exception as exc:  # docker API errors: the engine or container is in trouble
                error = f"{type(exc).__name__}: {exc}"
            log.warning("sandbox anomaly, recreating the container: %s", error)
            _discard(slot)
            if self._closed or deadline_passed:
                break
        return SandboxResult(results=(), infra_error=error, meta={"sandbox": "docker"})

    def _container(self, slot: "_Slot", memory_mb: int) -> Container:
        if slot.container is None:
            slot.container = Container(self.client, self.image, memory_mb=memory_mb, **self._options)
            if self._closed:  # close() ran while this one was starting
                _discard(slot)
                raise SandboxBroken("DockerSandbox was closed")
        slot.container.set_memory(memory_mb)
        return slot.container

    def close(self) -> None:
        """Remove this pool's containers. Safe to call twice; also runs at interpreter exit."""
        self._closed = True
        self._finalizer()

    def __enter__(self) -> "DockerSandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Slot:
    """A worker's place in the pool; its container is created on first use and after any anomaly."""

    container: Container | None = None


def _discard(slot: _Slot) -> None:
    if slot.container is not None:
        try:
            slot.container.remove()
        except Exception as exc:  # the engine may be gone too; leftovers are removed at next start
            log.warning("could not remove sandbox container: %s", exc)
        slot.container = None


def _remove_all(slots: list[_Slot], lock: threading.Lock) -> None:
    with lock:
        taken = list(slots)
        slots.clear()
    for slot in taken:
        _discard(slot)


def connect():
    """A Docker client that answered a ping, or DockerUnavailable saying what to do."""
    try:
        import docker
    except ImportError:
        raise DockerUnavailable("the Docker SDK is missing: pip install 'mimo-eval[docker]'") from None
    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except docker.errors.DockerException as exc:
        where = f" at DOCKER_HOST={os.environ['DOCKER_HOST']}" if os.environ.get("DOCKER_HOST") else ""
        raise DockerUnavailable(f"no Docker engine answers{where} ({exc}): start dockerd, or run "
                                "`bash tools/setup_system.sh` as root on Debian") from None
    return client
