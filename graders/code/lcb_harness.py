"""LiveCodeBench's test runner, as a program that runs *inside* the sandbox (standard library only).

`graders/code/__init__.py` hands this file's source to `Sandbox.run(..., session=True)`: one process answers
a sequence of steps, each one JSON line on stdin answered by one JSON line on stdout, and the sandbox writes
step k only after step k-1 was answered, timing and killing each step itself (no `signal.alarm` here: a program
cannot stretch or forge its time). Nothing derived from the expected outputs is ever sent here. All tests
run in this one process, in order, as in LCB's judge (`lcb_runner/evaluation/testing_util.py`, the version
that produced the official o1-mini verdicts), so state carries between tests exactly as there: module
globals, the one shared `Solution()` instance, the recursion limit. Reproduced:
  * stdin programs: `if __name__ == '__main__':` inlined when it is the last statement, imports hoisted, the
    rest wrapped in `def wrapped_function()`, the import prelude in front (`sys.setrecursionlimit(50000)`);
  * per test: stdout captured in a StringIO (no `.buffer`; its `close` is LCB's
    one-argument lambda), `SystemExit` swallowed, and the judge's stacked `unittest.mock.patch`es entered
    in the judge's order: `sys.stdin.read/readlines/readline` are patched on the *previous* stdin object
    (an empty devnull file, like a multiprocessing child's), then `sys.stdin` becomes a plain
    `StringIO(input)`, then `builtins.open` a `mock_open`. So `input()`, `sys.stdin.readline()`,
    `sys.stdin.read()` and `for line in sys.stdin` see ordinary file semantics on the test input, while
    `from sys import stdin` bound at import time sees the patched lambdas (lines without "\\n").
    `open` itself is shadowed by the prelude's `from io import *`, so `open(0)` reads the judge's real
    fd 0, which blocked in the official run (all 4 such o1-mini samples are TLE): fd 0 here is an empty
    pipe that never closes;
  * functional programs: prelude + code exec'd as module `tmp_sol`; `Solution()` once if the text
    contains "class Solution"; each input line `json.loads`-ed into one positional argument;
  * the judge's process: numpy already imported (only when the code names it), then its hygiene: `quit`,
    `help`, `os.kill/system/remove/...`, `shutil.rmtree/...`, `subprocess.Popen` set to None, `int`
    string conversion up to 50000 digits.
Not here: comparison. Outputs go back to the host, which compares (the program cannot grade itself).
Return values travel in a tagged JSON encoding that keeps list/tuple/set/dict and int/float apart.

Steps: (1) {"code", "fn_name", "stdout_buffer", "out_cap"} -> {"ready": true} once set up, before any
program code runs; (2) {} -> {"compile": ok, "error"}; (3) one per test, the input as a JSON string ->
{"status": ok|runtime_error|memory, "out", "truncated", "error"}, a record longer than `out_cap` (a constant
of the grader, not of the answers) sent as truncated. After a failed compile or a non-ok test (with
`stop_after_failure`) the process exits. The program's own writes to fd 1 go to /dev/null, as LCB's went to
the judge's own stdout. Where LCB's alarm raised inside the program, the sandbox's kill is a TLE here even
if the program catches every exception (the verdicts this changes: results/bench_code_changes.md).
"""
import ast
import io
import json
import os
import sys
import types
from contextlib import ExitStack

_STAR_IMPORTS = ("string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random",
                 "statistics", "itertools", "functools", "operator", "io", "sys", "json", "builtins", "typing")
PRELUDE = ("".join(f"from {m} import *\n" for m in _STAR_IMPORTS)
           + "".join(f"import {m}\n" for m in _STAR_IMPORTS[:-2])
           + "sys.setrecursionlimit(50000)\n")
ERROR_CHARS = 300
ENCODE_DEPTH = 200
_held_fds = []   # the write end of fd 0's pipe, kept open so reads on fd 0 block
_mock_open = []  # unittest.mock.mock_open, imported only for code that may reach builtins.open (~50 ms)


def inline_main_guard(code):
    try:
        tree = ast.parse(code)
        last = tree.body[-1]
        if isinstance(last, ast.If) and ast.unparse(last.test).strip() == "__name__ == '__main__'":
            code = ast.unparse(tree.body[:-1]) + "\n" + ast.unparse(last.body)
    except BaseException:  # the judge uses a bare except here: any failure keeps the code as it was
        pass
    return code


