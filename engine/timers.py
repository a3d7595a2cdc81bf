"""Time in the database: BPMN timers, work-item reminders (催办) and escalations (督办) as rows with a fire time.

Rows are written in the step's transaction. A worker claims due rows for a lease, acts on each in
a transaction of its own that first deletes the row it holds, so each fires exactly once; a worker
that dies mid-way leaves its rows to be claimed again when the lease runs out.
"""
from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, insert, or_, select, update
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (CycleTimerEventDefinition, DurationTimerEventDefinition,
                                                              TimeDateEventDefinition, TimerEventDefinition)
from SpiffWorkflow.util.task import TaskState

from . import expressions
from .models import Case, Timer

TIMERS = Timer.__table__
_insert_timers = insert(TIMERS)  # statements of a step, built once
OFFICE_TZ = ZoneInfo(os.environ.get("DUBAN_TIMEZONE", "Asia/Shanghai"))
REMIND_BEFORE = timedelta(days=float(os.environ.get("DUBAN_REMIND_DAYS", "2")))


def lease() -> timedelta:
    """How long a claimed row is a worker's before another may take it over (renewed while it works)."""
    return timedelta(seconds=float(os.environ.get("DUBAN_TIMER_LEASE_SECONDS", "10")))


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def fire_time(task) -> datetime | None:
    """When a waiting timer task will fire, from what SpiffWorkflow computed for it (naive UTC)."""
    definition = task.task_spec.event_definition
    value = task._get_internal_data("event_value")
    if value is None:
        return None
    if isinstance(definition, CycleTimerEventDefinition):
        return _naive_utc(datetime.fromisoformat(value["next"])) if value.get("cycles") != 0 else None
    if isinstance(definition, DurationTimerEventDefinition):
        return _naive_utc(TimerEventDefinition.get_datetime(value))
    if isinstance(definition, TimeDateEventDefinition):
        return _naive_utc(TimerEventDefinition.parse_time_or_duration(value))
    return None


def waiting_timers(workflow: BpmnWorkflow, tasks: list | None = None) -> list[tuple[str, datetime]]:
    """(task id, fire time) of every timer the case is waiting on, subprocesses included; `tasks` is the
    workflow's task list when the caller has already walked it."""
    out = []
    for task in (workflow.get_tasks(state=TaskState.WAITING) if tasks is None else tasks):
        if task.state == TaskState.WAITING and isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition):
            moment = fire_time(task)
            if moment is not None:
                out.append((str(task.id), moment))
    return out


def sync_case_timers(session: Session, case_id: int, waiting: list[tuple[str, datetime]]) -> None:
    """Replace the case's BPMN timer rows by the (task id, fire time) pairs the workflow now waits for."""
    conn = session.connection()
    conn.execute(delete(TIMERS).where(TIMERS.c.case_id == case_id, TIMERS.c.kind == "bpmn"))
    rows = [dict(case_id=case_id, kind="bpmn", task_id=task_id, work_item_id=None, fire_at=moment,
                 claimed_until=None, claimed_by=None) for task_id, moment in waiting]
    if rows:
        conn.execute(_insert_timers, rows)


def office_date(moment: datetime) -> date:
    """The calendar day a moment (naive UTC) falls on in the office's time zone."""
    return moment.replace(tzinfo=timezone.utc).astimezone(OFFICE_TZ).date()


def days_overdue(due: datetime, now: datetime) -> int:
    """How many days work is overdue, as a clerk counts them: calendar days in office time, at least 1.

    Due on the 27th (end of that day), today the 28th: 1 day. The one rule for every page and export."""
    return max(1, (office_date(now) - office_date(due)).days)


def days_left(due: datetime, now: datetime) -> int:
    """Calendar days in office time until the due day (0: due today)."""
    return max(0, (office_date(due) - office_date(now)).days)


def end_of_day(day: date) -> datetime:
    """A deadline given as a date means the end of that day in the office's time zone (naive UTC)."""
    return _naive_utc(datetime.combine(day, time(23, 59, 59), OFFICE_TZ))


