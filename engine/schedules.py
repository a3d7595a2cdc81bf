"""Timer start events: a process whose start event carries a timer opens its own cases when the time comes.

At deploy (`prepare_starts`, called from Engine.deploy in the deploy's transaction) each timer start event of
the newest version becomes a `scheduled_start` row with its next fire time; the start event itself is made a
plain start in the stored spec, so a case the schedule opens (or someone opens by hand) runs on at once instead
of waiting on its own start timer, as SpiffWorkflow would have it.

The worker (`fire_due_starts`, from TimerRunner.run_due) claims due rows for a lease and starts each case in a
transaction that first moves the row's `next_fire_at` on with a compare-and-set on the value it read: of two
workers racing for one occurrence, one moves it and starts the case, the other changes nothing. A redeploy with
the same timer keeps the row as it is (the occurrence already fired does not fire again); an occurrence missed
while no worker ran fires once when one is back, and the next one is the first still to come — a worker down
over three New Years opens one case, not three.

Timer texts are ISO 8601 literals (engine/timer_literals.py): a date-time (once), a duration (once, that long
after deploy) or a cycle `R[n]/<start>/<period>` (`R/2026-01-01T00:00:00+08:00/P1Y`: every 1 January). Unlike
timer_literals, which takes a year as 365 days for plain intervals, a cycle's occurrences here are counted in
calendar years and months from its start in the start's own offset, so "every 1 January" stays on 1 January
through leap years. A date-time without an offset is office time (DUBAN_TIMEZONE).
"""
from __future__ import annotations

import calendar
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from sqlalchemy import Integer, String, Text, UniqueConstraint, delete, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from . import timer_literals
from .access import Actor
from .errors import DubanError, ValidationFailed
from .models import Base, ProcessVersion
from .timers import OFFICE_TZ, lease

log = logging.getLogger("duban.schedules")
SCHEDULER = Actor("system", frozenset(), None, operator=True)  # who opens scheduled cases
RETRY_AFTER = timedelta(minutes=10)  # a start that failed is tried again after this, not at every poll


class ScheduledStart(Base):
    """One timer start event of a deployed process and when it fires next (naive UTC)."""

    __tablename__ = "scheduled_start"
    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200))
    start_event_id: Mapped[str] = mapped_column(String(200))
    timer_text: Mapped[str] = mapped_column(String(200))
    anchored_at: Mapped[datetime]  # when the timer text was deployed: what a cycle without a start counts from
    next_fire_at: Mapped[Optional[datetime]] = mapped_column(index=True)  # None: no occurrence left
    last_fired_at: Mapped[Optional[datetime]]  # the occurrence fired last
    fired_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_case_id: Mapped[Optional[int]]
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    claimed_by: Mapped[Optional[str]] = mapped_column(String(100))
    claimed_until: Mapped[Optional[datetime]]
    __table_args__ = (UniqueConstraint("process_key", "start_event_id", name="uq_scheduled_start_event"),)


# --- occurrences --------------------------------------------------------------------------------------------
_PERIOD = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


