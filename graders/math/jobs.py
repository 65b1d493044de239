"""What a grading worker process runs (`graders.pool`): the comparison of one normalised pair and the check of a
reference alone, each returning (reason, detail). They run under the caller's deadline; anything costly lives here,
never in the caller's process (`graders.math.grade`).
"""
from __future__ import annotations

from graders.math.normalize import normalize
from graders.math.options import CompareOptions
from graders.math.parse import TooLarge


def compare_job(gold: str, response: str, options: CompareOptions, percents: tuple[bool, bool] | None) -> tuple[str, str]:
    """Runs inside a worker process: parse and compare; (reason, detail). `percents` None: the two
    strings are raw (long answers are normalised here, under the deadline)."""
    from graders.math.compare import answers_equal
    from graders.math.parse import SideError

    if percents is None:
        gold, gold_pct = normalize(gold)
        response, resp_pct = normalize(response, labelled_columns="\\begin{" not in gold)
    else:
        gold_pct, resp_pct = percents
    if not gold:
        return "gold_unparseable", "empty reference answer"
    if not response:
        return "no_answer", "empty answer"
    reason, detail = gold_job(gold, False)
    if reason != "correct":
        return reason, detail
    try:
        if answers_equal(gold, response, options):
            return "correct", ""
        if resp_pct != gold_pct:   # "28\%" vs "0.28": also try the percent read as /100
            g, r = (gold, f"({response})/100") if resp_pct else (f"({gold})/100", response)
            if answers_equal(g, r, options):
                return "correct", "percent"
        return "wrong", ""
    except TooLarge as exc:
        return "wrong", f"response not evaluated: {exc}"
    except SideError as exc:
        return ("gold_unparseable" if exc.side == "gold" else "wrong"), str(exc)
    except RecursionError:
        return "wrong", "response nested too deeply"
    except MemoryError:   # the gold alone parsed above: the response's answer is what exhausts the memory
        return "response_too_costly", "comparing the response exhausted the worker's memory limit"
    except Exception as exc:   # SymPy on odd input; the gold alone parsed, so the response is not comparable
        return "wrong", f"not comparable: {type(exc).__name__}: {exc}"[:200]


def gold_job(gold: str, raw: bool) -> tuple[str, str]:
    """Runs inside a worker process: normalise (when `raw`) and parse the reference alone; ("correct", "")
    when it parses."""
    from graders.math.compare import check_gold
    from graders.math.parse import SideError

    if raw:
        gold = normalize(gold)[0]
    try:
        check_gold(gold)
    except (SideError, TooLarge) as exc:
        return "gold_unparseable", str(exc)
    except RecursionError:
        return "gold_unparseable", "reference nested too deeply"
    except MemoryError:
        return "gold_unparseable", "the reference alone exhausts the worker's memory"
    return ("correct", "") if gold else ("gold_unparseable", "empty reference answer")