def due_at(created: datetime, due_in: str | None, data: dict[str, Any]) -> datetime | None:
    """A work item's deadline: an ISO duration from now, or an expression over case data giving a date."""
    if not due_in:
        return None
    if expressions.is_iso8601_timer(due_in):
        spec = expressions.parse_iso8601_timer(due_in)
        if spec.duration is not None:
            return created + spec.duration
        return _naive_utc(spec.at) if spec.at else None
    try:
        value = expressions.evaluate(due_in, data)
    except expressions.ExpressionError:
        return None  # data the deadline needs is not entered yet: no deadline rather than a wrong one
    if isinstance(value, datetime):
        return _naive_utc(value)
    try:
        return end_of_day(value if isinstance(value, date) else date.fromisoformat(str(value)[:10]))
    except ValueError:
        return None


def schedule_deadlines(session: Session, items: list[dict[str, Any]], now: datetime) -> None:
    """A reminder before and an escalation at each new work item's deadline."""
    rows = []
    for item in items:
        due = item.get("due_at")
        if due is None:
            continue
        if due - REMIND_BEFORE > now:
            rows.append(dict(case_id=item["case_id"], kind="reminder", task_id=None, work_item_id=item["id"],
                             fire_at=due - REMIND_BEFORE, claimed_until=None, claimed_by=None))
        rows.append(dict(case_id=item["case_id"], kind="escalation", task_id=None, work_item_id=item["id"],
                         fire_at=due, claimed_until=None, claimed_by=None))
    if rows:
        session.connection().execute(_insert_timers, rows)


_cancel_deadlines = delete(TIMERS).where(TIMERS.c.case_id == bindparam("case_id"),
                                         TIMERS.c.work_item_id.in_(bindparam("item_ids", expanding=True)))


def cancel_deadlines(session: Session, case_id: int, work_item_ids: list[int]) -> None:
    """Drop the reminder and escalation rows of closed items (found through the case's index)."""
    if work_item_ids:
        session.connection().execute(_cancel_deadlines, {"case_id": case_id, "item_ids": work_item_ids})


def claim_due(session: Session, now: datetime, worker: str, limit: int = 100) -> list[Timer]:
    """Take up to `limit` due rows for a lease; on PostgreSQL rows other workers hold are skipped.

    A BPMN timer is due once its moment is strictly past, as SpiffWorkflow compares: taken at the
    very moment it would step the case without firing. Reminders and escalations are due at it."""
    # Timers of a case in error or suspended wait: they fire once the case runs again.
    stmt = (select(Timer).join(Case, Case.id == Timer.case_id)
            .where(Timer.fire_at <= now, or_(Timer.kind != "bpmn", Timer.fire_at < now), or_(Timer.claimed_until.is_(None), Timer.claimed_until < now),
                   Case.status == "running")
            .order_by(Timer.fire_at, Timer.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=Timer)
    rows = list(session.scalars(stmt).all())
    if rows:
        session.execute(update(Timer).where(Timer.id.in_([r.id for r in rows]))
                        .values(claimed_until=now + lease(), claimed_by=worker).execution_options(synchronize_session=False))
    return rows


def renew(session: Session, timer_ids: list[int], worker: str, now: datetime) -> None:
    """Extend this worker's lease on rows it still holds and has not acted on yet."""
    if timer_ids:
        session.execute(update(Timer).where(Timer.id.in_(timer_ids), Timer.claimed_by == worker)
                        .values(claimed_until=now + lease()).execution_options(synchronize_session=False))


def take(session: Session, timer_ids: list[int], worker: str) -> int:
    """Delete the rows this worker still holds; the count tells whether it may act (0 = someone else did)."""
    return session.execute(delete(Timer).where(Timer.id.in_(timer_ids), Timer.claimed_by == worker)
                           .execution_options(synchronize_session=False)).rowcount
