"""The code grader's pure parts: LCB's output comparison, code extraction, the in-sandbox program rewriting,
the return-value encoding, and the packed-test decoder with its refusing unpickler. No sandbox, no network.

Run: pytest -q tests/test_code_grader_compare.py
"""
import base64
import json
import pickle
import zlib

import pytest

from conftest import shared_data
from graders.code.lcb_compare import compare_return, compare_stdout, decode_value, extract_code
from graders.code.lcb_harness import PRELUDE, encode_value, inline_main_guard, wrap_stdin_program
from graders.code.lcb_tests import (RefusingUnpickler, decode_private_test_cases, reference_from_lcb_row,
                               reference_from_sandboxfusion_row, unpack)


# (expected, actual, LCB verdict). Rules from LCB testing_util.grade_stdio; float cases from
# LiveCodeBench#129/#133 (no tolerance), case from ERRATA-style Yes/YES mismatches.
STDOUT_CASES = [
    ("3\n", "3", True),                       # outer whitespace stripped
    ("1 2\n3\n", "  1 2  \n 3 \n\n", True),    # per-line strip, trailing blank lines stripped
    ("1\n2\n", "1\n\n2\n", False),             # inner blank line: 3 lines vs 2
    ("1\n2\n", "1 2\n", False),                # same tokens, different line count
    ("1.0\n", "1\n", True),                    # Decimal('1.0') == Decimal('1')
    ("0.5\n", "0.50\n", True),
    ("0.3333333333\n", "0.333333\n", False),   # no tolerance (LiveCodeBench#129)
    ("1e3\n", "1000\n", True),                 # Decimal parses exponents
    ("Yes\n", "YES\n", False),                 # case-sensitive
    ("1 2\n", "1  2\n", True),                 # token split on any whitespace
    ("1 2\n", "1 2 3\n", False),
    ("a b\n", "a  b\n", False),                # non-numeric tokens: exact line match only
    ("abc\n", "abc\r\n", True),                # \r stripped with the line
    ("", "", True),
    ("5\n", "", False),
    ("NaN\n", "NaN\n", True),                  # exact string match wins before Decimal
    ("sNaN\n", "sNaN \n", True),
    ("1\n", "sNaN\n", False),                  # Decimal comparison with sNaN raises: a failure, not a crash
]


@pytest.mark.parametrize("expected,actual,verdict", STDOUT_CASES)
def test_lcb_stdout_comparison(expected, actual, verdict):
    assert compare_stdout(expected=expected, actual=actual)[0] is verdict


@pytest.mark.parametrize("expected,actual,tol,verdict", [
    ("0.3333333333\n", "0.333333\n", 1e-6, True),
    ("0.3333333333\n", "0.3333\n", 1e-6, False),
    ("1000000.5\n", "1000000.4\n", 1e-6, True),    # relative: tol * max(1, |expected|)
    ("Yes\n", "YES\n", 1e-6, False),               # tolerance never touches words
    ("3000000000000\n", "3000000000001\n", 1e-6, False),  # an expected int is exact (issue 20)
    ("3\n", "3.0000001\n", 1e-6, False),          # and a near float is not that int
    ("3\n", "3.0\n", 1e-6, True),                 # LCB's own Decimal equality still holds
    ("1e5\n", "100000.01\n", 1e-6, True),         # written as a float: tolerance
    ("1e999999999\n", "1\n", 1e-6, False),        # an exponent overflow is a mismatch, not a crash
])
def test_float_tolerance_option(expected, actual, tol, verdict):
    assert compare_stdout(expected=expected, actual=actual, float_tolerance=tol)[0] is verdict


# (response, extracted). LCB extraction_utils.extract_code: lines *containing* ``` ; the last two win.
EXTRACTION_CASES = [
    ("```python\nprint(1)\n```", "print(1)"),
    ("text\n```python\na=1\n```\nmore\n```py\nb=2\n```\n", "b=2"),
    ("<think>\n```python\nx\n```\n</think>\nanswer", "x"),                 # <think> is not stripped
    ("no code here", ""),
    ("```python\nprint(1)", ""),                                           # one fence: nothing
    ("Here: ```python\nprint(2)\n``` done", "print(2)"),                   # fence inside a line counts
    ("```\n```", ""),
    ("```python\nprint('```')\n```", ""),                                  # a ``` in code ends the block
]


@pytest.mark.parametrize("response,extracted", EXTRACTION_CASES)
def test_lcb_extraction(response, extracted):
    assert extract_code(response) == extracted


