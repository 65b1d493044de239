"""Host-side bounds of the code grader's comparison (issue 20): what a program prints can cost the host no
more than the expected output allows, and the float tolerance is for floats only. No sandbox, no network.

Run: pytest -q tests/test_code_grader_bounds.py
"""
import json
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graders.code import _larger_than_any_equal
from graders.code.lcb_compare import compare_return, compare_stdout
from graders.code.lcb_harness import _encode, encode_value


@pytest.mark.parametrize("actual,expected,verdict", [
    (3000000000001, 3000000000000, False), (3.0000001, 3, False), (3.0, 3, True), (True, 1, True),
    ([1.5000001, 2], [1.5, 2], True), ([1.5, 2.0000001], [1.5, 2], False), (10 ** 400, 1.5, False),
])
def test_float_tolerance_for_return_values_is_for_expected_floats_only(actual, expected, verdict):
    encoded = json.loads(json.dumps(encode_value(actual)))
    same, _ = compare_return(expected_json=json.dumps(expected), actual_encoded=encoded, float_tolerance=1e-6)
    assert same is verdict


def test_a_line_of_millions_of_tokens_costs_no_more_than_the_line():
    line = "1 " * 3_500_000
    tracemalloc.start()
    try:
        assert compare_stdout(expected="5\n", actual=line)[0] is False
        assert compare_stdout(expected="\n".join("7" * 10 for _ in range(3)), actual="\n" * 3_500_000)[0] is False
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * len(line), peak  # the line and its stripped copy; not one Decimal or string per token


def _equal_variants(value):
    """Values == `value` that encode as large as any can: 0/1 as False/True, ints as floats, lists as tuples."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return bool(value) if value in (0, 1) else float(value) if abs(value) < 2 ** 53 else value
    if isinstance(value, float):
        return value
    if isinstance(value, list):
        return [_equal_variants(v) for v in value]
    return {k: _equal_variants(v) for k, v in value.items()}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10 ** 20, 10 ** 20) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.booleans())
def test_an_equal_return_value_is_never_too_large_to_parse(expected, as_tuple):
    actual = _equal_variants(expected)
    if as_tuple and isinstance(actual, list):
        actual = tuple(actual)  # LCB accepts a top-level tuple for a list
    line = _encode({"status": "ok", "out": encode_value(actual)}, 1 << 30)
    expected_json = json.dumps(expected, separators=(",", ":"), ensure_ascii=False)  # its shortest text
    assert not _larger_than_any_equal(line, expected_json), (line, expected_json)
    assert compare_return(expected_json=expected_json, actual_encoded=json.loads(line)["out"])[0]
