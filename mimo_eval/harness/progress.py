"""Progress of a run: on a terminal, rich bars for generation and grading (throughput, ETA) with a live summary;
elsewhere (a batch job's log) a plain line every `seconds` and at every `percent` step, flushed at once, e.g.

    progress: generated 240/960 (25%), graded 236, pass@1 41.5 | no_answer 3, 3.9/s, eta 3m05s
"""
from __future__ import annotations

import sys
import threading
import time
from collections import Counter

from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.progress import ProgressColumn
from rich.text import Text


class RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("  -  /s" if speed is None else f"{speed:5.1f}/s", style="progress.data.speed")


class RunProgress:
    """Thread-safe counters behind two bars; the grading bar's text is the running pass@1 and the outcome mix."""

    def __init__(self, total: int, *, done_generated: int, graded: list[dict], enabled: bool = True,
                 plain_every: tuple[float, float] = (60.0, 10.0)):
        self._lock = threading.Lock()
        self._outcomes = Counter(row.get("outcome", "wrong") for row in graded)
        self._plain = PlainProgress(self, total, done_generated, *plain_every) \
            if enabled and not sys.stdout.isatty() else None
        enabled = enabled and self._plain is None
        self._progress = Progress(TextColumn("{task.description:<9}"), BarColumn(bar_width=16), MofNCompleteColumn(),
                                  TaskProgressColumn(), RateColumn(), TimeElapsedColumn(), TextColumn("eta"),
                                  TimeRemainingColumn(), TextColumn("{task.fields[summary]}"),
                                  disable=not enabled, transient=False)
        self._gen = self._progress.add_task("generate", total=total, completed=done_generated, summary="")
        self._grade = self._progress.add_task("grade", total=total, completed=len(graded), summary=self._line())

    def __enter__(self) -> "RunProgress":
        self._progress.start()
        gen, grade = (self._progress.tasks[i] for i in (self._gen, self._grade))
        if gen.completed or grade.completed:
            message = (f"resuming: {gen.completed:.0f} of {gen.total:.0f} samples already stored, "
                       f"{grade.completed:.0f} graded; only the rest is done now")
            if self._plain:
                print(message, flush=True)
            else:
                self._progress.console.print(message)
        if self._plain:
            self._plain.start()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.stop()
        if self._plain:
            self._plain.stop()

    def generated(self) -> None:
        self._progress.advance(self._gen)
        if self._plain:
            self._plain.event(generated=1)

    def graded(self, row: dict) -> None:
        with self._lock:
            self._outcomes[row.get("outcome", "wrong")] += 1
            line = self._line()
        self._progress.update(self._grade, advance=1, summary=line)
        if self._plain:
            self._plain.event(graded=1)

    def _line(self) -> str:
        total = sum(self._outcomes.values())
        if not total:
            return ""
        others = ", ".join(f"{k} {v}" for k, v in sorted(self._outcomes.items()) if k not in ("correct", "wrong"))
        return f"pass@1 {100 * self._outcomes['correct'] / total:.1f}" + (f" | {others}" if others else "")


class PlainProgress:
    """The plain line for logs: printed by a timer thread every `seconds`, and whenever generation or grading
    crosses another `percent` of the total, so a long batch job is never silent until its end."""

    def __init__(self, owner: RunProgress, total: int, done: int, seconds: float, percent: float):
        self._owner, self._total, self._seconds, self._percent = owner, total, seconds, percent
        self._generated, self._graded = done, sum(owner._outcomes.values())
        self._started, self._done_at_start = time.monotonic(), done
        self._steps = (self._step(self._generated), self._step(self._graded))
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._last: tuple[int, int] | None = None

    def start(self) -> None:
        threading.Thread(target=self._tick, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self._print()

    def event(self, *, generated: int = 0, graded: int = 0) -> None:
        with self._lock:
            self._generated += generated
            self._graded += graded
            steps = (self._step(self._generated), self._step(self._graded))
            crossed, self._steps = steps > self._steps, max(steps, self._steps)
        if crossed:
            self._print()

    def _step(self, count: int) -> int:
        return int(100 * count / max(1, self._total) // self._percent) if self._percent > 0 else 0

    def _tick(self) -> None:
        while not self._stop.wait(self._seconds):
            self._print()

    def _print(self) -> None:
        with self._lock:
            generated, graded = self._generated, self._graded
            if self._stop.is_set() and (generated, graded) == self._last:
                return   # the closing line would repeat the last one
            self._last = (generated, graded)
            with self._owner._lock:
                summary = self._owner._line()
        elapsed = time.monotonic() - self._started
        rate = (generated - self._done_at_start) / elapsed if elapsed > 0 else 0.0
        eta = f"{int((self._total - generated) / rate // 60)}m{int((self._total - generated) / rate % 60):02d}s" \
            if rate > 0 and generated < self._total else "-"
        print(f"progress: generated {generated}/{self._total} ({100 * generated / max(1, self._total):.0f}%), graded "
              f"{graded}" + (f", {summary}" if summary else "") + f", {rate:.1f}/s, eta {eta}", flush=True)