def test_prelude_is_lcbs_import_string():
    # LiveCodeBench lcb_runner/evaluation/testing_util.py import_string (checked at 8610ffb2 and 15808c76)
    assert PRELUDE.startswith("from string import *\nfrom re import *\nfrom datetime import *\n")
    assert "from builtins import *\nfrom typing import *\nimport string\nimport re\n" in PRELUDE
    assert PRELUDE.endswith("import io\nimport sys\nimport json\nsys.setrecursionlimit(50000)\n")
    assert PRELUDE.count("\n") == 18 + 16 + 1


def test_wrapping_hoists_imports_and_wraps_the_rest():
    code = "import sys\nfrom math import gcd\nx = 1\nprint(gcd(x, 2))\n"
    wrapped = wrap_stdin_program(code)
    assert wrapped.startswith(PRELUDE)
    body = wrapped[len(PRELUDE):]
    assert body.index("import sys") < body.index("def wrapped_function():")
    assert "    x = 1\n    print(gcd(x, 2))" in body


def test_main_guard_inlined_only_when_last():
    code = "def main():\n    print(1)\nif __name__ == '__main__':\n    main()\n"
    assert "__name__" not in inline_main_guard(code)
    not_last = code + "print(2)\n"
    assert inline_main_guard(not_last) == not_last
    reversed_test = "def main():\n    pass\nif '__main__' == __name__:\n    main()\n"
    assert inline_main_guard(reversed_test) == reversed_test


def test_unparsable_code_passes_through():
    assert wrap_stdin_program("def (:\n") == "def (:\n"


@pytest.mark.parametrize("value,expected,verdict", [
    ((1, 2), [1, 2], True),             # top-level tuple -> list (LCB)
    ([(1, 2)], [[1, 2]], False),        # nested tuple stays a tuple: [(1, 2)] != [[1, 2]]
    (1.0, 1, True),
    (True, 1, True),                    # Python ==
    ({1: 2}, {"1": 2}, False),          # JSON keys are strings
    ({"a": [1]}, {"a": [1]}, True),
    ({1, 2}, [1, 2], False),
    ("abc", "abc", True),
    (None, None, True),
    (object(), None, False),            # opaque: equal to nothing
])
def test_return_value_roundtrip_and_equality(value, expected, verdict):
    encoded = json.loads(json.dumps(encode_value(value)))
    assert compare_return(expected_json=json.dumps(expected), actual_encoded=encoded)[0] is verdict


def test_decode_value_restores_container_types():
    value = [(1, "a"), {2: frozenset({3})}, {4.5}]
    assert decode_value(json.loads(json.dumps(encode_value(value)))) == value


class _Boom:
    def __reduce__(self):
        return (eval, ("1/0",))


def _pack(obj) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(obj))).decode()


def test_unpickler_refuses_every_global():
    with pytest.raises(ValueError, match="refused global builtins.eval"):
        unpack(_pack(_Boom()))
    with pytest.raises(pickle.UnpicklingError):
        RefusingUnpickler(__import__("io").BytesIO(pickle.dumps(_Boom))).load()


def test_unpack_rejects_garbage_with_a_clear_error():
    with pytest.raises(ValueError, match="base64\\+zlib"):
        unpack("not base64 at all!!")


def test_private_tests_json_or_packed():
    cases = [{"input": "1\n", "output": "2\n", "testtype": "stdin"}]
    assert decode_private_test_cases(json.dumps(cases)) == cases
    assert decode_private_test_cases(_pack(json.dumps(cases))) == cases


def test_reference_from_lcb_row_public_then_private():
    row = {"question_id": "x", "public_test_cases": json.dumps([{"input": "a", "output": "b", "testtype": "functional"}]),
           "private_test_cases": _pack(json.dumps([{"input": "c", "output": "d", "testtype": "functional"}])),
           "metadata": json.dumps({"func_name": "solve"})}
    ref = reference_from_lcb_row(row)
    assert [t.input for t in ref.tests] == ["a", "c"] and ref.fn_name == "solve"


def test_sandboxfusion_rows_decode():
    held_out = shared_data("code_grader_heldout")   # ../shared beside the checkout
    rows = [json.loads(line) for line in (held_out / "sandboxfusion_code_eval_live_code_bench_v1.jsonl").open()]
    refs = [reference_from_sandboxfusion_row(r) for r in rows]
    assert [r.fn_name for r in refs] == [None, "countSeniors", None]
    assert all(len(r.tests) >= 5 for r in refs)
