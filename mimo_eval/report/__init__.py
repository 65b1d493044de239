"""Reports: everything that reads run directories (`mimo_eval/harness/` writes them) and shows or exports them.

    run_table.py    one run's summary as terminal tables (after run, score, merge, demo)
    leaderboard.py  every run under a folder: markdown, CSV or an HTML page with a plot
    compare.py      a paired bootstrap between two runs on the same problems
    show.py         why each sample was graded as it was
    audit.py        a math run regraded by Math-Verify, every differing sample listed
    audit_code.py   a code run's programs rerun as plain processes, every differing verdict listed
    lcb_export.py   a LiveCodeBench run in LiveCodeBench's own result format
    trackers.py     `--report-to tensorboard|wandb`: a summary as scalars
"""
