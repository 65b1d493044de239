"""Agreement of graders/code/__init__.py ("lcb" mode) with LiveCodeBench's official judge, and its speed.

    python tools/bench_code.py                    # MiMo v5 window (279 problems) + SandboxFusion full tests
    python tools/bench_code.py --all-879          # also every v5 problem's public tests
    python tools/bench_code.py --o1-preview       # also o1-preview's official verdicts on the v5 window
    python tools/bench_code.py --sandbox local    # LocalSandbox instead of the default (Docker if it answers)
    python tools/bench_code.py --verdicts results/bench_code_verdicts.json   # also every sample's verdicts

Data: /work/shared/data/code_grader_heldout (see its README). The official o1-mini verdicts
(`eval_all`: code_list = the code LCB ran, graded_list = its verdict, metadata error_code) are joined to the
public tests on question_content. Public tests only, so the check is one-sided: every official pass must
pass here (0 false negatives); official failures may pass on the public tests. SandboxFusion's three rows
carry the full packed test sets: decoded and judged both ways. Prints rich tables, writes
results/bench_code.md.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from graders.code import grade_many
from graders.code.lcb_compare import compare_stdout
from graders.code.lcb_tests import reference_from_sandboxfusion_row
from graders.types import CodeReference, CodeTest
from sandboxes import Limits

DATA = Path("/work/shared/data/code_grader_heldout")
EVAL_ALL = DATA / "lcb_submissions_o1-mini-2024-09-12_n1_eval_all.json"
EVAL_ALL_O1_PREVIEW = DATA / "lcb_submissions_o1-preview-2024-09-12_n1_eval_all.json"
OFFICIAL = {-2: "WA", -3: "TLE", -4: "RE", -5: "runner error", -1: "global timeout"}
OURS = ("AC", "WA", "TLE", "RE", "MLE", "CE", "infra_error")


def official_verdict(row: dict) -> str:
    if row["graded_list"][0]:
        return "pass"
    return OFFICIAL.get(json.loads(row["metadata"][0]).get("error_code"), "other")


def our_verdict(verdict) -> str:
    if verdict.reason == "infra_error":
        return "infra_error"
    if verdict.passed:
        return "AC"
    return next(o.verdict for o in verdict.per_test if o.verdict != "AC")


def _truncated(value, length: int = 300) -> str:  # how LCB's metadata records the failing input
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= length else text[:length // 2] + "...(truncated) ..." + text[-length // 2:]


def failed_public_test(row: dict, reference: CodeReference) -> bool:
    """True when the official failure happened on one of these public tests (its metadata names the input):
    on those samples the check is two-sided, ours must fail too."""
    failing = json.loads(row["metadata"][0]).get("inputs")
    if row["graded_list"][0] or failing is None:
        return False
    for test in reference.tests:
        shown = test.input if reference.fn_name is None else [json.loads(x) for x in test.input.split("\n")]
        if _truncated(shown) == failing:
            return True
    return False


def reference_from_rllm(problem: dict) -> CodeReference:
    tests = tuple(CodeTest(input=t["input"], output=t["output"]) for t in problem["tests"])
    if problem["tests"][0]["testtype"] != "functional":
        return CodeReference(tests=tests)
    names = re.findall(r"def (\w+)\(self", problem["starter_code"])  # rows carry no fn_name (README)
    return CodeReference(tests=tests, fn_name=names[-1] if names else None)


def joined(tests_file: Path, official_rows: list[dict]) -> list[tuple[dict, CodeReference]]:
    by_content = {r["question_content"].strip(): r for r in official_rows}
    problems = json.loads(tests_file.read_text())
    pairs = [(by_content[p["problem"].strip()], reference_from_rllm(p)) for p in problems
             if p["problem"].strip() in by_content]
    if len(pairs) != len(problems):
        sys.exit(f"join failed: {len(pairs)} of {len(problems)} problems matched the eval_all file")
    return pairs


PLAIN_CALL = """
import json as _json, sys as _sys
_args = [_json.loads(_line) for _line in _sys.stdin.read().split("\\n")]
_out = Solution().{fn}(*_args)
print(_json.dumps(list(_out) if isinstance(_out, tuple) else _out))
"""


def plain_judge(sandbox, reference: CodeReference, code: str) -> bool:
    """The anchor: each test as `python program < input` in the same sandbox, LCB's line compare (stdin) or
    JSON equality of the printed return value (functional, typing names in scope as on LeetCode); no LCB
    wrapping, no mocked stdin, no shared Solution instance."""
    program = code if reference.fn_name is None else (  # LeetCode's environment has typing's names
        "from typing import *\n" + code + PLAIN_CALL.format(fn=reference.fn_name))
    result = sandbox.run(program, [t.input for t in reference.tests], Limits(time_s=6.0), stop_on_error=True)
    if result.infra_error:
        return False
    for test, run in zip(reference.tests, result.results):
        if run.status != "ok":
            return False
        if reference.fn_name is None:
            if not compare_stdout(expected=test.output, actual=run.stdout)[0]:
                return False
        else:
            try:
                if json.loads(run.stdout) != json.loads(test.output):
                    return False
            except ValueError:
                return False
    return True


def plain_many(sandbox, pairs, workers: int) -> list[bool]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda p: plain_judge(sandbox, p[1], p[0]["code_list"][0]), pairs))


def confusion(title: str, rows: list[dict], verdicts: list) -> tuple[Table, list[str]]:
    counts = Counter((official_verdict(r), our_verdict(v)) for r, v in zip(rows, verdicts))
    officials = sorted({o for o, _ in counts}, key=["pass", "WA", "TLE", "RE", "runner error"].index)
    table = Table(title=title)
    table.add_column("official \\ ours")
    for name in OURS:
        table.add_column(name, justify="right")
    table.add_column("total", justify="right")
    md = ["| official \\ ours | " + " | ".join(OURS) + " | total |", "|---" * (len(OURS) + 2) + "|"]
    for off in officials:
        cells = [str(counts[(off, o)]) for o in OURS]
        total = str(sum(counts[(off, o)] for o in OURS))
        table.add_row(off, *cells, total)
        md.append(f"| {off} | " + " | ".join(cells) + f" | {total} |")
    return table, md


def summary(pairs, verdicts: list, wall: float, plain: list[bool], plain_wall: float) -> Table:
    rows = [r for r, _ in pairs]
    official = [r["graded_list"][0] for r in rows]
    ours = [v.passed for v in verdicts]
    on_public = [failed_public_test(r, ref) for r, ref in pairs]
    table = Table(title="summary: ours ('lcb' mode) vs the plain subprocess judge (anchor), same sandbox")
    for column in ("", "ours", "plain (anchor)"):
        table.add_column(column, justify="right")
    for name, a, b in (
            ("official passes judged pass", _count(official, ours, True, True), _count(official, plain, True, True)),
            ("false negatives (official pass, fail here)", _count(official, ours, True, False),
             _count(official, plain, True, False)),
            ("official failures caught", _count(official, ours, False, False), _count(official, plain, False, False)),
            (f"of {sum(on_public)} official failures on a public test: caught (two-sided)",
             _count(on_public, ours, True, False), _count(on_public, plain, True, False)),
            ("... with the official verdict kind (RE counts CE)",
             sum(p and _same_kind(r, v) for p, r, v in zip(on_public, rows, verdicts)), "-"),
            ("infra errors", sum(v.reason == "infra_error" for v in verdicts), "-"),
            ("wall s", f"{wall:.1f}", f"{plain_wall:.1f}"),
            ("ms per sample", f"{1000 * wall / len(rows):.0f}", f"{1000 * plain_wall / len(rows):.0f}"),
            ("time ratio ours / plain", f"{wall / plain_wall:.2f}", "1.00")):
        table.add_row(name, str(a), str(b))
    return table


def _same_kind(row: dict, verdict) -> bool:
    ours = our_verdict(verdict)
    return official_verdict(row) == ours or (official_verdict(row) == "RE" and ours == "CE")


def _count(official: list[bool], judged: list[bool], want_official: bool, want_judged: bool) -> int:
    return sum(o == want_official and j == want_judged for o, j in zip(official, judged))


def table_md(table: Table) -> list[str]:
    header = [str(c.header) for c in table.columns]
    cells = [[str(x) for x in c.cells] for c in table.columns]
    return (["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
            + ["| " + " | ".join(col[i] for col in cells) + " |" for i in range(len(cells[0]))])


def run_set(name: str, pairs, sandbox, workers: int, console: Console, md: list[str], dump: dict) -> None:
    rows = [r for r, _ in pairs]
    started = time.perf_counter()
    verdicts = grade_many([(ref, r["code_list"][0]) for r, ref in pairs], code_is_extracted=True,
                          sandbox=sandbox, workers=workers, progress=True)
    wall = time.perf_counter() - started
    started = time.perf_counter()
    plain = plain_many(sandbox, pairs, workers)
    plain_wall = time.perf_counter() - started
    table, confusion_md = confusion(f"{name}: official verdict x ours ('lcb' mode)", rows, verdicts)
    console.print(table)
    stats = summary(pairs, verdicts, wall, plain, plain_wall)
    console.print(stats)
    tests = sum(len(ref.tests) for _, ref in pairs)
    md += [f"## {name} ({len(rows)} samples, {tests} tests)", "", *confusion_md, "", *table_md(stats), ""]
    for r, v, p in zip(rows, verdicts, plain):
        if v.passed != p:
            md.append(f"- ours {'pass' if v.passed else 'fail'}, plain {'pass' if p else 'fail'}: {r['question_id']}"
                      f" (official {official_verdict(r)}; ours {[o.verdict for o in v.per_test]})")
    dump[name] = {r["question_id"]: [o.verdict for o in v.per_test] if v.per_test else [v.reason]
                  for r, v in zip(rows, verdicts)}
    misses = [(r["question_id"], v.per_test) for r, v in zip(rows, verdicts) if r["graded_list"][0] and not v.passed]
    for qid, per_test in misses:
        md.append(f"- false negative {qid}: {[(o.verdict, o.detail[:120]) for o in per_test]}")
        console.print(f"[red]false negative[/red] {qid}: {per_test}")


def sandboxfusion_set(official_rows: list[dict]):
    by_id = {r["question_id"]: r for r in official_rows}
    pairs = []
    for line in (DATA / "sandboxfusion_code_eval_live_code_bench_v1.jsonl").read_text().splitlines():
        row = json.loads(line)
        qid = json.loads(row["labels"])["task_id"].split("/")[1]
        pairs.append((by_id[qid], reference_from_sandboxfusion_row(row)))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sandbox", choices=("auto", "docker", "local"), default="auto")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--all-879", action="store_true", help="also judge all 879 v5 problems' public tests")
    parser.add_argument("--o1-preview", action="store_true", help="also o1-preview's samples on the v5 window")
    parser.add_argument("--out", type=Path, default=Path("results/bench_code.md"))
    parser.add_argument("--verdicts", type=Path, help="write {set: {question_id: per-test verdicts}} as JSON")
    args = parser.parse_args()
    from graders.code import judge_sandbox

    console = Console()
    sandbox = judge_sandbox(args.sandbox, workers=args.workers)
    kind = type(sandbox).__name__
    official_rows, dump = json.loads(EVAL_ALL.read_text()), {}
    flags = "".join(f" --{name}" for name, on in (("all-879", args.all_879), ("o1-preview", args.o1_preview)) if on)
    md = ["# Code grader vs LiveCodeBench's official judge (o1-mini-2024-09-12, n=1; o1-preview where named)", "",
          f"Command: `python tools/bench_code.py{flags} --sandbox {args.sandbox}`"
          f" -> sandbox **{kind}**, {args.workers} workers, timeout 6 s per test.", "",
          "Rows: the official verdict (LCB's graded_list / error_code on the full tests); columns: ours on the "
          "tests given. Public tests only, so an official failure may pass here; but where the official "
          "metadata names a *public* test as the failing input, ours must fail too (two-sided row). The anchor "
          "is a plain judge in the same sandbox: each test as `python program < input`, LCB's line compare.", ""]
    run_set("MiMo v5 window, 279 problems, public tests", joined(DATA / "lcb_v5window_279_public_tests.json",
            official_rows), sandbox, args.workers, console, md, dump)
    run_set("SandboxFusion rows, full packed tests", sandboxfusion_set(official_rows), sandbox, args.workers,
            console, md, dump)
    if args.o1_preview:
        run_set("o1-preview, MiMo v5 window, 279 problems, public tests",
                joined(DATA / "lcb_v5window_279_public_tests.json", json.loads(EVAL_ALL_O1_PREVIEW.read_text())),
                sandbox, args.workers, console, md, dump)
    if args.all_879:
        run_set("all v5 problems, 879, public tests", joined(DATA / "rllm_lcb_v5_879_public_tests.json",
                official_rows), sandbox, args.workers, console, md, dump)
    sandbox.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(md) + "\n")
    console.print(f"wrote {args.out}")
    if args.verdicts:
        args.verdicts.write_text(json.dumps(dump, indent=0, sort_keys=True) + "\n")
        console.print(f"wrote {args.verdicts}")


if __name__ == "__main__":
    main()
