"""Section 6 of tools/bench_math.py: real reasoning-model output (../shared/data/reasoning_outputs/, 665 rows).

    python tools/bench_math.py --only-reasoning --out /tmp/reasoning.md   # this section alone

Ours (eval mode; reward mode shown too) and Math-Verify 0.9.0 in the same run, per source, against the
expected verdict of issue 10 item 2: the row's `audit.expected` where present, else its `label`, except
that a response cut off inside unfinished thinking is expected wrong (an opening marker with no closing
marker after it; this is what makes `test/algebra/892` wrong, labelled true only by its source's
last-number fallback) and the corrections below. Every disagreement is listed with who is right.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from graders.math import grade_many

_OPEN = ("<think>", "<|begin_of_thought|>")
_CLOSE = ("</think>", "<|end_of_thought|>", "<|begin_of_solution|>")
# Rows whose label is wrong and that no audit covers, named in issue 10 item 2.
CORRECTIONS = {
    "skythought:Sky-T1-math-correct-5K-27B:test/geometry/538.json:0":
        (True, "ends 'Therefore, the coordinates of point p are (8, -2)', the gold; labelled false by the source"),
}
_SOURCES = {"NovaSky-AI/SkyThought": "A SkyThought (Sky-T1, Qwen harness labels)",
            "bkubwimana/tegra_monitor": "B tegra (DeepScaleR-1.5B, token budgets)"}


def unfinished_thinking(response: str) -> bool:
    """Written here, apart from the grader: the scoring rule must not lean on the code it scores."""
    opened = max(response.rfind(o) for o in _OPEN)
    return opened >= 0 and opened > max(response.rfind(c) for c in _CLOSE)


def expected_verdict(row: dict) -> bool:
    if unfinished_thinking(row["response"]):
        return False
    if row["id"] in CORRECTIONS:
        return CORRECTIONS[row["id"]][0]
    return row["audit"]["expected"] if row["audit"] else row["label"]


def section_reasoning(data: Path, out: list[str], console, mv_parse_verify, table, timeout_s: float) -> None:
    rows = [json.loads(line) for line in (data / "reasoning_outputs.jsonl").open()]
    pairs = [(r["gold"], r["response"]) for r in rows]
    ours = grade_many(pairs, workers=2, progress=False, timeout_s=timeout_s)
    reward = grade_many(pairs, workers=2, mode="reward", progress=False, timeout_s=timeout_s)
    mv = [mv_parse_verify("$" + g + "$", resp) for g, resp in pairs]
    expected = [expected_verdict(r) for r in rows]
    columns = ("rows", "ours", "mv", "reward", "ours_unfinished", "mv_unfinished")
    by_source: dict[str, Counter] = {}
    for r, o, w, m, e in zip(rows, ours, reward, mv, expected):
        unfinished = unfinished_thinking(r["response"])
        t = by_source.setdefault(_SOURCES.get(r["source_repo"], r["source_repo"]), Counter())
        t.update(rows=1, ours=o.correct == e, mv=m == e, reward=w.correct == e,
                 ours_unfinished=unfinished and o.correct, mv_unfinished=unfinished and m)
    body = [[name, *(t[c] for c in columns)] for name, t in sorted(by_source.items())]
    body.append(["all", *(sum(t[c] for t in by_source.values()) for c in columns)])
    table(console, out, "6. Reasoning-model outputs (665): verdicts matching the expected verdict",
          ["source", "rows", "ours (eval)", "Math-Verify 0.9.0", "ours (reward)", "unfinished credited: ours",
           "unfinished credited: MV"], body)
    rules = Counter(o.rule for o in ours)
    out.append("Which extraction rule decided our eval verdicts: "
               + ", ".join(f"{k} {v}" for k, v in rules.most_common()) + ".\n")
    out.append("Rows where ours (eval) and Math-Verify disagree, or either misses the expected verdict "
               "(id, gold, expected, ours with its rule and extracted answer, MV, who is right):\n")
    for r, o, m, e in zip(rows, ours, mv, expected):
        if o.correct == m == e:
            continue
        right = "both wrong" if o.correct != e and m != e else ("ours" if o.correct == e else "Math-Verify")
        note = CORRECTIONS.get(r["id"], (None, ""))[1] or (r["audit"] or {}).get("note", "")
        if unfinished_thinking(r["response"]):
            note = "cut off inside unfinished thinking"
        out.append(f"- `{r['id']}` gold=`{r['gold']}` expected={e} ours={o.correct} ({o.rule}: "
                   f"`{str(o.extracted)[:40]}`) MV={m} -> right: {right}. {note[:160]}".replace("\n", " "))
    out.append("")
