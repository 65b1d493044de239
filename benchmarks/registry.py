"""Every benchmark mimo-eval knows, by the name used on the command line. One literal dict, nothing registers itself."""
from __future__ import annotations

from functools import partial

from benchmarks import aime24, aime25, livecodebench, math500, qwen25math_math100, toy_add
from benchmarks.types import Benchmark

_LCB_OPTIONS = ("start_date", "end_date", "data_path")

BENCHMARKS: dict[str, Benchmark] = {
    "aime24": Benchmark("aime24", aime24.load, aime24.DEFAULT_N, aime24.PROMPT, "math", aime24.BREAKDOWN_KEYS),
    "aime25": Benchmark("aime25", aime25.load, aime25.DEFAULT_N, aime25.PROMPT, "math", aime25.BREAKDOWN_KEYS),
    "math500": Benchmark("math500", math500.load, math500.DEFAULT_N, math500.PROMPT, "math",
                         math500.BREAKDOWN_KEYS),
    "lcb_v5": Benchmark("lcb_v5", partial(livecodebench.load, release="v5"), livecodebench.DEFAULT_N,
                        livecodebench.PROMPT, "code", livecodebench.BREAKDOWN_KEYS, _LCB_OPTIONS),
    "lcb_v6": Benchmark("lcb_v6", partial(livecodebench.load, release="v6"), livecodebench.DEFAULT_N,
                        livecodebench.PROMPT, "code", livecodebench.BREAKDOWN_KEYS, _LCB_OPTIONS),
    "livecodebench": Benchmark("livecodebench", livecodebench.load, livecodebench.DEFAULT_N, livecodebench.PROMPT,
                               "code", livecodebench.BREAKDOWN_KEYS, _LCB_OPTIONS),
    "lcb_sample": Benchmark("lcb_sample", livecodebench.load_sample, livecodebench.DEFAULT_N,
                            livecodebench.PROMPT, "code", livecodebench.BREAKDOWN_KEYS),
    "qwen25math_math100": Benchmark("qwen25math_math100", qwen25math_math100.load, qwen25math_math100.DEFAULT_N,
                                    qwen25math_math100.PROMPT, "math", qwen25math_math100.BREAKDOWN_KEYS),
    "toy_add": Benchmark("toy_add", toy_add.load, toy_add.DEFAULT_N, toy_add.PROMPT, "math", toy_add.BREAKDOWN_KEYS),
}


class UnknownBenchmarkError(KeyError):
    def __str__(self) -> str:
        return self.args[0]


def get(name: str, options: dict | None = None) -> Benchmark:
    """The benchmark called `name`; a run recorded from a task file (`task_file` among its options) is rebuilt
    from that file."""
    if options and "task_file" in options:
        from benchmarks import task_file

        return task_file.benchmark(**options)
    if name not in BENCHMARKS:
        raise UnknownBenchmarkError(f"unknown benchmark {name!r}: choose one of {', '.join(BENCHMARKS)}")
    return BENCHMARKS[name]
