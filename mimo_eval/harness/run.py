"""`mimo-eval run`: generate n samples per problem, store each as it finishes, grade while generating, summarize.

    mimo-eval run aime24 --model XiaomiMiMo/MiMo-7B-RL --backend vllm        # avg@32, T 0.6, top-p 0.95, 32k

Grading overlaps generation: every stored sample is handed to a thread pool at once (the math grader runs in
its own hard-deadline worker processes; the code grader in the sandbox), so wall time is generation-bound.
Re-running the same command resumes: stored samples are not regenerated, stored scores not regraded.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

from benchmarks import registry
from benchmarks.types import Benchmark, Problem
from mimo_eval.harness.cost import CostMeter
from mimo_eval.harness.progress import RunProgress
from mimo_eval.harness.scoring import grade_math, make_code_grader, score_row
from mimo_eval.harness.settings import RunSettings, build_config, check_size, load_problems
from mimo_eval.harness.shard import shard_dir, shard_of
from mimo_eval.harness.files import CONFIG, COST, SAMPLES, SCORES, RunStoreError, latest_by_key, run_dir_for
from mimo_eval.harness.store import RunStore
from mimo_eval.harness.summary import asked, write_summary
from mimo_eval.types import Backend, Request

log = logging.getLogger(__name__)


class Interrupted(Exception):
    """Ctrl-C during a run: every generation stored so far is safe, and rerunning the command resumes."""

    def __init__(self, saved: int):
        super().__init__(f"interrupted: {saved} generations saved; rerun the same command to resume")
        self.saved = saved


def sample_seed(seed: int, problem_id: str, index: int) -> int:
    """Per-sample seed from (run seed, problem, index): a sample is reproducible alone, whatever the batch."""
    digest = hashlib.sha256(f"{seed}/{problem_id}/{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def messages_for(problem: Problem, system_prompt: str | None) -> tuple[dict, ...]:
    # MiMo's README passes an explicit empty system turn, which also keeps a template's default system text out;
    # None sends none (some templates and APIs reject an empty one)
    user = {"role": "user", "content": problem.prompt}
    return (user,) if system_prompt is None else ({"role": "system", "content": system_prompt}, user)


def thinking_opened(backend: Backend, problems: list[Problem], s: RunSettings) -> bool | None:
    """Whether the prompts this run sends end inside an open thinking block, from the backend's rendering of the
    first one (one template for the run); None when the backend cannot tell."""
    first = problems[0]
    return backend.thinking_opened(Request(problem_id=first.id, sample_index=0, seed=0,
                                           messages=messages_for(first, s.system_prompt),
                                           prompt=first.prompt if s.raw_prompt else None,
                                           chat_template_kwargs=s.chat_template_kwargs))


@contextmanager
def grader_for(bench: Benchmark, sandbox_factory: Callable | None = None, code_mode: str = "lcb",
               opened: bool | None = None) -> Iterator[Callable[[Problem, str], dict]]:
    """The grading function for a benchmark; a code grader's sandbox lives exactly as long as the block.
    opened: the run's `thinking_opened` (math)."""
    if bench.grader == "math":
        yield functools.partial(grade_math, thinking_opened=bool(opened))
        return
    if sandbox_factory is None:
        from graders.code import judge_sandbox as sandbox_factory   # Docker, else LocalSandbox with a warning
    sandbox = sandbox_factory()
    try:
        yield make_code_grader(sandbox, code_mode)
    finally:
        sandbox.close()


def execute(s: RunSettings, backend: Backend, *, sandbox_factory: Callable | None = None) -> Path:
    """Run (or resume) one benchmark for one model; returns the run directory."""
    bench = registry.get(s.benchmark, s.benchmark_options)
    problems = load_problems(bench, s.benchmark_options)
    n = bench.default_n if s.n is None else s.n   # not `or`: n=0 must be refused, not run at the default
    check_size(s, asked(problems, s.limit), n)
    opened = thinking_opened(backend, problems, s) if problems else None
    config, passed_over = build_config(s, bench, problems, backend, n, opened), set()
    while True:
        store = RunStore.open(_run_dir(s, bench), config, new_run=s.new_run, pass_over=frozenset(passed_over))
        try:
            return _execute_in(store, s, bench, problems, n, backend, sandbox_factory, opened)
        except OtherModel:
            if not s.new_run:
                raise
            # --new-run: a run at these settings whose samples are another model's is not this run; the next is
            log.warning("%s holds another model's samples: --new-run goes on to the next run directory", store.path)
            passed_over.add(store.path)


def _execute_in(store: RunStore, s: RunSettings, bench: Benchmark, problems: list[Problem], n: int,
                backend: Backend, sandbox_factory: Callable | None, opened: bool | None) -> Path:
    meter = CostMeter()
    try:
        with grader_for(bench, sandbox_factory, s.code_mode, opened) as grade_fn:
            try:
                _generate_and_grade(store, asked(problems, s.limit), n, s, backend, grade_fn, meter)
            finally:   # also when stopped: what was generated was paid for
                _note_cost(store, meter)
        if s.shard is None:   # a shard has part of every problem: its metrics come after `mimo-eval merge`
            write_summary(store, problems, bench, n)
    except KeyboardInterrupt:
        store.close()   # flushes a line the interrupt caught between write and flush, so the count is exact
        raise Interrupted(len(latest_by_key(store.samples()))) from None
    finally:
        store.close()
    return store.path


