"""Workers on PostgreSQL: 5,000 timers due at one moment, two worker processes, one killed mid-run.

Every timer must fire exactly once: each case takes its next step once, no row is left behind,
and the rows the killed worker had claimed are taken over when its lease runs out.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, insert, select

from engine.db import Database
from engine.models import Case, Event, Timer, WorkItem
from engine.runtime import Engine
from tests.conftest import as_user, make_engine

TIMERS = 5000
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "timed"
LEASE_SECONDS = "3"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _work(url: str, name: str, stop_at_empty: bool) -> None:
    """A worker process: fire what is due until nothing is left."""
    os.environ["DUBAN_TIMER_LEASE_SECONDS"] = LEASE_SECONDS
    from engine.worker import TimerRunner

    runner = TimerRunner(Engine(Database(url)), name)
    idle_since = None
    while True:
        fired = runner.run_due(limit=50)
        if fired:
            idle_since = None
            continue
        with runner.engine.db.reading() as session:
            left = session.scalar(select(func.count()).select_from(Timer))
        if left == 0 and stop_at_empty:
            return
        idle_since = idle_since or time.monotonic()
        if time.monotonic() - idle_since > 60:
            return
        time.sleep(0.05)


def _clone_cases(engine: Engine, template_id: int, count: int) -> list[int]:
    """Copies of one waiting case (same state, own rows): 5,000 timers in seconds, not minutes."""
    with engine.db.transaction() as session:
        case = session.get(Case, template_id)
        timer = session.scalar(select(Timer).where(Timer.case_id == template_id))
        columns = {c.key: getattr(case, c.key) for c in Case.__table__.columns if c.key != "id"}
        ids = session.execute(insert(Case).returning(Case.id), [dict(columns) for _ in range(count)]).scalars().all()
        session.execute(insert(Timer), [dict(case_id=i, kind="bpmn", task_id=timer.task_id, fire_at=timer.fire_at)
                                        for i in ids])
    return [template_id, *ids]


def test_two_workers_fire_five_thousand_timers_once_even_when_one_is_killed(pg_url):
    engine = make_engine(pg_url)
    engine.deploy([str(FIXTURE)])
    engine.clock = lambda: _now() - timedelta(hours=2)  # started two hours ago: the one-hour timers are all due
    template = engine.start_case("wait_then_work", {}, as_user(engine, "organization"))
    case_ids = _clone_cases(engine, template, TIMERS - 1)

    ctx = mp.get_context("spawn")
    doomed = ctx.Process(target=_work, args=(pg_url, "doomed", False))
    survivor = ctx.Process(target=_work, args=(pg_url, "survivor", True))
    started = time.monotonic()
    doomed.start()
    survivor.start()
    while True:  # kill one worker in the middle of the run
        with engine.db.reading() as session:
            left = session.scalar(select(func.count()).select_from(Timer))
        if left < TIMERS * 0.6:
            break
        time.sleep(0.02)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join()
    survivor.join(timeout=240)
    elapsed = time.monotonic() - started
    assert not survivor.is_alive(), "the surviving worker did not finish"
    assert elapsed < 240

    with engine.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Timer)) == 0
        fired = dict(session.execute(select(Event.case_id, func.count()).where(Event.kind == "timer_fired")
                                     .group_by(Event.case_id)).all())
        assert len(fired) == TIMERS and set(fired.values()) == {1}  # each timer fired exactly once
        ready = session.scalar(select(func.count()).select_from(WorkItem).where(
            WorkItem.status == "ready", WorkItem.step_id == "work", WorkItem.case_id.in_(case_ids)))
        assert ready == TIMERS  # and each case took its next step once
    print(f"\n{TIMERS} timers fired by 2 workers (one killed) in {elapsed:.1f} s")