@dataclass(frozen=True)
class Recurrence:
    """When a timer start event fires: `first`, then every `months` + `delta` after it, `repeat` times."""

    first: datetime  # aware
    months: int = 0
    delta: timedelta = timedelta(0)
    repeat: int | None = 1  # None: for ever

    @property
    def periodic(self) -> bool:
        return bool(self.months or self.delta)

    def occurrence(self, k: int) -> datetime:
        """The k-th occurrence (0 = first), counted from `first` so a clamped month end never drifts."""
        moment = self.first
        if self.months:
            total = moment.month - 1 + self.months * k
            year, month = moment.year + total // 12, total % 12 + 1
            moment = moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))
        return moment + self.delta * k

    def next_after(self, moment: datetime) -> datetime | None:
        """The first occurrence strictly after `moment` (aware), or None when none is left."""
        if not self.periodic:
            return self.first if self.first > moment and self.repeat != 0 else None
        approx = timedelta(days=self.months * 31) + self.delta  # never shorter than a real period: k stays below
        k = max(0, int((moment - self.first) / approx) - 1) if moment > self.first else 0
        while self.occurrence(k) <= moment:
            k += 1
        return self.occurrence(k) if self.repeat is None or k < self.repeat else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=OFFICE_TZ)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def recurrence(text: str, anchor: datetime) -> Recurrence:
    """The occurrences of a timer literal deployed at `anchor` (naive UTC); ExpressionError when it is none."""
    spec = timer_literals.parse_iso8601_timer(text)
    anchor_aware = anchor.replace(tzinfo=timezone.utc)
    if spec.kind == "date":
        return Recurrence(_aware(spec.at))
    if spec.kind == "duration":
        return Recurrence(anchor_aware + spec.duration)
    period = text.strip().rsplit("/", 1)[-1].upper()
    match = _PERIOD.fullmatch(period)
    if match and any(match.groups()):
        years, months, weeks, days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
        months_total, delta = years * 12 + months, timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes,
                                                             seconds=seconds)
    else:  # fractions (PT0.5H): a plain interval as timer_literals computes it
        months_total, delta = 0, spec.duration
    if spec.at is not None:
        first = _aware(spec.at)
    elif months_total:
        first = Recurrence(anchor_aware.astimezone(OFFICE_TZ), months_total, delta, None).occurrence(1)
    else:
        first = anchor_aware + delta
    return Recurrence(first, months_total, delta, spec.repeat)


def next_fire(text: str, anchor: datetime, after: datetime) -> datetime | None:
    """The next occurrence (naive UTC) strictly after `after` (naive UTC)."""
    found = recurrence(text, anchor).next_after(after.replace(tzinfo=timezone.utc))
    return _utc(found) if found is not None else None


# --- deploy -------------------------------------------------------------------------------------------------
def _literal(expression: str | None) -> str:
    text = (expression or "").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]  # specs._literal_timers quoted it for SpiffWorkflow's evaluator
    return text


def timer_starts(spec: Any) -> list[tuple[Any, str]]:
    """(task spec, timer text) of each top-level start event of a process spec that carries a timer."""
    out = []
    for task_spec in spec.task_specs.values():
        definition = getattr(task_spec, "event_definition", None)
        if type(task_spec).__name__ == "StartEvent" and isinstance(definition, TimerEventDefinition):
            out.append((task_spec, _literal(definition.expression)))
    return out


def prepare_starts(session: Session, processes: list[Any], now: datetime) -> None:
    """Before a deploy stores its processes: plain starts in their specs, and the schedule rows of each process
    whose version this deploy makes the newest (a redeploy of the same timer keeps its row and next time)."""
    problems = []
    for proc in processes:
        starts = timer_starts(proc.spec)
        for task_spec, text in starts:
            if not timer_literals.is_iso8601_timer(text):
                problems.append({"file": proc.filename, "element_id": task_spec.name,
                                 "message": f"定时启动事件的时间必须是 ISO 8601 时间或周期（如 R/2026-01-01T00:00:00+08:00/P1Y），"
                                            f"实为 {text!r}"})
            task_spec.event_definition = NoneEventDefinition()
        if problems or not _becomes_newest(session, proc):
            continue
        rows = {row.start_event_id: row for row in session.scalars(
            select(ScheduledStart).where(ScheduledStart.process_key == proc.process_key))}
        for task_spec, text in starts:
            row = rows.pop(task_spec.name, None)
            if row is not None and row.timer_text == text:
                continue
            if row is None:
                row = ScheduledStart(process_key=proc.process_key, start_event_id=task_spec.name, fired_count=0,
                                     last_error="")
                session.add(row)
            row.timer_text, row.anchored_at = text, now
            row.next_fire_at = next_fire(text, now, now)
            row.claimed_by = row.claimed_until = None
        for gone in rows.values():  # the new version has no such timer start any more
            session.delete(gone)
    if problems:
        raise ValidationFailed(f"{len(problems)} 个问题，未部署任何流程", details=problems)
    session.flush()


def _becomes_newest(session: Session, proc: Any) -> bool:
    existing = session.scalar(select(ProcessVersion.version).where(ProcessVersion.content_hash == proc.content_hash))
    if existing is None:
        return True  # stored now as the next version
    newest = session.scalar(select(func.max(ProcessVersion.version)).where(ProcessVersion.process_key == proc.process_key))
    return existing == newest


