"""A judged program forging the harness's protocol records (it shares the harness's process, so it can write
to its channel): every forgery must end as the program's own failure (score 0), never as an
exception in the host grader, which a reward pool would report as an error and mask. Found by the
reward-hacking probes (graders/rewards/probes.py); LocalSandbox, as test_code_grader.py.

Run: python -m pytest -q tests/test_code_forged_records.py   (about 15 s on 2 cores)
"""
import pytest

from graders.code import judge
from graders.types import CodeReference, CodeTest
from sandboxes import LocalSandbox

REFERENCE = CodeReference(tests=tuple(CodeTest(f"{i} {i + 1}\n", f"{2 * i + 1}\n") for i in range(3)))


def forge(line: bytes) -> str:
    """Writes the line to every descriptor the harness may hold (its channel's number is not fixed), then ends."""
    return (f"import os\nfor fd in range(3, 10):\n    try:\n        os.write(fd, {line!r} + b'\\n')\n"
            "    except OSError:\n        pass\nos._exit(0)")


# (name, the bytes the program writes as one record line); the dict status and the deep nesting crashed the
# host grader (TypeError, RecursionError) before the record check in graders/code/__init__.py:_record.
FORGERIES = [
    ("truncated_a_string", b'{"status": "ok", "out": "1\\n", "truncated": "no"}'),
    ("error_a_list", b'{"status": "runtime_error", "error": [1]}'),
    ("status_a_dict", b'{"status": {"a": 1}, "out": "1\\n"}'),
    ("nested_200k_deep", b"[" * 200_000 + b"]" * 200_000),
    ("ok_with_a_guessed_output", b'{"status": "ok", "out": "3\\n"}'),
]


@pytest.fixture(scope="module")
def sandbox():
    return LocalSandbox(workers=2)


@pytest.mark.parametrize("name,line", FORGERIES, ids=[f[0] for f in FORGERIES])
def test_forged_record_is_the_programs_failure(sandbox, name, line):
    verdict = judge(reference=REFERENCE, code=forge(line), mode="all_tests", sandbox=sandbox)
    assert (verdict.reason, verdict.score) == ("failed", 0.0), verdict
