"""`mimo-eval audit --against math-verify` on real runs: the AIME 2024 outputs of shared/data/reasoning_outputs
(11 Sky-T1 models and DeepScaleR-1.5B at 7 token budgets, 30 problems x 1 sample each; see its README), each
replayed into a run directory through the harness, graded by our grader, then audited.

    python tools/audit_real_runs.py [--data ../shared/data/reasoning_outputs] [--work /tmp/audit_runs]

Prints one row per run: pass@1 by our grader, by Math-Verify 0.9.0 and by the source harness's own label (for
reference: Qwen2.5-Math `math_equal` for Sky-T1, which falls back to the last number, and the AIME-Preview
harness for DeepScaleR), the samples where ours and Math-Verify differ, and our masked timeouts (counted not
correct; on a loaded machine they grow, so read them beside the differences).
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from mimo_eval.report.audit import audit
from mimo_eval.backends.replay import ReplayBackend
from mimo_eval.harness.run import RunSettings, execute
from mimo_eval.harness.files import latest_by_key, read_jsonl


def groups(data: Path) -> dict[str, list[dict]]:
    """AIME 2024 rows by run: the model, plus the token budget where one model was run at several."""
    out: dict[str, list[dict]] = {}
    for line in (data / "reasoning_outputs.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["benchmark"] != "aime24":
            continue
        budget = row["generation"].get("max_tokens")
        out.setdefault(row["model"] + (f"@{budget}" if budget else ""), []).append(row)
    return out


def replay_run(label: str, rows: list[dict], work: Path) -> Path:
    replay = work / f"{label.replace('/', '--')}.jsonl"
    replay.write_text("".join(json.dumps({"problem_id": f"aime24/{r['problem_id']}", "sample_index": 0,
                                          "text": r["response"]}) + "\n" for r in rows))
    settings = RunSettings(benchmark="aime24", model=label, out=work / "runs", n=1, progress=False)
    return execute(settings, ReplayBackend(replay))


def main() -> None:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=here.parent.parent / "shared" / "data" / "reasoning_outputs")
    parser.add_argument("--work", type=Path, default=Path("/tmp/audit_runs"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.ERROR)
    print("| run | samples | pass@1 mimo-eval | pass@1 Math-Verify 0.9.0 | pass@1 source label | differ "
          "| our timeouts |\n|---|---|---|---|---|---|---|")
    totals = [0, 0]
    for label, rows in groups(args.data).items():
        run_dir = replay_run(label, rows, args.work)
        report = audit(run_dir)
        timeouts = sum(r["outcome"] == "timeout" for r in latest_by_key(read_jsonl(run_dir / "scores.jsonl"))
                       .values())
        labels = 100 * sum(bool(r["label"]) for r in rows) / len(rows)
        ours, theirs = report["pass@1"].values()
        totals[0] += len(report["differences"])
        totals[1] += report["samples"]
        print(f"| {label} | {report['samples']} | {ours:.1f} | {theirs:.1f} | {labels:.1f} "
              f"| {len(report['differences'])} | {timeouts} |")
    print(f"\n{totals[0]} of {totals[1]} samples graded differently by mimo-eval and Math-Verify 0.9.0")


if __name__ == "__main__":
    main()
