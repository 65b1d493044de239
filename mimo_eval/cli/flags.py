"""Checked flag values (argparse `type=` functions: one line naming the flag and the value) and the one-line
form of an operating-system error (a full disk, a read-only folder) that says what to do."""
from __future__ import annotations

import argparse


def _parsed(text: str, kind: type):
    try:
        return kind(text)
    except ValueError:   # argparse would name the function: "invalid _positive_int value"
        raise argparse.ArgumentTypeError(f"must be {'an integer' if kind is int else 'a number'}, got {text!r}") \
            from None


def _positive_int(text: str) -> int:
    value = _parsed(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = _parsed(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = _parsed(text, float)
    if not 0 < value < float("inf"):   # also refuses nan; an infinite timeout overflows the socket layer
        raise argparse.ArgumentTypeError(f"must be > 0 and finite, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    value = _parsed(text, float)
    if not 0 <= value < float("inf"):   # also refuses nan
        raise argparse.ArgumentTypeError(f"must be >= 0 and finite, got {value}")
    return value


def _iso_date(text: str) -> str:
    from benchmarks.livecodebench import is_iso_date

    if not is_iso_date(text):
        raise argparse.ArgumentTypeError(f"must be an ISO date YYYY-MM-DD, got {text!r}")
    return text


def _fraction(text: str) -> float:
    value = _parsed(text, float)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {value}")
    return value


def os_error_line(err: OSError) -> str:
    import errno

    where = err.filename or "the run directory"
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"no space left on the device writing {where}: free some space, then rerun the same command "
                "(everything stored before this is kept and the run resumes)")
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"cannot use {where} ({err.strerror}): give --out a folder you can write to, or fix its "
                "permissions, then rerun the same command")
    if err.errno in (errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        return f"{where}: {err.strerror}: a file is where a folder is expected (or the reverse); check --out"
    return f"{where}: {err.strerror or err}"