def wrap_stdin_program(code):
    try:
        tree = ast.parse(code)
        imports = [s for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom))]
        others = [s for s in tree.body if not isinstance(s, (ast.Import, ast.ImportFrom))]
        func = ast.FunctionDef(name="wrapped_function", args=ast.arguments(
            posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
            body=others, decorator_list=[], lineno=-1)
        return PRELUDE + "\n" + ast.unparse(imports) + "\n" + ast.unparse(func)
    except Exception:  # unparsable: the judge passes it on unchanged and compilation fails
        return code


def compile_entry(code, fn_name):
    """Exec the program as module `tmp_sol`; return its entry point."""
    module = types.ModuleType("tmp_sol", "")
    exec(code, module.__dict__)
    owner = module.Solution() if "class Solution" in code else module
    if not hasattr(owner, fn_name):
        raise AttributeError(f"entry point {fn_name!r} not found")
    return getattr(owner, fn_name)


class _BufferedStringIO(io.StringIO):
    """Captured stdout with a .buffer (CodeOptions.stdout_buffer; not in LCB)."""

    class _Bytes:
        def __init__(self, text):
            self._text = text

        def write(self, data):
            self._text.write(bytes(data).decode("utf-8", "replace"))
            return len(data)

        def flush(self):
            pass

    def __init__(self):
        super().__init__()
        self.buffer = self._Bytes(self)


def _failure(exc):
    return "memory" if isinstance(exc, MemoryError) else "runtime_error"


class _Patch:
    """What `unittest.mock.patch(target, new)` does to one attribute: the owner is resolved on entry, and on
    exit the attribute is restored if it was the owner's own, else deleted (uncovering the class's)."""

    def __init__(self, owner, name, value):
        self.owner, self.name, self.value = owner, name, value

    def __enter__(self):
        self.target = self.owner()
        self.own = self.name in getattr(self.target, "__dict__", {})
        self.original = getattr(self.target, self.name)  # AttributeError here, as in patch
        setattr(self.target, self.name, self.value)

    def __exit__(self, *exc):
        if self.own:
            setattr(self.target, self.name, self.original)
        else:
            delattr(self.target, self.name)


def _fake_open(test_input):
    """The judge's `mock_open(read_data=input)`; for code that never names open/builtins/numpy it is built
    on first call instead (importing unittest.mock then), which practically never happens."""
    if _mock_open:
        return _mock_open[0](read_data=test_input)
    built = []

    def lazy_mock_open(*args, **kwargs):
        if not built:
            from unittest.mock import mock_open
            built.append(mock_open(read_data=test_input))
        return built[0](*args, **kwargs)
    return lazy_mock_open


def run_stdin_test(method, test_input, stdout_buffer):
    import builtins
    lines = iter(test_input.split("\n"))
    stdin = lambda: sys.stdin  # noqa: E731
    patches = (  # entered innermost-decorator first, as the judge's stacked @patch decorators are
        _Patch(stdin, "read", lambda *a: test_input),
        _Patch(stdin, "readlines", lambda *a: test_input.split("\n")),
        _Patch(stdin, "readline", lambda *a: next(lines)),
        _Patch(lambda: sys, "stdin", io.StringIO(test_input)),
        _Patch(lambda: builtins, "open", _fake_open(test_input)),
    )
    captured = _BufferedStringIO() if stdout_buffer else io.StringIO()
    captured.close = lambda x: 1
    saved, sys.stdout = sys.stdout, captured
    try:
        with ExitStack() as stack:
            for p in patches:
                stack.enter_context(p)
            try:
                method()
            except SystemExit:
                pass
        return {"status": "ok", "out": captured.getvalue()}
    except Exception as exc:
        return {"status": _failure(exc), "error": repr(exc)[:ERROR_CHARS]}
    finally:
        sys.stdout = saved


def run_call_test(method, test_input):
    try:
        args = [json.loads(line) for line in test_input.split("\n")]
        return {"status": "ok", "out": encode_value(method(*args))}
    except Exception as exc:
        return {"status": _failure(exc), "error": repr(exc)[:ERROR_CHARS]}


def encode_value(value, depth=0):
    """JSON that keeps what `==` sees: containers tagged (L list, T tuple, D dict, S set, F frozenset),
    JSON scalars as themselves, numpy scalars as their Python value, anything else opaque (O)."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if depth > ENCODE_DEPTH:
        return {"O": "<nested too deep>"}
    enc = lambda v: encode_value(v, depth + 1)  # noqa: E731
    if isinstance(value, list):
        return {"L": [enc(v) for v in value]}
    if isinstance(value, tuple):
        return {"T": [enc(v) for v in value]}
    if isinstance(value, dict):
        return {"D": [[enc(k), enc(v)] for k, v in value.items()]}
    if isinstance(value, (set, frozenset)):
        return {"F" if isinstance(value, frozenset) else "S": [enc(v) for v in value]}
    if type(value).__module__ == "numpy" and getattr(value, "shape", None) == ():
        return enc(value.item())
    for kind in (bool, int, float, str):  # subclasses compare as their base value
        if isinstance(value, kind):
            return kind(value)
    return {"O": repr(value)[:ERROR_CHARS]}


def _encode(record, cap):
    """One compact line (the host reads {"status":"ok","out":"..."} as one string); a record over the cap
    (a constant of the grader) goes as truncated, without its output."""
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    if len(line) > cap:
        line = json.dumps({"status": record["status"], "out": None, "truncated": True}, separators=(",", ":"))
    return line + "\n"


def _detach_std_streams():
    """fd 1 -> /dev/null, fd 0 -> an empty pipe that stays open, sys.stdin -> a devnull file."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    read_end, write_end = os.pipe()
    os.dup2(read_end, 0)
    _held_fds.append(write_end)
    sys.stdin = open(os.devnull)


def _preload_like_the_judge(code):
    """The judge's process imported these before disabling os functions; numpy's import needs some of
    them. numpy only when the code names it (it costs ~0.1 s)."""
    import decimal, enum, faulthandler, platform  # noqa: E401,F401
    if any(word in code for word in ("open", "builtins", "numpy")):  # `open` itself is io.open (prelude)
        from unittest.mock import mock_open
        _mock_open.append(mock_open)
    if "numpy" in code:
        try:
            import numpy  # noqa: F401
        except ImportError:  # then the program's own import fails, as it would in a judge without numpy
            pass


def _disable_like_the_judge():
    import builtins
    import shutil
    import subprocess
    builtins.quit = None
    builtins.help = None
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in ("kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork",
                 "forkpty", "killpg", "rename", "renames", "truncate", "replace", "unlink", "fchmod",
                 "fchown", "chmod", "chown", "chroot", "lchflags", "lchmod", "lchown", "getcwd", "chdir"):
        setattr(os, name, None)
    shutil.rmtree = shutil.move = shutil.chown = None
    subprocess.Popen = None
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None


def run(setup, steps, emit):
    fn_name = setup.get("fn_name")
    emit({"ready": True})
    next(steps)  # the compile step: the sandbox's clock for it starts now
    try:
        if fn_name is None:
            method = compile_entry(wrap_stdin_program(inline_main_guard(setup["code"])), "wrapped_function")
        else:
            method = compile_entry(PRELUDE + "\n\n" + setup["code"], fn_name)
    except BaseException as exc:  # SystemExit at import time ends the judge's child too: a failure
        emit({"compile": False, "error": repr(exc)[:ERROR_CHARS]})
        return
    emit({"compile": True})
    for test_input in steps:
        if fn_name is None:
            record = run_stdin_test(method, test_input, setup.get("stdout_buffer", False))
        else:
            record = run_call_test(method, test_input)
        emit(record)
        if record["status"] != "ok" and setup.get("stop_after_failure", True):
            return


def main():
    control = os.fdopen(os.dup(0), "rb")  # the sandbox's steps; fd 0 itself becomes an empty pipe
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", errors="surrogateescape")
    setup = json.loads(control.readline())
    cap = setup["out_cap"]

    def emit(record):
        channel.write(_encode(record, cap))
        channel.flush()

    def steps():
        for line in control:  # one line per step, written only after the previous answer
            yield json.loads(line)

    _detach_std_streams()
    sys.set_int_max_str_digits(50000)
    _preload_like_the_judge(setup["code"])
    _disable_like_the_judge()
    run(setup, steps(), emit)


if __name__ == "__main__":
    main()
