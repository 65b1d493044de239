"""Which of several OpenAI-compatible servers take requests: health marking, probing back, where a retry goes.

A server is up, failing (it answers, but with errors: `down_after` consecutive 408/409/429/5xx, replies without a
completion or dropped connections) or unreachable (it refuses connections, or stalled: no byte for the stall
timeout). A failing or unreachable server gets no new request while another is up; a background thread probes it
(GET /models) after 1 s, then 2, 4, ... up to 30 s, and an answer puts it back. Retries go to up servers first,
then failing ones, then unreachable ones, so a retry budget is spent where it can succeed. `pick` says whether the
caller must back off first: only once every candidate has failed this request since the last wait.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

log = logging.getLogger("mimo_eval.backends.openai")

UP, FAILING, UNREACHABLE = "up", "failing", "unreachable"


class ServerHealth:
    def __init__(self, urls: list[str], probe: Callable[[str], bool], *, down_after: int = 3,
                 probe_interval_s: float = 1.0, max_probe_interval_s: float = 30.0):
        self.urls = list(urls)
        self._probe, self.down_after = probe, down_after
        self._first_interval, self._max_interval = probe_interval_s, max_probe_interval_s
        self._state = {url: UP for url in self.urls}
        self._failures = {url: 0 for url in self.urls}      # consecutive soft failures
        self._next_probe: dict[str, float] = {}
        self._interval: dict[str, float] = {}
        self._lock = threading.Lock()
        self.events: list[tuple[str, str, str]] = []         # (url, new state, why), for logs and tests

    def state(self, url: str) -> str:
        return self._state[url]

    def any_up(self, besides: str | None = None) -> bool:
        with self._lock:
            return any(s == UP and u != besides for u, s in self._state.items())

    def pick(self, start: int, tried: set[str]) -> tuple[str, bool]:
        """(server, back off first?): the first up server from position `start` on (in list order, wrapping) that
        has not failed this request since the last wait; failing ones only when none is up, unreachable ones last."""
        with self._lock:
            order = self.urls[start % len(self.urls):] + self.urls[:start % len(self.urls)]
            for state in (UP, FAILING, UNREACHABLE):
                group = [u for u in order if self._state[u] == state]
                if group:
                    fresh = [u for u in group if u not in tried]
                    return (fresh[0], False) if fresh else (group[0], True)
        raise AssertionError("no server")   # unreachable: urls is never empty

    def succeeded(self, url: str) -> None:
        with self._lock:
            self._failures[url] = 0
            if self._state[url] != UP:
                self._set(url, UP, "answered a request")

    def failed(self, url: str, why: str, *, unreachable: bool) -> None:
        """A failed attempt: an unreachable server is marked at once, a failing one after `down_after` in a row."""
        with self._lock:
            self._failures[url] += 1
            if len(self.urls) == 1:
                return   # nowhere else to send it: the caller's retries and backoff are all there is
            if unreachable and self._state[url] != UNREACHABLE:
                self._set(url, UNREACHABLE, why)
            elif self._state[url] == UP and self._failures[url] >= self.down_after:
                self._set(url, FAILING, f"{self._failures[url]} failures in a row, last: {why}")

    def mark_unreachable(self, url: str, why: str) -> None:
        with self._lock:
            self._set(url, UNREACHABLE, why)

    def _set(self, url: str, state: str, why: str) -> None:
        self._state[url] = state
        self.events.append((url, state, why))
        if state == UP:
            self._next_probe.pop(url, None)
            self._interval.pop(url, None)
            log.warning("server %s is back: %s", url, why)
        else:
            self._interval.setdefault(url, self._first_interval)
            self._next_probe[url] = time.monotonic() + self._interval[url]
            others = "its requests go to the other servers" if any(
                s == UP for s in self._state.values()) else "no server is up: retrying with backoff"
            log.warning("server %s is %s (%s): %s; probing it again in %.0f s", url, state, why, others,
                        self._interval[url])

    def probe_loop(self, stop: threading.Event) -> None:
        """Probe every down server whose time has come, until `stop` is set (a daemon thread of generate())."""
        while not stop.wait(0.1):
            now = time.monotonic()
            with self._lock:
                due = [u for u, t in self._next_probe.items() if t <= now]
            for url in due:
                answered = self._probe(url)
                with self._lock:
                    if url not in self._next_probe:
                        continue   # a request brought it back meanwhile
                    if answered:
                        self._failures[url] = 0
                        self._set(url, UP, "answered a probe")
                    else:
                        self._interval[url] = min(self._max_interval, 2 * self._interval[url])
                        self._next_probe[url] = time.monotonic() + self._interval[url]
