"""Restricted interpreter for BPMN conditions, scripts, service parameters and timers.

Text is parsed with ``ast.parse`` and the tree is walked node by node; it is never compiled to a
code object, so task data cannot reach Python internals. No single operation may cost more than
a few milliseconds, and every run has a deadline, shared with its engine step under
``step_budget``.

This module is the interpreter's public face; its parts live in ``engine.interpreter``, one idea
each: ``check`` (the static check), ``run`` (run time), ``budget`` (steps and time), ``sizes``
and ``cost`` (what an operation may cost), ``script_engine`` (SpiffWorkflow).
"""
from __future__ import annotations

from .interpreter.budget import STEP_SECONDS, step_budget
from .interpreter.check import check_expression, check_script
from .interpreter.check import prepare as _prepare  # noqa: F401  (tests read its cache statistics)
from .interpreter.errors import ExpressionError
from .interpreter.limits import (  # noqa: F401  (the bounds, for callers and tests that quote them)
    MAX_ALLOC, MAX_DATA_DEPTH, MAX_DEPTH, MAX_EXPONENT, MAX_INT_BITS, MAX_ITEMS, MAX_ITERATION, MAX_OP_UNITS,
    MAX_OPERAND, MAX_SECONDS, MAX_SOURCE, MAX_STEPS,
)
from .interpreter.run import Run as _Run  # noqa: F401  (tests read a run's deadline)
from .interpreter.run import evaluate, execute
from .interpreter.script_engine import SafePythonScriptEngine, SafeScriptEnvironment, make_script_engine
from .timer_literals import TimerSpec, is_iso8601_timer, parse_iso8601_timer

__all__ = [
    "ExpressionError", "check_expression", "check_script", "evaluate", "execute", "SafeScriptEnvironment",
    "SafePythonScriptEngine", "make_script_engine", "TimerSpec", "is_iso8601_timer", "parse_iso8601_timer",
    "step_budget", "STEP_SECONDS",
]
