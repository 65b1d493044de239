"""`mimo-eval run`: generate n samples per problem, store each as it finishes, grade while generating, summarize.

    mimo-eval run aime24 --model XiaomiMiMo/MiMo-7B-RL --backend vllm        # avg@32, T 0.6, top-p 0.95, 32k

Grading overlaps generation: every stored sample is handed to a thread pool at once (the math grader runs in
its own hard-deadline worker processes; the code grader in the sandbox), so wall time is generation-bound.
Re-running the same command resumes: stored samples are not regenerated, stored scores not regraded.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import platform
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from benchmarks import registry
from benchmarks.common import BenchmarkDataError, prompt_sha256
from benchmarks.types import Benchmark, Problem
from mimo_eval import __version__
from mimo_eval.harness.cost import CostMeter
from mimo_eval.harness.progress import RunProgress
from mimo_eval.harness.scoring import grade_math, make_code_grader, score_row
from mimo_eval.harness.shard import shard_dir, shard_label, shard_of
from mimo_eval.harness.store import CONFIG, COST, SAMPLES, SCORES, RunStore, RunStoreError, latest_by_key, run_dir_for
from mimo_eval.harness.summary import asked, write_summary
from mimo_eval.types import Backend, Request, SamplingParams

log = logging.getLogger(__name__)


class Interrupted(Exception):
    """Ctrl-C during a run: every generation stored so far is safe, and rerunning the command resumes."""

    def __init__(self, saved: int):
        super().__init__(f"interrupted: {saved} generations saved; rerun the same command to resume")
        self.saved = saved


@dataclass(frozen=True)
class RunSettings:
    benchmark: str
    model: str
    out: Path = Path("runs")
    n: int | None = None                  # None: the benchmark's MiMo default
    sampling: SamplingParams = SamplingParams()
    system_prompt: str | None = ""        # MiMo: empty system prompt; None: no system message at all
    benchmark_options: dict = field(default_factory=dict)
    grade_workers: int = 4
    code_mode: str = "lcb"                # "all_tests": every test gets a verdict (for calibrate-tests)
    raw_prompt: bool = False              # send the prompt as raw text, no chat template (completion mode)
    new_run: bool = False
    progress: bool = True
    truncated: str | None = None          # "wrong": a response cut at max_tokens counts wrong; None: the run's
                                          # policy so far (`score --truncated` may have set it), else "grade"
    shard: tuple[int, int] | None = None  # (K, N): generate only shard K of N (mimo_eval/harness/shard.py)
    progress_every: tuple[float, float] = (60.0, 10.0)   # plain progress line (not a terminal): seconds, percent
    limit: int | None = None              # only the first `limit` problems (a smoke test), marked in every record
    chat_template_kwargs: dict | None = None   # e.g. {"enable_thinking": False}: rendered into every prompt


# More samples than any run can hold: a typo such as --n 1000000000 is refused in one line, not by a MemoryError
MAX_SAMPLES = 10_000_000


def sample_seed(seed: int, problem_id: str, index: int) -> int:
    """Per-sample seed from (run seed, problem, index): a sample is reproducible alone, whatever the batch."""
    digest = hashlib.sha256(f"{seed}/{problem_id}/{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def benchmark_version(problems: list[Problem]) -> str:
    """Hash of exactly what is asked and what counts as right: a changed dataset makes a run incomparable."""
    h = hashlib.sha256()
    for p in problems:
        h.update(json.dumps([p.id, p.prompt, p.reference], sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def build_config(s: RunSettings, bench: Benchmark, problems: list[Problem], backend: Backend, n: int,
                 thinking_opened: bool | None = None) -> dict:
    from importlib import metadata

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    versions = {"mimo-eval": __version__, "python": platform.python_version(),
                **{d: version(d) for d in ("vllm", "transformers", "torch", "math-verify")}, **backend.versions()}
    return {
        "model": s.model, "benchmark": bench.name, "benchmark_version": benchmark_version(problems),
        "benchmark_options": dict(sorted(s.benchmark_options.items())), "num_problems": len(problems),
        "grader": bench.grader, "prompt": bench.prompt, "prompt_sha256": prompt_sha256(bench.prompt),
        "limit": s.limit, "chat_template_kwargs": s.chat_template_kwargs,
        "system_prompt": s.system_prompt, "temperature": s.sampling.temperature, "top_p": s.sampling.top_p,
        "max_tokens": s.sampling.max_tokens, "seed": s.sampling.seed, "n": n,
        "code_mode": s.code_mode if bench.grader == "code" else None,
        "truncated": s.truncated, "shard": shard_label(s.shard),
        "thinking_opened": thinking_opened,   # the rendered prompt ends inside <think>: graded knowing it
        "backend": backend.config(), "generation_options": generation_options(backend.config()),
        "versions": versions,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


# Backend options that change what a sample is, each with the value that changes nothing: the prompt format
# (completion mode sends no chat template), the weights' precision, a context cap that cuts generations short,
# extra request fields (--request, --extra-body: top_k, min_p, stop, reasoning_effort, chat_template_kwargs, ...),
# vLLM's weight and KV-cache quantization.
# Speed-only options (concurrency, timeouts, retries, batch size, device, tensor parallel, GPU memory, speculative
# decoding, whose rejection sampling keeps the distribution) may change between invocations of one run.
RESULT_OPTIONS = {"mode": "chat", "dtype": "auto", "max_model_len": None, "extra_body": {},
                  "quantization": None, "kv_cache_dtype": "auto"}   # the last two: vllm --engine-arg


def generation_options(backend_config: dict) -> dict | None:
    """The result-changing backend options that differ from neutral (a COMPARABLE_KEYS entry); None when all are
    neutral, which is also what a run recorded before this entry existed reads as."""
    settings = {**backend_config, **backend_config.get("llm", {})}   # vllm nests its LLM(...) arguments
    changed = {k: settings[k] for k, neutral in RESULT_OPTIONS.items() if k in settings and settings[k] != neutral}
    return changed or None


def messages_for(problem: Problem, system_prompt: str | None) -> tuple[dict, ...]:
    # MiMo's README passes an explicit empty system turn, which also keeps a template's default system text out;
    # None sends none (some templates and APIs reject an empty one)
    user = {"role": "user", "content": problem.prompt}
    return (user,) if system_prompt is None else ({"role": "system", "content": system_prompt}, user)


def load_problems(bench: Benchmark, options: dict) -> list[Problem]:
    unknown = set(options) - set(bench.options)
    if unknown:
        raise ValueError(f"benchmark {bench.name} does not take {', '.join(sorted(unknown))}; "
                         f"it takes: {', '.join(bench.options) or 'no options'}")
    problems = bench.load(**options)
    seen: dict[str, int] = {}
    for position, problem in enumerate(problems, 1):
        if problem.id in seen:   # one id for two problems would merge their samples and lose one from the report
            raise BenchmarkDataError(f"benchmark {bench.name}: problem id {problem.id!r} is used by problems "
                                     f"{seen[problem.id]} and {position}: every problem needs its own id; check the "
                                     "data's id field (LiveCodeBench: question_id)")
        seen[problem.id] = position
    return problems


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
    _check_size(s, asked(problems, s.limit), n)
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


def _check_size(s: RunSettings, problems: list[Problem], n: int) -> None:
    if n < 1:
        raise ValueError(f"n must be >= 1 samples per problem, got {n}")
    if n * len(problems) > MAX_SAMPLES:
        raise ValueError(f"--n {n} x {len(problems)} problems is {n * len(problems):,} generations, more than a run "
                         f"can hold ({MAX_SAMPLES:,}): lower --n")
    if s.out.exists() and not s.out.is_dir():
        raise ValueError(f"--out {s.out} is a file: give the folder that holds run directories (default runs)")


def _run_dir(s: RunSettings, bench: Benchmark) -> Path:
    """--out's run directory for this model and benchmark; an --out that is itself a run directory (a merged run
    with gaps, a renamed run) is that run, so the command merge prints finishes it."""
    if (s.out / CONFIG).is_file() and s.shard is None:
        return s.out
    return shard_dir(run_dir_for(s.out, s.model, bench.name), s.shard)


def _generate_and_grade(store: RunStore, problems: list[Problem], n: int, s: RunSettings, backend: Backend,
                        grade_fn: Callable[[Problem, str], dict], meter: CostMeter) -> None:
    by_id = {p.id: p for p in problems}
    samples, scores = latest_by_key(store.samples()), latest_by_key(store.scores())
    wanted = [(p, i) for p in problems for i in range(n)
              if s.shard is None or shard_of(p.id, i, s.shard[1]) == s.shard[0]]
    todo = [Request(problem_id=p.id, sample_index=i, messages=messages_for(p, s.system_prompt),
                    seed=sample_seed(s.sampling.seed, p.id, i), prompt=p.prompt if s.raw_prompt else None,
                    chat_template_kwargs=s.chat_template_kwargs)
            for p, i in wanted if (p.id, i) not in samples]
    ungraded = [samples[(p.id, i)] for p, i in wanted if (p.id, i) in samples and (p.id, i) not in scores]
    graded_before = [scores[(p.id, i)] for p, i in wanted if (p.id, i) in scores]
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
