"""A step whose case moved under it is run again; only the clerk's own double completion is a conflict."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from engine import steps
from engine.errors import Conflict
from engine.models import Case, Event, Timer, WorkItem
from engine.runtime import Engine
from engine.steps import CaseMoved
from engine.worker import TimerRunner
from tests.conftest import CASE_FACTS, Clock, as_user, complete_step, ready_steps
from tests.engine.test_timers import T0, world  # noqa: F401  (fixture)
from tests.processes.walk import walk

BEFORE_REVIEWS = 7  # the notice, its three countersignatures, publicity, the plan, entry


def _reviews_ready(engine: Engine) -> int:
    case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "organization"))
    walk(engine, case_id, "review_finance")  # the notice and its countersignatures, publicity, the plan, entry
    assert ready_steps(engine, case_id) == ["review_establishment", "review_finance", "review_personnel"]
    return case_id


def _lose_first_claims(monkeypatch, times: int) -> list[int]:
    """Make the version check fail `times` times, as if another step had committed just before."""
    calls = []
    real = Engine._save_case

    def save(self, session, case, workflow, data):
        calls.append(case.id)
        if len(calls) <= times:
            raise CaseMoved(f"项目 {case.id} 已被他人同时更新")
        return real(self, session, case, workflow, data)

    monkeypatch.setattr(Engine, "_save_case", save)
    monkeypatch.setattr(steps.time, "sleep", lambda s: None)
    return calls


def _events(engine, case_id, kind):
    with engine.db.reading() as s:
        return s.scalar(select(func.count()).select_from(Event).where(Event.case_id == case_id, Event.kind == kind))


def test_a_completion_whose_case_moved_is_run_again_and_succeeds(engine, monkeypatch):
    case_id = _reviews_ready(engine)
    calls = _lose_first_claims(monkeypatch, 2)
    complete_step(engine, case_id, "review_finance")
    assert len(calls) == 3
    assert ready_steps(engine, case_id) == ["review_establishment", "review_personnel"]
    assert _events(engine, case_id, "task_completed") == BEFORE_REVIEWS + 1  # the earlier steps and this one, once


def test_a_case_that_keeps_moving_gives_up_after_five_attempts_without_an_incident(engine, monkeypatch):
    case_id = _reviews_ready(engine)
    calls = _lose_first_claims(monkeypatch, 99)
    with pytest.raises(Conflict):
        complete_step(engine, case_id, "review_finance")
    assert len(calls) == steps.ATTEMPTS
    assert engine.case(case_id)["status"] == "running"
    assert "review_finance" in ready_steps(engine, case_id)


def test_completing_the_same_item_twice_is_a_conflict_naming_who_did_it(engine):
    case_id = _reviews_ready(engine)
    (item,) = [i for i in engine.tasks(case_id=case_id) if i["step_id"] == "review_finance"]
    from engine.forms import example_data

    engine.complete(item["id"], example_data(item["form"]), as_user(engine, "audit"))
    with pytest.raises(Conflict, match="已办结.*audit"):
        engine.complete(item["id"], example_data(item["form"]), as_user(engine, "audit"))


def test_completing_an_item_another_step_cancelled_is_a_conflict(engine):
    case_id = _reviews_ready(engine)
    (item,) = [i for i in engine.tasks(case_id=case_id) if i["step_id"] == "review_finance"]
    with engine.db.transaction() as s:
        s.execute(update(WorkItem).where(WorkItem.id == item["id"]).values(status="cancelled"))
    with pytest.raises(Conflict, match="取消"):
        engine.complete(item["id"], {}, as_user(engine, "audit"))


def test_the_version_a_form_was_read_at_does_not_refuse_a_parallel_review(engine):
    """The API's expected_version is opt-in; without it, another department's submission is no conflict."""
    case_id = _reviews_ready(engine)
    seen = engine.case(case_id)["lock_version"]
    complete_step(engine, case_id, "review_personnel")
    with pytest.raises(Conflict):  # asked explicitly: refuse if the case moved
        (item,) = [i for i in engine.tasks(case_id=case_id) if i["step_id"] == "review_finance"]
        engine.complete(item["id"], {}, as_user(engine, "audit"), expected_version=seen)
    complete_step(engine, case_id, "review_finance")
    assert ready_steps(engine, case_id) == ["review_establishment"]


def test_a_timer_that_clashes_with_a_completion_fires_on_the_next_attempt_and_the_case_stays_running(world, monkeypatch):
    engine, clock, runner = world
    case_id = engine.start_case("duration", {}, as_user(engine, "organization"))
    (item,) = engine.tasks(case_id=case_id)
    engine.complete(item["id"], {}, as_user(engine, "organization"))
    clock.advance(hours=2, seconds=1)
    _lose_first_claims(monkeypatch, 1)
    assert runner.run_due() == 1
    assert engine.case(case_id)["status"] == "running"
    assert ready_steps(engine, case_id) == ["second"]
    assert _events(engine, case_id, "incident") == 0


def test_a_worker_that_dies_holding_timers_holds_them_only_for_its_short_lease(world):
    engine, clock, runner = world
    case_ids = []
    for _ in range(30):
        case_id = engine.start_case("duration", {}, as_user(engine, "organization"))
        (item,) = engine.tasks(case_id=case_id)
        engine.complete(item["id"], {}, as_user(engine, "organization"))
        case_ids.append(case_id)
    clock.advance(hours=2, seconds=1)
    from engine.timers import claim_due, lease

    with engine.db.transaction() as s:  # the dead worker's last claim, never acted on
        held = claim_due(s, clock(), "dead-worker", TimerRunner(engine).batch)
    assert len(held) == 20  # a poll takes a few rows, not everything that is due
    assert runner.run_due() == 10  # the survivor fires the rest at once
    clock.advance(seconds=lease().total_seconds() + 1)
    assert lease() <= timedelta(seconds=15)
    assert runner.run_due() == 20  # and the dead worker's rows within seconds
    with engine.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Timer).where(Timer.kind == "bpmn")) == 0
        assert s.scalar(select(func.count()).select_from(Case).where(Case.status == "error")) == 0
