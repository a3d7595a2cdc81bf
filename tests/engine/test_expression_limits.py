"""No single operation of the expression sandbox may run long, numbers stay finite, and one step shares one budget."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine import expressions
from engine.errors import StepFailed
from engine.expressions import ExpressionError, check_expression, evaluate, execute, step_budget

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "limits"
OP_SECONDS = 0.5  # a refused operation answers in milliseconds; the margin is for a loaded machine
STEP_TIMEOUT_S = 10.0


def _within(seconds: float, fn, *args):
    """Run fn in a thread; a regression shows as a failed assertion, not a hung suite."""
    box: dict = {}

    def target():
        started = time.perf_counter()
        try:
            box["result"] = fn(*args)
        except BaseException as exc:  # handed to the test to assert on
            box["error"] = exc
        box["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    return box


def _refused_fast(fn, *args) -> ExpressionError:
    box = _within(OP_SECONDS * 20, fn, *args)
    assert isinstance(box.get("error"), ExpressionError), box
    assert box["seconds"] < OP_SECONDS, f"{box['seconds']:.2f} s"
    return box["error"]


# ------------------------------------------------------------------ one operation, bounded work
BUILT_HOSTILE = [  # before the limits: 12–35 s each
    "('a'*999999+'b') in ['a'*1000000]*1000000",
    "sorted(['a'*1000000]*1000000)",
    "['a'*1000000]*1000000 == ['a'*1000000]*1000000",
    "(['a'*1000000]*1000000).count('a'*999999+'b')",
]


@pytest.mark.parametrize("text", BUILT_HOSTILE)
def test_repetition_counts_what_it_repeats(text):
    err = _refused_fast(evaluate, text, {})
    assert err.code == "expression.limit" and "重复" in err.message


def _aliased() -> dict:
    """Data that is cheap to hold but costly to touch: many references to long, equal strings."""
    long_a, long_a2, needle = "a" * 1_000_000, "a" * 1_000_000, "a" * 999_999 + "b"
    return {"big": [long_a] * 1_000_000, "pair": [long_a, long_a2] * 500_000, "needle": needle,
            "wide": dict.fromkeys(range(300_000), long_a), "wide2": dict.fromkeys(range(300_000), long_a2)}


ALIASED_OPS = [  # before the limits: seconds to minutes each
    "needle in big", "needle not in pair", "big.count(needle)", "pair.count(needle)", "pair == big",
    "pair < big", "min(pair)", "max(pair)", "sorted(pair)", "str(pair)", "f'{pair}'", "'-'.join(pair)",
    "wide == wide2", "wide2 != wide", "{'k': big} == {'k': pair}",
]


@pytest.mark.parametrize("text", ALIASED_OPS)
def test_operations_on_costly_operands_are_refused_before_they_run(text):
    err = _refused_fast(evaluate, text, _aliased())
    assert err.code == "expression.limit", err.message
    assert "(" in err.message and any("\u4e00" <= c <= "\u9fff" for c in err.message)


def test_a_script_of_costly_terms_is_refused_at_its_first_term():
    script = "s = 'a' * 1000000\nbig = [s for i in range(10000)]\nt = s[1:] + 'b'\nfound = t in big\nx = sorted(big)"
    err = _refused_fast(execute, script, {})
    assert err.code == "expression.limit" and err.line == 4


@pytest.mark.parametrize("text", [
    "round(5, -10 ** 6)", "int('f' * 100000, 16)", "sorted(range(10000)) == sorted(list('ab' * 400000))",
    "sorted('ab' * 500000)", "len(set('abc' * 300000))", "len(('a,' * 500000).split(','))",
])
def test_other_large_operations_are_refused_fast(text):
    assert _refused_fast(evaluate, text, {}).code == "expression.limit"


@pytest.mark.parametrize("text, expected", [
    ("0 in [0] * 1000000", True),
    ("len(sorted(range(10000), reverse=True))", 10000),
    ("len(set(range(10000)))", 10000),
    ("max([x * 2 for x in range(10000)])", 19998),
    ("len(str(list(range(10000))))", 58890),
    ("len(','.join([str(x) for x in range(10000)]).split(','))", 10000),
    ("len('ab' * 500000)", 1000000),
    ("('a' * 1000000).count('a')", 1000000),
    ("'a' * 1000000 == 'a' * 1000000", True),
    ("round(1234.5678, -2)", 1200.0),
    ("2 ** 1000 > 10 ** 300", True),
])
def test_legitimate_large_work_still_runs(text, expected):
    box = _within(10, evaluate, text, {})
    assert box.get("result") == expected, box
    assert box["seconds"] < OP_SECONDS


def test_every_single_operation_stays_well_under_fifty_milliseconds():
    ctx = _aliased()
    slowest = 0.0
    for text in [*ALIASED_OPS, *BUILT_HOSTILE, "0 in [0] * 1000000", "[0] * 1000000 == [0] * 1000000"]:
        for _ in range(3):
            started = time.perf_counter()
            try:
                evaluate(text, ctx)
            except ExpressionError:
                pass
            slowest = max(slowest, time.perf_counter() - started)
    assert slowest < 0.2, f"slowest {slowest * 1000:.0f} ms"  # ~50 ms on a quiet machine


# ------------------------------------------------------------------ finite numbers only
@pytest.mark.parametrize("text", [
    "float('nan')", "float('inf')", "float('-inf')", "float('1e999')", "1e308 * 10", "-1e308 - 1e308",
    "sum([1e308, 1e308])", "abs(-1e308 * 10)", "round(1e308 * 10)", "x * 1e300", "1e200 ** 2",
])
def test_non_finite_numbers_are_refused(text):
    with pytest.raises(ExpressionError) as err:
        evaluate(text, {"x": 1e300})
    assert err.value.code in {"expression.runtime", "expression.limit"}
    assert "有限" in err.value.message or "溢出" in err.value.message, err.value.message


def test_non_finite_numbers_never_reach_task_data():
    ctx: dict = {}
    with pytest.raises(ExpressionError):
        execute("x = 1e308\nx *= 10", ctx)
    with pytest.raises(ExpressionError):
        execute("y = float('nan')", ctx)
    assert "y" not in ctx


def test_infinite_literals_are_refused_by_the_check():
    (problem,) = check_expression("1e999 > 1")
    assert problem.code == "expression.refused" and "有限" in problem.message
    assert check_expression("1e308 > 1") == []


# ------------------------------------------------------------------ one budget per engine step
def test_runs_inside_a_step_share_its_deadline():
    with step_budget(0.5) as deadline:
        first = expressions._Run({}, None)
        time.sleep(0.01)
        second = expressions._Run({}, None)
        assert first.deadline == second.deadline == deadline
    with step_budget(60.0) as deadline:  # a long step: each run still keeps its own MAX_SECONDS
        assert expressions._Run({}, None).deadline < deadline - 50
    assert expressions._Run({}, None).deadline <= time.monotonic() + expressions.MAX_SECONDS


def test_a_slow_first_run_leaves_nothing_for_the_second():
    slow = "a = [0] * 1000000\nfor i in range(10000):\n    c = a.count(0)"
    started = time.monotonic()
    with step_budget(0.3):
        with pytest.raises(ExpressionError) as err:
            execute(slow, {})
        assert err.value.code == "expression.limit" and "本步骤" in err.value.message
        assert time.monotonic() - started < 1.5  # the step's 0.3 s, not the run's own 2 s
        with pytest.raises(ExpressionError) as err:
            evaluate("1 + 1", {})  # the second run sees the shared deadline already passed
        assert err.value.code == "expression.limit" and "本步骤" in err.value.message
    assert evaluate("1 + 1", {}) == 2


def test_step_budgets_nest_and_never_extend_the_outer_one():
    with step_budget(1.0) as outer:
        with step_budget(100.0) as inner:
            assert inner == outer
        with step_budget(0.1) as short:
            assert short < outer
            assert expressions._Run({}, None).deadline == short
        assert expressions._Run({}, None).deadline == outer


def test_a_step_budget_belongs_to_its_own_thread():
    seen = {}
    with step_budget(0.0):
        with pytest.raises(ExpressionError):
            evaluate("1", {})
        thread = threading.Thread(target=lambda: seen.update(value=evaluate("1 + 1", {})))
        thread.start()
        thread.join(10)
    assert seen == {"value": 2}


def test_step_seconds_default_and_environment():
    assert expressions.STEP_SECONDS == float(os.environ.get("DUBAN_STEP_SECONDS", "3.0"))
    code = "from engine import expressions; print(expressions.STEP_SECONDS)"
    env = {**os.environ, "DUBAN_STEP_SECONDS": "1.5"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "1.5", out.stderr
    env["DUBAN_STEP_SECONDS"] = "soon"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "DUBAN_STEP_SECONDS" in out.stderr


# ------------------------------------------------------------------ through the engine
def test_a_hostile_script_task_fails_the_step_within_seconds(engine):
    engine.deploy([str(FIXTURES / "hostile_script.bpmn")])
    box = _within(STEP_TIMEOUT_S, engine.start_case, "hostile_script", {})
    assert isinstance(box.get("error"), StepFailed), box
    assert "expression.limit" in box["error"].message or "重复" in box["error"].message
    assert box["seconds"] < 3.0
