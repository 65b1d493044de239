"""LiveCodeBench's test runner, as a program that runs *inside* the sandbox (standard library only).

`graders/code/__init__.py` hands this file's source to `Sandbox.run` with one stdin: a JSON payload holding the
extracted code, the test inputs (not the expected outputs), the per-test timeout and output caps. All tests
run in this one process, in order, as in LCB's judge (`lcb_runner/evaluation/testing_util.py`, the version
that produced the official o1-mini verdicts), so state carries between tests exactly as there: module
globals, the one shared `Solution()` instance, the recursion limit. Reproduced:
  * stdin programs: `if __name__ == '__main__':` inlined when it is the last statement, imports hoisted, the
    rest wrapped in `def wrapped_function()`, the import prelude in front (`sys.setrecursionlimit(50000)`);
  * per test: `signal.alarm(6)`, stdout captured in a StringIO (no `.buffer`; its `close` is LCB's
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

Protocol: JSON lines on the original stdout: {"ready"}, {"compile": ok, "error"}, then one record per test
{"i", "status": ok|runtime_error|timeout|memory, "out", "truncated", "error", "time"}. The program's own
writes to fd 1 go to /dev/null, as LCB's went to the judge's own stdout.
"""
import ast
import io
import json
import os
import signal
import sys
import time
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


class TimeoutException(Exception):
    """Raised by the alarm; the judge recognises a TLE by this name in repr(exc)."""


def _on_alarm(signum, frame):
    raise TimeoutException


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


def compile_entry(code, fn_name, timeout):
    """Exec the program as module `tmp_sol` under the alarm; return its entry point."""
    signal.alarm(timeout)
    try:
        module = types.ModuleType("tmp_sol", "")
        exec(code, module.__dict__)
        owner = module.Solution() if "class Solution" in code else module
        if not hasattr(owner, fn_name):
            raise AttributeError(f"entry point {fn_name!r} not found")
        return getattr(owner, fn_name)
    finally:
        signal.alarm(0)


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
    if "timeoutexception" in repr(exc).lower():
        return "timeout"
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


def run_stdin_test(method, test_input, timeout, stdout_buffer):
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
    signal.alarm(timeout)
    started = time.time()
    try:
        with ExitStack() as stack:
            for p in patches:
                stack.enter_context(p)
            try:
                method()
            except SystemExit:
                pass
        return {"status": "ok", "out": captured.getvalue(), "time": time.time() - started}
    except Exception as exc:
        return {"status": _failure(exc), "error": repr(exc)[:ERROR_CHARS], "time": time.time() - started}
    finally:
        signal.alarm(0)
        sys.stdout = saved


def run_call_test(method, test_input, timeout):
    signal.alarm(timeout)
    started = time.time()
    try:
        args = [json.loads(line) for line in test_input.split("\n")]
        value = method(*args)
        elapsed = time.time() - started
        signal.alarm(0)
        return {"status": "ok", "out": encode_value(value), "time": elapsed}
    except Exception as exc:
        return {"status": _failure(exc), "error": repr(exc)[:ERROR_CHARS], "time": time.time() - started}
    finally:
        signal.alarm(0)


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


def _cap(record, cap):
    text = record.get("out")
    if not isinstance(text, str):
        text = json.dumps(text)
        if len(text) > cap:
            record["out"], record["truncated"] = {"O": "<return value over the output cap>"}, True
    elif len(text) > cap:
        record["out"], record["truncated"] = text[:cap], True
    return record


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


def run(payload, emit):
    timeout, fn_name = payload["timeout"], payload.get("fn_name")
    emit({"ready": True})
    try:
        if fn_name is None:
            method = compile_entry(wrap_stdin_program(inline_main_guard(payload["code"])),
                                   "wrapped_function", timeout)
        else:
            method = compile_entry(PRELUDE + "\n\n" + payload["code"], fn_name, timeout)
    except BaseException as exc:  # SystemExit at import time ends the judge's child too: a failure
        emit({"compile": False, "error": repr(exc)[:ERROR_CHARS]})
        return
    emit({"compile": True})
    for i, (test_input, cap) in enumerate(zip(payload["inputs"], payload["caps"])):
        if fn_name is None:
            record = run_stdin_test(method, test_input, timeout, payload.get("stdout_buffer", False))
        else:
            record = run_call_test(method, test_input, timeout)
        emit(_cap(dict(record, i=i), cap))
        if record["status"] != "ok" and payload.get("stop_after_failure", True):
            return


def main():
    with open(0, "rb", closefd=False) as stdin:
        payload = json.loads(stdin.readline())  # one line: do not wait for EOF
    channel = os.fdopen(os.dup(1), "w", encoding="ascii")

    def emit(record):
        channel.write(json.dumps(record) + "\n")
        channel.flush()

    _detach_std_streams()
    sys.set_int_max_str_digits(50000)
    signal.signal(signal.SIGALRM, _on_alarm)
    _preload_like_the_judge(payload["code"])
    _disable_like_the_judge()
    run(payload, emit)


if __name__ == "__main__":
    main()
