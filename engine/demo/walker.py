"""Walking demo cases of the issue-9 processes (campaigns, complaints, key tasks) through the engine in time order.

Each part plans its steps as (moment, what to do) events; the walker runs them in order on the demo clock and,
before each, fires the timers that fell due meanwhile (phase starts, reminders, escalations) at their own
moments, as the worker would have. Nothing is written by hand: every step is `engine.start_case` or
`engine.complete` by the account whose work it is.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import func, select

from ..access import OPERATOR, Actor
from ..accounts import actor_for
from ..errors import NotFound
from ..models import Case, Timer
from ..runtime import Engine
from ..timers import OFFICE_TZ


def at_office(day: date, hour: int, minute: int = 0, not_before: date | None = None) -> datetime:
    """That day at that office time (Beijing), as the engine's naive UTC; weekends go back to Friday, or on to
    Monday when Friday is before `not_before` (the phase had not opened yet)."""
    back = day
    while back.weekday() >= 5:
        back -= timedelta(days=1)
    if not_before is not None and back < not_before:
        back = day
        while back.weekday() >= 5:
            back += timedelta(days=1)
    day = back
    return datetime.combine(day, time(hour, minute), OFFICE_TZ).astimezone(timezone.utc).replace(tzinfo=None)


def day_start(day: date) -> datetime:
    """The start of that day in the office (Beijing), as the engine's naive UTC."""
    return datetime.combine(day, time(0), OFFICE_TZ).astimezone(timezone.utc).replace(tzinfo=None)


@dataclass(order=True)
class Event:
    at: datetime
    order: int
    run: Callable[[], Any] = field(compare=False)


class Walker:
    def __init__(self, engine: Engine, clock, now: datetime, rng: random.Random) -> None:
        self.engine, self.clock, self.now, self.rng = engine, clock, now, rng
        self.events: list[Event] = []
        self._actors: dict[str, Actor] = {}
        self._fired_to = datetime.min
        from ..worker import TimerRunner

        self.runner = TimerRunner(engine, name="demo")

    def actor(self, username: str) -> Actor:
        if username not in self._actors:
            with self.engine.db.reading() as session:
                self._actors[username] = actor_for(session, username)
        return self._actors[username]

    def plan(self, at: datetime, run: Callable[[], Any]) -> None:
        """Do `run` at `at` (never at or after the moment of seeding: the demo's work is all in the past)."""
        if at >= self.now:
            raise ValueError(f"demo step planned at {at}, not before {self.now}")
        self.events.append(Event(at, len(self.events), run))

    def run(self) -> None:
        for event in sorted(self.events):
            self.fire_until(event.at)
            self.clock.now = event.at
            event.run()
        self.events = []
        self.fire_until(self.now)
        self.clock.now = self.now

    def fire_until(self, moment: datetime) -> None:
        """Fire, at its own time, every timer due before `moment` (as the worker would have done meanwhile). A
        timer that stays (its case in error) is passed over, as the worker passes over it."""
        while True:
            with self.engine.db.reading() as session:
                due = session.scalar(select(func.min(Timer.fire_at)).join(Case, Case.id == Timer.case_id).where(
                    Timer.fire_at >= self._fired_to, Timer.fire_at < moment, Case.status == "running"))
            if due is None:
                return
            self.clock.now = min(due + timedelta(seconds=1), moment)
            self.runner.run_due(limit=100)
            self._fired_to = due + timedelta(microseconds=1)

    def task(self, case_id: int, step_id: str) -> dict[str, Any]:
        item = next((t for t in self.engine.tasks(OPERATOR, case_id) if t["step_id"] == step_id), None)
        if item is None:
            ready = [t["step_id"] for t in self.engine.tasks(OPERATOR, case_id)]
            raise NotFound(f"演示项目 #{case_id} 没有待办的 {step_id}（待办：{', '.join(ready) or '无'}）: 流程与演示数据不符")
        return item

    def complete(self, case_id: int, step_id: str, data: dict[str, Any], username: str) -> None:
        self.engine.complete(self.task(case_id, step_id)["id"], data, self.actor(username))
