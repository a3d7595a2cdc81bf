"""The worker: claims due timer rows and acts on them — BPMN timers step their case, deadlines remind and escalate.

`duban worker` runs it on an APScheduler interval; `duban serve` runs one inside the web process for
the single-machine default. Any number may run against one database.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import defaultdict
from datetime import datetime, timezone

from sqlalchemy import select

from .access import Actor
from .clock import engine_time
from .errors import Conflict, StepFailed
from .models import User, WorkItem
from .notifications import notify
from .projection import CASE_BY_ID, LOCK_CASE, CaseState, EventLog, append_event
from .runtime import Engine
from .steps import retrying
from .timers import OFFICE_TZ, claim_due, lease, renew, take

log = logging.getLogger("duban.worker")
SYSTEM = Actor("system", frozenset({"supervisor"}))
BATCH = 20  # rows claimed per poll: what a killed worker can hold up, for at most one lease


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class TimerRunner:
    """Fires what is due, each row in its own transaction.

    Rows are claimed a few at a time for a short lease that is renewed while the batch is worked
    through, so the rows of a worker that dies are taken over by another within seconds.
    """

    def __init__(self, engine: Engine, name: str | None = None, batch: int = BATCH) -> None:
        self.engine = engine
        self.name = name or worker_name()
        self.batch = batch

    def run_due(self, limit: int | None = None) -> int:
        """Claim and fire everything due now; returns how many rows were acted on."""
        limit = limit or self.batch
        from .schedules import fire_due_starts  # timer start events open their cases first
        fired = fire_due_starts(self.engine, self.name)
        while True:
            now = self.engine.clock()
            with self.engine.db.transaction() as session:
                rows = [(t.id, t.case_id, t.kind, t.work_item_id) for t in claim_due(session, now, self.name, limit)]
            if not rows:
                return fired
            held_until = now + lease()
            bpmn: dict[int, list[int]] = defaultdict(list)
            for timer_id, case_id, kind, item_id in rows:
                if kind == "bpmn":
                    bpmn[case_id].append(timer_id)
            pending = [r[0] for r in rows]
            for timer_id, case_id, kind, item_id in rows:
                held_until = self._keep(pending, held_until)
                if kind != "bpmn":
                    fired += self._deadline(timer_id, case_id, kind, item_id)
                elif case_id in bpmn:
                    fired += self._case_timers(case_id, bpmn.pop(case_id))
                pending.remove(timer_id)
            if len(rows) < limit:
                return fired

    def _keep(self, pending: list[int], held_until: datetime) -> datetime:
        """Renew the lease on the rows still to be worked once half of it has passed."""
        now = self.engine.clock()
        if held_until - now > lease() / 2:
            return held_until
        with self.engine.db.transaction() as session:
            renew(session, pending, self.name, now)
        return now + lease()

    def _case_timers(self, case_id: int, timer_ids: list[int]) -> int:
        try:
            return retrying(lambda: self._fire_case_timers(case_id, timer_ids))
        except Conflict:  # the case kept moving: its rows stay claimed and are taken up after the lease
            log.warning("timers of case %s deferred: the case is busy", case_id)
            return 0
        except StepFailed as err:
            log.warning("timer step failed for case %s: %s", case_id, err)
            self.engine.record_incident(case_id, {"kind": "timers", "timer_ids": timer_ids}, err)
            return 0
        except Exception as err:  # a handler failing in an unexpected way is the case's incident, not the worker's end
            log.exception("timer step failed for case %s", case_id)
            self.engine.record_incident(case_id, {"kind": "timers", "timer_ids": timer_ids}, f"定时器：{err}")
            return 0

    def _fire_case_timers(self, case_id: int, timer_ids: list[int]) -> int:
        engine, now = self.engine, self.engine.clock()
        with engine.db.transaction() as session:
            conn = session.connection()
            # The case row first (locked on PostgreSQL), then its timers: the steps' lock order.
            case = CaseState(*conn.execute(CASE_BY_ID.with_for_update(), {"case_id": case_id}).one())
            if take(session, timer_ids, self.name) == 0:
                return 0
            if case.status != "running":
                return len(timer_ids)  # a suspended or closed case lets its timers go
            version = engine.versions.get(session, case.process_version_id)
            workflow = engine._workflow(session, case, version)
            workflow.script_engine = engine._script_engine(session, case, SYSTEM, now)
            events = EventLog(case, "system", now)
            events.add("timer_fired", after={"timers": len(timer_ids)})
            with engine_time(engine.clock):
                workflow.refresh_timers()
            engine._advance(session, case, workflow, version.catalogue, events, now)
        engine.live.put(case.id, case.lock_version, workflow)
        return len(timer_ids)

    def _deadline(self, timer_id: int, case_id: int, kind: str, item_id: int | None) -> int:
        engine, now = self.engine, self.engine.clock()
        with engine.db.transaction() as session:
            if not engine.db.is_sqlite:
                session.execute(LOCK_CASE, {"case_id": case_id})
            if take(session, [timer_id], self.name) == 0:
                return 0
            item = session.get(WorkItem, item_id) if item_id else None
            if item is None or item.status != "ready":
                return 1
            if kind == "reminder":
                recipients = [item.assignee] if item.assignee else _clerks(session, item.role, item.unit)
                subject = f"催办：{item.step_name} 将于 {_local(item.due_at)} 到期"
                item.reminded_at = now
                event_kind = "reminder_sent"
            else:
                recipients = _clerks(session, "supervisor", item.unit)
                subject = f"督办：{item.step_name} 已逾期（应于 {_local(item.due_at)} 前办结）"
                item.escalated_at = now
                event_kind = "escalated"
            body = f"项目 #{item.case_id} {item.unit} · {item.step_name} · 办理人：{item.assignee or '未签收'}"
            notify(session, recipients, event_kind, subject, body, now, case_id=item.case_id, work_item_id=item.id)
            append_event(session, item.case_id, "system", event_kind, now, step_id=item.step_id,
                         step_name=item.step_name, work_item_id=item.id,
                         after={"due_at": item.due_at.isoformat() if item.due_at else None, "to": recipients})
            return 1


def _clerks(session, role: str, unit: str) -> list[str]:
    users = session.scalars(select(User)).all()
    return sorted(u.username for u in users
                  if role in (u.roles or []) and (u.units is None or unit in (u.units or [])))


def _local(moment) -> str:
    return moment.replace(tzinfo=timezone.utc).astimezone(OFFICE_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""


def start_scheduler(engine: Engine, interval: float = 1.0, blocking: bool = False):
    """An APScheduler job that runs the timer runner every `interval` seconds, one run at a time."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    runner = TimerRunner(engine)
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone="UTC")
    scheduler.add_job(runner.run_due, "interval", seconds=interval, max_instances=1, coalesce=True,
                      id="duban-timers", misfire_grace_time=None)
    scheduler.add_job(lambda: deliver_email(engine), "interval", seconds=max(interval, 5.0), max_instances=1,
                      coalesce=True, id="duban-email", misfire_grace_time=None)
    scheduler.start()
    return scheduler


def deliver_email(engine: Engine) -> int:
    from .notifications import deliver_pending_email

    return deliver_pending_email(engine)
