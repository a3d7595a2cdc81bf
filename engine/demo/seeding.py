"""Seeding: start the planned cases and walk each to its step on a clock set back to its timeline, then fire
the reminders, escalations and deadline timers that fell due meanwhile, one case's failing."""
from __future__ import annotations

import random
import sqlite3
import traceback
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from ..access import OPERATOR, Actor
from ..accounts import actor_for
from ..errors import NotFound, StepFailed
from ..models import Case, ProcessVersion, Timer, User
from ..runtime import Engine
from .joint_audit import SUZHOU, XINGHUA
from .paperwork import Writer, document_numbers
from .places import UNIT_ACCOUNT_UNIT
from .plans import cast
from .timelines import timeline


class _DemoClock:
    """Time for seeding: each case starts weeks ago and its steps take days, so ages and overdue marks are real."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _catalogues(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.db.reading() as session:
        out = {}
        for key in (XINGHUA, SUZHOU):
            version_id = session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == key)
                                        .order_by(ProcessVersion.version.desc()).limit(1))
            if version_id is None:
                raise NotFound(f"流程未部署：{key}（先运行 duban deploy processes）")
            out[key] = engine.versions.get(session, version_id).catalogue
        return out


def _clerks(engine: Engine) -> tuple[dict[str, Actor], dict[str, Actor]]:
    with engine.db.reading() as session:
        roles = {role: actor_for(session, role) for role in ("organization", "staffing", "audit")}
        by_unit = {}
        for user in session.scalars(select(User).where(User.is_demo.is_(True))).all():
            if "unit" in (user.roles or []) and user.units and len(user.units) == 1:
                by_unit[user.units[0]] = Actor.of(user)
        unit = actor_for(session, "unit")
    return roles, {**by_unit, **({UNIT_ACCOUNT_UNIT: unit} if unit.in_scope(UNIT_ACCOUNT_UNIT) else {})}


def seed(engine: Engine, seed_value: int = 2026) -> list[int]:
    """Start the seeds' cases and walk each to its planned step, so every step holds some work."""
    plans = cast(seed_value)
    catalogues = _catalogues(engine)
    roles, units = _clerks(engine)
    missing = sorted({p.unit.username for p in plans if p.unit_work and p.unit.name not in units})
    if missing:
        raise NotFound(f"缺少演示账号：{', '.join(missing[:5])} … (先运行 duban init --demo)")
    real_clock, real_now = engine.clock, engine.clock()
    clock = _DemoClock(real_now)
    timelines = [timeline(p, catalogues[p.key], real_now) for p in plans]
    numbers = document_numbers(plans, timelines, random.Random(seed_value))
    order = sorted(range(len(plans)), key=lambda i: timelines[i].start)  # case numbers follow the opening dates
    made: dict[int, int] = {}
    engine.clock = clock
    try:
        for i in order:
            p, tl = plans[i], timelines[i]
            clock.now = tl.start
            case_id = engine.start_case(p.key, p.facts, roles["organization"])
            made[i] = case_id
            writer = Writer(p, tl, numbers[i])
            for step, at in tl.steps:
                item = next((t for t in engine.tasks(OPERATOR, case_id) if t["step_id"] == step), None)
                if item is None:
                    raise NotFound(f"演示项目 #{case_id} 没有待办的 {step}: 流程与演示数据不符")
                clock.now = at
                actor = units[p.unit.name] if item["role"] == "unit" else roles[item["role"]]
                engine.complete(item["id"], writer.data(step, at, item["form"]), actor)
        failing = next(made[i] for i, p in enumerate(plans) if p.light == "error")
        _fire_due_timers(engine, clock, real_now, failing)
    finally:
        engine.clock = real_clock
    return [made[i] for i in order]


def _fire_due_timers(engine: Engine, clock: _DemoClock, now: datetime, failing: int) -> None:
    """What the worker would have done meanwhile: reminders, escalations and deadline timers, each at its time.

    The failing case's rectification deadline timer does not get through: the incident it leaves is what a
    supervisor retries (engine.incidents.retry reschedules the timer, and the worker fires it)."""
    from ..worker import TimerRunner

    runner = TimerRunner(engine, name="demo")
    with engine.db.reading() as session:
        moments = sorted(set(session.scalars(select(Timer.fire_at).where(Timer.fire_at <= now)).all()))
        fails_at = session.scalar(select(func.min(Timer.fire_at)).where(Timer.case_id == failing,
                                                                         Timer.kind == "bpmn"))
    pending = fails_at is not None
    for moment in moments:
        if pending and moment >= fails_at:
            clock.now = fails_at + timedelta(seconds=2)
            _timer_incident(engine, failing)
            pending = False
        clock.now = moment + timedelta(seconds=1)
        runner.run_due(limit=100)
    if pending:
        clock.now = fails_at + timedelta(seconds=2)
        _timer_incident(engine, failing)


def _timer_incident(engine: Engine, case_id: int) -> None:
    """A deadline timer whose step failed: the database was locked (a backup held it), so nothing was written."""
    with engine.db.reading() as session:
        title = session.scalar(select(Case.title).where(Case.id == case_id))
        timer_ids = list(session.scalars(select(Timer.id).where(Timer.case_id == case_id, Timer.kind == "bpmn")).all())
    try:
        raise sqlite3.OperationalError("database is locked")
    except sqlite3.OperationalError as cause:
        trace = "".join(traceback.format_exception(cause))
    err = StepFailed(f"{title}: 步骤执行失败，未做任何更改：OperationalError: database is locked",
                     details={"step_id": "escalate_overdue_report", "step_name": "逾期未报督办", "trace": trace})
    engine.record_incident(case_id, {"kind": "timers", "timer_ids": timer_ids}, err)

