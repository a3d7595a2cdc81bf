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
from .joint_audit import FOLLOWING, SUZHOU, VERIFIERS, VISIT, XINGHUA
from .org import seed_units
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
        roles = {role: actor_for(session, role) for role in ("organization", "staffing", "audit", "supervisor", "discipline")}
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
    seed_units(engine, _principals(plans))
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
            following = FOLLOWING + (("issue_report",) if p.key == SUZHOU else ())

            def act(item: dict[str, Any]) -> Actor:
                return units[p.unit.name] if item["role"] == "unit" else roles[item["role"]]

            for step, at in tl.steps:
                clock.now = at
                if step == VISIT[p.key]:  # each department with open items verifies its own
                    _verify(engine, case_id, writer, at, act)
                else:
                    item = next((t for t in engine.tasks(OPERATOR, case_id) if t["step_id"] == step), None)
                    if item is None:
                        raise NotFound(f"演示项目 #{case_id} 没有待办的 {step}: 流程与演示数据不符")
                    engine.complete(item["id"], writer.data(step, at, item["form"]), act(item))
                _following(engine, case_id, writer, at, act, following, clock)
        failing = next(made[i] for i, p in enumerate(plans) if p.light == "error")
        _fire_due_timers(engine, clock, real_now, failing)
        _campaigns_complaints_tasks(engine, clock, real_now, seed_value)
    finally:
        engine.clock = real_clock
    return [made[i] for i in order]


def _campaigns_complaints_tasks(engine: Engine, clock: _DemoClock, now: datetime, seed_value: int) -> None:
    """The 治庸问责 campaign, complaints and key tasks, walked after the joint audits in their own time order (their
    timers fire as they go; the joint audits' due timers have all fired by then, and the failing case's wait)."""
    from . import campaign, complaints, key_tasks
    from .timelines import local_date
    from .walker import Walker

    with engine.db.reading() as session:
        deployed = set(session.scalars(select(ProcessVersion.process_key)).all())
    walker = Walker(engine, clock, now, random.Random(seed_value + 9))
    today = local_date(now)
    if {"accountability_campaign", "unit_campaign"} <= deployed:
        campaign.plan(walker, today)
    if {"complaint", "complaint_assignment"} <= deployed:
        complaints.plan(walker, today)
    if "key_task" in deployed:
        key_tasks.plan(walker, today)
    walker.run()


def _principals(plans) -> dict[str, str]:
    """Each unit's 一把手 as the cases name them: the party secretary of a town or district, a bureau's head."""
    out = {}
    for p in plans:
        if "书记" in p.post or (p.unit.level == "municipal_dept" and p.unit.name not in out):
            out[p.unit.name] = p.facts["unit_principal"]
    return out


def _following(engine: Engine, case_id: int, writer: Writer, at: datetime, act, following, clock) -> None:
    """The steps done right after `at` that the timeline does not plan (countersignatures, the unit's signature …)."""
    for n in range(1, 30):
        item = next((t for t in engine.tasks(OPERATOR, case_id) if t["step_id"] in following), None)
        if item is None:
            return
        clock.now = at + timedelta(seconds=20 * n)
        data = writer.data(item["step_id"], clock.now, item["form"])
        if item["step_id"] == "lift_listing":
            data = writer.lift_listing(None, _liftable(engine, case_id))
        engine.complete(item["id"], data, act(item))


def _liftable(engine: Engine, case_id: int) -> list[int]:
    from handlers.records import RectificationItem

    with engine.db.reading() as session:
        return list(session.scalars(select(RectificationItem.item_no).where(
            RectificationItem.case_id == case_id, RectificationItem.status == "closed",
            RectificationItem.listed_supervision.is_(True), RectificationItem.lifted_at.is_(None))).all())


EVIDENCE = b"%PDF-1.4\n% duban demo: rectification evidence\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _verify(engine: Engine, case_id: int, writer: Writer, at: datetime, act) -> None:
    """The planned visit: the unit's evidence goes into the case file, then each department with open items of its
    duty verifies them and closes what the round closes (销号 with evidence and the visit)."""
    from ..casefile import Upload, add_attachment

    items = [t for t in engine.tasks(OPERATOR, case_id) if t["step_id"] in VERIFIERS]
    if not items:
        raise NotFound(f"演示项目 #{case_id} 没有待办的核查销号: 流程与演示数据不符")
    with engine.db.transaction() as session:
        clerk = act({"role": "unit"}).username
        evidence = add_attachment(session, case_id, Upload(f"第{writer.round}轮整改佐证材料.pdf", EVIDENCE), clerk,
                                  at - timedelta(hours=2)).id
    for item in sorted(items, key=lambda t: VERIFIERS.index(t["step_id"])):
        lane = item["step_id"].removeprefix("verify_rectification_")
        engine.complete(item["id"], writer.verify(lane, _day(at), evidence), act(item))


def _day(moment: datetime):
    from .timelines import local_date

    return local_date(moment)


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

