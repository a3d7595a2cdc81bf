"""How much one run may still do: steps, data built, work done, and time left.

Each run has its own ``MAX_SECONDS``; ``with step_budget(STEP_SECONDS):`` around one engine step
makes every run started inside share the step's deadline too (the earlier one wins).
``STEP_SECONDS`` is 3.0 unless ``DUBAN_STEP_SECONDS`` says otherwise.
"""
from __future__ import annotations

import contextlib
import contextvars
import math
import os
import time
from collections.abc import Iterator
from typing import Any

from .errors import over_limit
from .limits import MAX_ALLOC, MAX_SECONDS, MAX_STEPS

_CLOCK_UNITS = 100_000  # work between two looks at the clock within one statement


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise ValueError(f"{name} 应为正的秒数, 实为 {raw!r} (must be a positive number of seconds)")
    return value


STEP_SECONDS = _seconds("DUBAN_STEP_SECONDS", 3.0)  # shared by all expression runs of one engine step
_STEP: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar("duban_step", default=None)


@contextlib.contextmanager
def step_budget(seconds: float) -> Iterator[float]:
    """Every run started inside shares one deadline (yielded); nested budgets never extend the outer one."""
    deadline = time.monotonic() + seconds
    outer = _STEP.get()
    if outer is not None and outer[0] <= deadline:
        deadline, seconds = outer
    token = _STEP.set((deadline, seconds))  # contextvars: each thread (and asyncio task) has its own
    try:
        yield deadline
    finally:
        _STEP.reset(token)


class Budget:
    """The counters and deadline of one run; every statement, item and built value is charged here."""

    __slots__ = ("steps", "alloc", "work", "clock_at", "deadline", "step_seconds")

    def __init__(self) -> None:
        self.steps, self.alloc, self.work, self.clock_at = 0, 0, 0, _CLOCK_UNITS
        self.deadline, self.step_seconds = time.monotonic() + MAX_SECONDS, None
        step = _STEP.get()
        if step is not None and step[0] < self.deadline:  # the engine step's budget runs out first
            self.deadline, self.step_seconds = step

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise over_limit(f"执行步数超过 {MAX_STEPS} (too many steps)")
        self.clock()

    def clock(self) -> None:
        if time.monotonic() > self.deadline:
            if self.step_seconds is None:
                raise over_limit(f"执行时间超过 {MAX_SECONDS} 秒 (took too long)")
            raise over_limit(f"本步骤的表达式执行时间合计超过 {self.step_seconds:g} 秒 (step took too long)")

    def spend(self, units: int) -> None:
        """Count an operation's work; a statement of many bounded operations still meets the clock."""
        self.work += units
        if self.work >= self.clock_at:
            self.clock_at = self.work + _CLOCK_UNITS
            self.clock()

    def charge(self, value: Any) -> Any:
        """Count what a run builds, so a loop cannot hoard memory one allowed piece at a time."""
        if isinstance(value, (str, list, tuple, dict, set)):
            self.alloc += len(value)
            if self.alloc > MAX_ALLOC:
                raise over_limit(f"本次运行创建的数据超过 {MAX_ALLOC} 项 (too much data built)")
            self.spend(len(value))
        return value
