"""Build the bundled LiveCodeBench sample and its recorded o1-mini generations from shared/data/code_grader_heldout.

    python benchmarks/data/build_lcb_sample.py /work/shared/data/code_grader_heldout

Writes `lcb_sample.jsonl` (rows in the upstream `livecodebench/code_generation_lite` schema) and
`lcb_sample_o1mini_generations.jsonl` (replay rows: the official o1-mini output for each problem, with the
official verdict kept as `official_graded`). Selection, deterministic: from the MiMo v5 window (279 problems),
per (difficulty, official verdict, platform) the first 2 problems by question_id;
plus the 3 SandboxFusion problems, which come with their full test sets. The window problems carry only their
public tests (private tests are not available here), so `private_test_cases` is an empty list packed the
upstream way (base64 -> zlib -> pickle -> JSON) to keep the decoding path exercised.
"""
from __future__ import annotations

import base64
import json
import pickle
import re
import sys
import zlib
from pathlib import Path

OUT = Path(__file__).parent
PER_CELL = 2   # per (difficulty, official verdict, platform)


def pack(tests: list[dict]) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode("ascii")


def upstream_row(sub: dict, public: list[dict], private: list[dict]) -> dict:
    name = re.search(r"def\s+(\w+)\s*\(\s*self", sub["starter_code"] or "")
    return {
        "question_title": sub["question_title"], "question_content": sub["question_content"],
        "platform": sub["platform"], "question_id": sub["question_id"], "contest_id": sub["contest_id"],
        "contest_date": sub["contest_date"], "starter_code": sub["starter_code"], "difficulty": sub["difficulty"],
        "public_test_cases": json.dumps(public), "private_test_cases": pack(private),
        "metadata": json.dumps({"func_name": name.group(1)} if name else {}),
    }


def sandboxfusion_tests(row: dict) -> list[dict]:
    # SandboxFusion packs {"input_output": json} with the same base64/zlib/pickle; its data is trusted here
    io = json.loads(pickle.loads(zlib.decompress(base64.b64decode(row["test"])))["input_output"])
    kind = "functional" if io.get("fn_name") else "stdin"
    return [{"input": i, "output": o, "testtype": kind} for i, o in zip(io["inputs"], io["outputs"])]


def main(src: Path) -> None:
    subs = json.loads((src / "lcb_submissions_o1-mini-2024-09-12_n1_eval_all.json").read_text())
    public = {p["problem"].strip(): p["tests"]
              for p in json.loads((src / "rllm_lcb_v5_879_public_tests.json").read_text())}
    window = sorted((s for s in subs if "2024-08-01" <= s["contest_date"][:10] < "2025-02-01"),
                    key=lambda s: s["question_id"])
    chosen = []
    for difficulty in ("easy", "medium", "hard"):
        for passed in (True, False):
            for platform in ("atcoder", "leetcode"):
                cell = [s for s in window if (s["difficulty"], s["graded_list"][0], s["platform"]) ==
                        (difficulty, passed, platform)]
                chosen += [(s, public[s["question_content"].strip()], []) for s in cell[:PER_CELL]]
    by_id = {s["question_id"]: s for s in subs}
    for line in (src / "sandboxfusion_code_eval_live_code_bench_v1.jsonl").read_text().splitlines():
        row = json.loads(line)
        sub = by_id[json.loads(row["labels"])["task_id"].split("/")[1]]
        pub = public[sub["question_content"].strip()]
        chosen.append((sub, pub, [t for t in sandboxfusion_tests(row) if t not in pub]))
    with open(OUT / "lcb_sample.jsonl", "w") as f:
        for sub, pub, private in chosen:
            f.write(json.dumps(upstream_row(sub, pub, private)) + "\n")
    with open(OUT / "lcb_sample_o1mini_generations.jsonl", "w") as f:
        for sub, _, _ in chosen:
            f.write(json.dumps({"problem_id": f"lcb/{sub['question_id']}", "sample_index": 0,
                                "text": sub["output_list"][0], "official_graded": sub["graded_list"][0]}) + "\n")
    print(f"wrote {len(chosen)} problems")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
