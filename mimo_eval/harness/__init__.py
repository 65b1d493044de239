"""The evaluation harness: everything that writes a run directory. In the data's order:

    settings.py   what a run is (RunSettings, the problems asked) and the config.json that records it
    run.py        `mimo-eval run`: requests -> backend -> samples.jsonl, each sample graded as it is stored
    scoring.py    one sample -> its scores.jsonl row (the graders' verdict, the outcome)
    metrics.py    rows -> pass@1 with both standard errors, pass@k, maj@k, breakdowns
    cost.py       wall time and tokens per invocation (cost.jsonl)
    summary.py    summary.json: the metrics under the run's settings
    store.py      the run directory: open or resume (settings bound, one writer at a time), append
    files.py      its files read back, each line checked; torn tails moved aside
    rescore.py    `mimo-eval score`: grade what is stored, rewrite the summary
    shard.py, merge.py   one evaluation over several machines (`--shard K/N`, `mimo-eval merge`)
    progress.py   the progress bars and the plain line for batch logs

What reads a finished run (tables, leaderboard, compare, audit) is in `mimo_eval/report/`.
"""
