"""Turning LiveCodeBench test data into a `CodeReference`, including the packed private tests.

Upstream `livecodebench/code_generation_lite` rows hold `public_test_cases` (a JSON list of
{input, output, testtype}) and `private_test_cases`, which LCB first tries as JSON and otherwise decodes as
base64 -> zlib -> pickle -> JSON string. SandboxFusion's LCB sample rows pack {"input_output": "<json>"} the
same way. Pickle runs code on load, and these payloads come from a download: `RefusingUnpickler` refuses
every global (a pickled str/dict/list needs none), and the decompressed size is capped.
"""
from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import zlib
from typing import Mapping

from graders.types import CodeReference, CodeTest

MAX_UNPACKED_BYTES = 1 << 30


class RefusingUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"refused global {module}.{name}: test data needs no globals")


def unpack(packed: str) -> object:
    """base64 -> zlib -> pickle, with no globals and at most MAX_UNPACKED_BYTES decompressed."""
    try:
        compressed = base64.b64decode(packed.encode("utf-8"), validate=False)
        inflater = zlib.decompressobj()
        raw = inflater.decompress(compressed, MAX_UNPACKED_BYTES)
    except (binascii.Error, zlib.error) as exc:
        raise ValueError(f"packed tests are not base64+zlib: {exc}") from None
    if inflater.unconsumed_tail:
        raise ValueError(f"packed tests inflate past {MAX_UNPACKED_BYTES} bytes; raise MAX_UNPACKED_BYTES "
                         "if this dataset is trusted to be that large")
    try:
        return RefusingUnpickler(io.BytesIO(raw)).load()
    except (pickle.UnpicklingError, EOFError, ValueError, KeyError) as exc:  # KeyError: bad memo reference
        raise ValueError(f"packed tests do not unpickle safely: {exc}") from None


def decode_private_test_cases(field: str) -> list[dict]:
    """LCB's rule: JSON if it parses, else the packed form holding a JSON string."""
    try:
        return json.loads(field)
    except ValueError:
        pass
    inner = unpack(field)
    if not isinstance(inner, str):
        raise ValueError(f"packed private tests hold {type(inner).__name__}, expected a JSON string")
    return json.loads(inner)


def _as_tests(cases: list[dict], where: str) -> tuple[CodeTest, ...]:
    try:
        return tuple(CodeTest(input=c["input"], output=c["output"]) for c in cases)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{where}: each test needs 'input' and 'output' strings ({exc!r})") from None


def reference_from_lcb_row(row: Mapping) -> CodeReference:
    """One `code_generation_lite` row -> public tests, then private tests, and metadata's func_name."""
    where = f"LCB row {row.get('question_id', '?')}"
    public = json.loads(row["public_test_cases"])
    private = decode_private_test_cases(row["private_test_cases"]) if row.get("private_test_cases") else []
    metadata = row.get("metadata") or "{}"
    metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
    return CodeReference(tests=_as_tests(public, where) + _as_tests(private, where),
                         fn_name=metadata.get("func_name"), public=len(public))


def reference_from_input_output(input_output: str | Mapping) -> CodeReference:
    """LCB's `get_evaluation_sample()` form: {"inputs": [...], "outputs": [...], "fn_name": ...}; an optional
    "public": n says the first n tests are the ones shown in the prompt."""
    io_spec = json.loads(input_output) if isinstance(input_output, str) else input_output
    inputs, outputs = io_spec["inputs"], io_spec["outputs"]
    if len(inputs) != len(outputs):
        raise ValueError(f"input_output has {len(inputs)} inputs but {len(outputs)} outputs")
    public = io_spec.get("public", 0)
    if not isinstance(public, int) or isinstance(public, bool) or not 0 <= public <= len(inputs):
        raise ValueError(f"input_output's public must be a test count from 0 to {len(inputs)}, got {public!r}")
    return CodeReference(tests=tuple(CodeTest(input=i, output=o) for i, o in zip(inputs, outputs)),
                         fn_name=io_spec.get("fn_name"), public=public)


def reference_from_sandboxfusion_row(row: Mapping) -> CodeReference:
    """SandboxFusion `code_eval_live_code_bench_v1` row: `test` packs {"input_output": "<json>"}."""
    inner = unpack(row["test"])
    if not isinstance(inner, dict) or "input_output" not in inner:
        raise ValueError(f"SandboxFusion row {row.get('id', '?')}: packed test is not {{'input_output': ...}}")
    return reference_from_input_output(inner["input_output"])
