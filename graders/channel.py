"""Messages between the grading pool, its zygote and its workers (`graders.pool`, `graders.zygote`): pickled
objects over a stream socket, each prefixed with its length, and file descriptors passed alongside. The send,
recv and poll of multiprocessing's Connection, without importing multiprocessing (~10 ms of a cold start).
"""
from __future__ import annotations

import pickle
import select
import socket
import struct

_HEADER = struct.Struct("!Q")


class Channel:
    """One end of a socket pair. recv raises EOFError once the peer is gone."""

    def __init__(self, sock: socket.socket):
        self._sock = sock

    def fileno(self) -> int:
        return self._sock.fileno()

    def send(self, obj) -> None:
        data = pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
        self._sock.sendall(_HEADER.pack(len(data)) + data)

    def recv(self):
        return pickle.loads(self._exactly(_HEADER.unpack(self._exactly(_HEADER.size))[0]))

    def _exactly(self, n: int) -> bytes:
        chunks = []
        while n:
            chunk = self._sock.recv(min(n, 1 << 20))
            if not chunk:
                raise EOFError("the other end closed")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def poll(self, timeout: float = 0.0) -> bool:
        """Whether recv would not block (a message, or the peer gone): `select.poll`, so any fd number works."""
        poller = select.poll()
        poller.register(self._sock, select.POLLIN)
        return bool(poller.poll(None if timeout is None else max(0, int(timeout * 1000 + 0.999))))

    def send_fd(self, fd: int) -> None:
        socket.send_fds(self._sock, [b"F"], [fd])

    def recv_fd(self) -> int:
        _, fds, _, _ = socket.recv_fds(self._sock, 1, 1)
        if not fds:
            raise EOFError("no file descriptor came")
        return fds[0]

    def close(self) -> None:
        self._sock.close()
