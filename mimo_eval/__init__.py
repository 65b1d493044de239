"""mimo-eval's evaluation harness, command line and RL loop, beside the graders (graders/, sandboxes/) and the
benchmark definitions (benchmarks/). The rooms, in the order the data goes through them:

    types.py    the vocabulary: SamplingParams, Request, Completion, the Backend protocol
    backends/   prompts -> completions, one class per engine (vllm, openai, hf, replay)
    harness/    writes run directories: problems -> requests -> samples.jsonl -> scores.jsonl -> summary.json
    report/     reads them: run table, leaderboard, compare, show, audit, LiveCodeBench export, trackers
    cli/        the `mimo-eval` command: flags -> one function of a room above
    rl/         the GRPO loop: prompts -> rollouts -> rewards (graders/) -> updates; evaluates through harness/
    demo.py     `mimo-eval demo`: the pipeline on bundled recorded generations
    tiny.py     tiny models built from a config, for tests and CPU smoke runs

Imports point one way: cli -> report -> harness -> types, rl -> harness and backends -> types (docs/architecture.md).
"""
__version__ = "0.1.0"
