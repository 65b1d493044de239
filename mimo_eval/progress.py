"""rich progress for a run: a generation bar and a grading bar (throughput, ETA) and a live summary line."""
from __future__ import annotations

import threading
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

    def __init__(self, total: int, *, done_generated: int, graded: list[dict], enabled: bool = True):
        self._lock = threading.Lock()
        self._outcomes = Counter(row.get("outcome", "wrong") for row in graded)
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
            self._progress.console.print(f"resuming: {gen.completed:.0f} of {gen.total:.0f} samples already "
                                         f"stored, {grade.completed:.0f} graded; only the rest is done now")
        return self

    def __exit__(self, *exc) -> None:
        self._progress.stop()

    def generated(self) -> None:
        self._progress.advance(self._gen)

    def graded(self, row: dict) -> None:
        with self._lock:
            self._outcomes[row.get("outcome", "wrong")] += 1
            line = self._line()
        self._progress.update(self._grade, advance=1, summary=line)

    def _line(self) -> str:
        total = sum(self._outcomes.values())
        if not total:
            return ""
        others = ", ".join(f"{k} {v}" for k, v in sorted(self._outcomes.items()) if k not in ("correct", "wrong"))
        return f"pass@1 {100 * self._outcomes['correct'] / total:.1f}" + (f" | {others}" if others else "")