# --- firing -------------------------------------------------------------------------------------------------
def claim_due_starts(session: Session, now: datetime, worker: str, limit: int = 20) -> list[tuple[int, datetime]]:
    """(row id, occurrence) of due schedules, claimed for a lease; PostgreSQL skips rows others hold."""
    stmt = (select(ScheduledStart.id, ScheduledStart.next_fire_at)
            .where(ScheduledStart.next_fire_at.is_not(None), ScheduledStart.next_fire_at <= now,
                   or_(ScheduledStart.claimed_until.is_(None), ScheduledStart.claimed_until < now))
            .order_by(ScheduledStart.next_fire_at, ScheduledStart.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = [(row.id, row.next_fire_at) for row in session.execute(stmt)]
    if rows:
        session.execute(update(ScheduledStart).where(ScheduledStart.id.in_([r[0] for r in rows]))
                        .values(claimed_by=worker, claimed_until=now + lease()).execution_options(synchronize_session=False))
    return rows


def fire_due_starts(engine: Any, worker: str, limit: int = 20) -> int:
    """Open the case of every due timer start event; returns how many cases were opened."""
    now = engine.clock()
    with engine.db.transaction() as session:
        due = claim_due_starts(session, now, worker, limit)
    return sum(fire_start(engine, row_id, occurrence) for row_id, occurrence in due)


def fire_start(engine: Any, row_id: int, occurrence: datetime) -> int:
    """Open the case of one occurrence, if this call is the one that moves the schedule past it (1), else 0."""
    now = engine.clock()
    try:
        with engine.db.transaction() as session:
            row = session.get(ScheduledStart, row_id)
            if row is None or row.next_fire_at != occurrence:
                return 0
            following = next_fire(row.timer_text, row.anchored_at, max(now, occurrence))
            moved = session.execute(
                update(ScheduledStart).where(ScheduledStart.id == row_id, ScheduledStart.next_fire_at == occurrence)
                .values(next_fire_at=following, last_fired_at=occurrence, fired_count=ScheduledStart.fired_count + 1,
                        claimed_by=None, claimed_until=None, last_error="")
                .execution_options(synchronize_session=False)).rowcount
            if moved != 1:
                return 0  # another worker fired this occurrence
            local = occurrence.replace(tzinfo=timezone.utc).astimezone(OFFICE_TZ)
            data = {"scheduled_for": local.isoformat(timespec="seconds"), "scheduled_year": local.year,
                    "schedule_event": row.start_event_id}
            case, workflow = engine._start(session, row.process_key, data, SCHEDULER, now)
            session.execute(update(ScheduledStart).where(ScheduledStart.id == row_id).values(last_case_id=case.id)
                            .execution_options(synchronize_session=False))
    except DubanError as err:  # the case could not start (a handler failed): nothing written, tried again later
        log.warning("scheduled start %s failed: %s", row_id, err)
        _failed(engine, row_id, occurrence, now, getattr(err, "message", None) or str(err))
        return 0
    except Exception as err:  # noqa: BLE001 - a failing handler must not end the worker
        log.exception("scheduled start %s failed", row_id)
        _failed(engine, row_id, occurrence, now, f"{type(err).__name__}: {err}")
        return 0
    engine.live.put(case.id, case.lock_version, workflow)
    return 1


def _failed(engine: Any, row_id: int, occurrence: datetime, now: datetime, message: str) -> None:
    with engine.db.transaction() as session:
        session.execute(update(ScheduledStart).where(ScheduledStart.id == row_id, ScheduledStart.next_fire_at == occurrence)
                        .values(last_error=message[:2000], claimed_by="retry", claimed_until=now + RETRY_AFTER)
                        .execution_options(synchronize_session=False))


def schedules(session: Session) -> list[ScheduledStart]:
    return list(session.scalars(select(ScheduledStart).order_by(ScheduledStart.process_key, ScheduledStart.start_event_id)))


def forget(session: Session, process_key: str) -> None:
    session.execute(delete(ScheduledStart).where(ScheduledStart.process_key == process_key))
