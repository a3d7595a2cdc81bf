"""Whose 'now' SpiffWorkflow's timers read: the engine's clock during a step, the wall clock otherwise.

SpiffWorkflow's timer definitions call `datetime.now(timezone.utc)` themselves. Tests (and a worker
catching up) need them to see the engine's clock, so the module's `datetime` is replaced once by a
subclass whose `now()` asks a context variable; threads and steps each see their own clock.
"""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Callable, Iterator

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

_current: ContextVar[Callable[[], datetime] | None] = ContextVar("duban_clock", default=None)


class _StepDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        clock = _current.get()
        if clock is None:
            return datetime.now(tz)
        naive_utc = clock()
        aware = naive_utc.replace(tzinfo=timezone.utc)
        return aware.astimezone(tz) if tz is not None else aware.astimezone().replace(tzinfo=None)


_spiff_timer.datetime = _StepDatetime


@contextlib.contextmanager
def engine_time(clock: Callable[[], datetime]) -> Iterator[None]:
    """Run a block with SpiffWorkflow's timers reading `clock` (naive UTC)."""
    token = _current.set(clock)
    try:
        yield
    finally:
        _current.reset(token)