def _note_cost(store: RunStore, meter: CostMeter) -> None:
    if not meter.samples:
        return
    try:
        store.append(COST, meter.row())
    except OSError as err:   # a full disk: the error already on its way says what to do
        log.warning("%s: this invocation's cost was not recorded (%s)", store.path, err)


def _run_dir(s: RunSettings, bench: Benchmark) -> Path:
    """--out's run directory for this model and benchmark; an --out that is itself a run directory (a merged run
    with gaps, a renamed run) is that run, so the command merge prints finishes it."""
    if (s.out / CONFIG).is_file() and s.shard is None:
        return s.out
    return shard_dir(run_dir_for(s.out, s.model, bench.name), s.shard)


def _plan(store: RunStore, problems: list[Problem], n: int, s: RunSettings):
    """What this invocation does: (pairs wanted, requests still to generate, stored samples still to grade,
    scores stored before, the stored samples)."""
    samples, scores = latest_by_key(store.samples()), latest_by_key(store.scores())
    wanted = [(p, i) for p in problems for i in range(n)
              if s.shard is None or shard_of(p.id, i, s.shard[1]) == s.shard[0]]
    todo = [Request(problem_id=p.id, sample_index=i, messages=messages_for(p, s.system_prompt),
                    seed=sample_seed(s.sampling.seed, p.id, i), prompt=p.prompt if s.raw_prompt else None,
                    chat_template_kwargs=s.chat_template_kwargs)
            for p, i in wanted if (p.id, i) not in samples]
    ungraded = [samples[(p.id, i)] for p, i in wanted if (p.id, i) in samples and (p.id, i) not in scores]
    graded_before = [scores[(p.id, i)] for p, i in wanted if (p.id, i) in scores]
    return wanted, todo, ungraded, graded_before, samples


def _generate_and_grade(store: RunStore, problems: list[Problem], n: int, s: RunSettings, backend: Backend,
                        grade_fn: Callable[[Problem, str], dict], meter: CostMeter) -> None:
    by_id = {p.id: p for p in problems}
    wanted, todo, ungraded, graded_before, samples = _plan(store, problems, n, s)
    reported = ReportedModel(samples.values())
    stopping = threading.Event()
    with RunProgress(len(wanted), done_generated=len(wanted) - len(todo), graded=graded_before,
                     enabled=s.progress, plain_every=s.progress_every) as progress, \
            ThreadPoolExecutor(s.grade_workers) as pool:
        futures: list[Future] = []
        failed: list[OSError] = []   # a grade the disk refused: a callback's exception would only be logged

        def record(future: Future) -> None:
            # after Ctrl-C a grade may come from a grader process the same SIGINT hit: regraded on resume instead
            if stopping.is_set() or future.cancelled():
                return
            try:
                store.append(SCORES, future.result())
            except OSError as err:
                failed.append(err)
                return
            progress.graded(future.result())

        def grade_later(sample: dict) -> None:
            future = pool.submit(score_row, by_id[sample["problem_id"]], sample, grade_fn)
            future.add_done_callback(record)
            futures.append(future)

        try:
            for sample in ungraded:
                grade_later(sample)
            seeds = {(r.problem_id, r.sample_index): r.seed for r in todo}
            meter.generating()
            for completion in _checked(backend.generate(todo, s.sampling), set(seeds)):
                reported.check(completion)
                row = _sample_row(completion, seeds[(completion.problem_id, completion.sample_index)])
                store.append(SAMPLES, row)
                meter.generated(completion.num_tokens)
                progress.generated()
                grade_later(row)
                if failed:
                    raise failed[0]
        except (KeyboardInterrupt, OSError):   # Ctrl-C, a full disk: stop at once; other errors let grades finish
            stopping.set()
            pool.shutdown(wait=False, cancel_futures=True)   # queued grades are redone on resume
            raise
        for future in futures:
            future.result()
        if failed:
            raise failed[0]


class OtherModel(RunStoreError):
    """The server reports another model than the samples a run held before this invocation."""


class ReportedModel:
    """All samples of one run come from one model as the servers name it: a resume against a server that
    reports another model, or several servers serving different ones, is refused before anything is stored."""

    def __init__(self, stored: Iterable[dict]):
        self.names = {row["model"] for row in stored if row.get("model")}
        self.stored_before = bool(self.names)

    def check(self, completion) -> None:
        if not completion.model:
            return
        if self.names and completion.model not in self.names:
            error = OtherModel if self.stored_before else RunStoreError
            raise error(f"{completion.server} reports model {completion.model!r}, but this run's samples "
                        f"came from {', '.join(sorted(map(repr, self.names)))}: pass --new-run to start a "
                        "separate run, or point --base-url at servers of that model")
        self.names.add(completion.model)


def _sample_row(completion, request_seed: int) -> dict:
    return {"problem_id": completion.problem_id, "sample_index": completion.sample_index, "text": completion.text,
            "finish_reason": completion.finish_reason, "num_tokens": completion.num_tokens,
            "seed": completion.seed if completion.seed is not None else request_seed,
            "reasoning": completion.reasoning, "server": completion.server, "model": completion.model,
            "time": round(time.time(), 3)}


def _checked(completions: Iterable, expected: set[tuple[str, int]]):
    """Drop (loudly) completions nobody asked for or duplicates, so a backend bug cannot corrupt the store."""
    seen = set()
    for c in completions:
        key = (c.problem_id, c.sample_index)
        if key not in expected or key in seen:
            log.warning("backend returned an unexpected completion %s#%s: ignored", *key)
            continue
        seen.add(key)
        yield c
