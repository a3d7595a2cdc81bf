"""The time limits of rectification in both joint audits, on a controllable clock (seed 000, 四、几点建议).

- the unit's rectification report is due at the end of the deadline day set in 情况汇总/信息反馈 (Beijing);
- when the deadline passes without a report, the deadline timer (整改期限届满, non-interrupting)
  fires once: 逾期未报督办 records the late report, the report stays with the unit, the engine's
  督办 escalation of the work item fires once too, and the case still runs to its end;
- a report after the deadline is recorded on the main path (报送时限核查); one in time is not;
- a serious case is put under listed supervision (挂牌督办) with a fixed deadline.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from engine.models import Attachment, Case, Event, Notification, Timer, WorkItem
from engine.worker import TimerRunner
from handlers import HandlerContext, registered
from engine.schedules import ScheduledStart
from tests.conftest import Clock, CASE_FACTS, as_user, complete_step, make_engine, ready_steps
from tests.processes.walk import walk

T0 = datetime(2027, 3, 1, 1, 0, 0)  # naive UTC: 09:00 in Beijing
DEADLINE = "2027-03-31"
DUE = datetime(2027, 3, 31, 15, 59, 59)  # 2027-03-31 23:59:59 in Beijing, naive UTC

VARIANTS = {
    "joint_audit_xinghua": dict(report="report_rectification", visit="verify_rectification_audit", final="issue_report",
                                sets_deadline="consolidate"),
    "joint_audit_suzhou": dict(report="rectify", visit="verify_rectification_audit", final="acceptance",
                               sets_deadline="feedback"),
}
KEYS = list(VARIANTS)
FINDING = [{"description": "账外账", "severity": "major", "problem_category": "slush_fund",
            "responsibility_type": "direct", "demerit_points": 2}]


@pytest.fixture
def world(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'timing.db'}")
    with engine.db.transaction() as session:  # these tests count the joint audit's timers the worker fires; the
        session.execute(delete(ScheduledStart))  # library's yearly reports (every 1 January) are not theirs
    clock = Clock(T0)
    engine.clock = clock
    return engine, clock, TimerRunner(engine, "timing-worker")


def _step(engine, clock, case_id, step, **data):
    clock.advance(hours=1)
    return complete_step(engine, case_id, step, **data)


def _to_report(engine, clock, key: str, serious: bool = False, deadline: str = DEADLINE,
               category: str = "slush_fund") -> int:
    """Walk a case of `key` to the unit's rectification report, with one major finance finding."""
    case_id = engine.start_case(key, dict(CASE_FACTS), as_user(engine, "organization"))
    v = VARIANTS[key]
    review = "review_finance" if key == "joint_audit_xinghua" else "verify_finance"
    data = {review: {"finance_findings": [dict(FINDING[0], problem_category=category)]}, "consolidate": {"serious": serious},
            "supervision_letter": {"listed_deadline": deadline, "supervision_letter_date": "2027-03-01"}}
    data.setdefault(v["sets_deadline"], {}).update(rectification_deadline=deadline)
    while v["report"] not in ready_steps(engine, case_id):
        clock.advance(hours=1)
        step = ready_steps(engine, case_id)[0]
        complete_step(engine, case_id, step, **data.get(step, {}))
    assert ready_steps(engine, case_id) == [v["report"]]
    return case_id


def _evidence(engine, case_id: int) -> int:
    with engine.db.transaction() as s:
        a = Attachment(case_id=case_id, filename="整改佐证.pdf", content_type="application/pdf", size=1, sha256="0" * 64,
                       uploaded_by="audit", uploaded_at=engine.clock())
        s.add(a)
        s.flush()
        return a.id


def _verify(engine, clock, key: str, case_id: int, close: bool) -> None:
    """The audit bureau visits and, when `close`, closes the finance item with evidence."""
    extra = dict(finance_closed_item_nos=[1], finance_evidence_ids=[_evidence(engine, case_id)]) if close else {}
    _step(engine, clock, case_id, VARIANTS[key]["visit"], finance_visit_date=DEADLINE, finance_visit_note="回访", **extra)


def _finish(engine, clock, key: str, case_id: int) -> dict:
    """Report, close the item at the visit, and walk the report to its approval: the case completes."""
    v = VARIANTS[key]
    _step(engine, clock, case_id, v["report"], reported_item_nos=[1])
    _verify(engine, clock, key, case_id, close=True)
    walk(engine, case_id, None, {"hold_accountable": {"accountability_outcome": "circulated_criticism"}})
    view = engine.case(case_id)
    assert view["status"] == "completed"
    return view


def _events(engine, case_id: int, kind: str, step_id: str | None = None) -> list[Event]:
    with engine.db.reading() as s:
        query = select(Event).where(Event.case_id == case_id, Event.kind == kind)
        if step_id is not None:
            query = query.where(Event.step_id == step_id)
        return list(s.scalars(query.order_by(Event.seq)).all())


def _report_item(engine, key: str, case_id: int) -> dict:
    (item,) = [i for i in engine.tasks(case_id=case_id) if i["step_id"] == VARIANTS[key]["report"]]
    return item


@pytest.mark.parametrize("key", KEYS)
def test_the_report_is_due_at_the_end_of_the_deadline_day_in_beijing(world, key):
    engine, clock, runner = world
    case_id = _to_report(engine, clock, key)
    item = _report_item(engine, key, case_id)
    assert item["due_at"] == "2027-03-31T15:59:59Z" and item["role"] == "unit"
    with engine.db.reading() as s:
        rows = s.execute(select(Timer.kind, Timer.fire_at).where(Timer.case_id == case_id).order_by(Timer.kind)).all()
    # 催办 two days before, 督办 at the due time, and the BPMN deadline timer at the same moment
    assert sorted(rows) == sorted([("reminder", DUE - timedelta(days=2)), ("escalation", DUE), ("bpmn", DUE)])
    # the department's verification keeps its own time limit (P15D); only the department with items verifies
    v = VARIANTS[key]
    _step(engine, clock, case_id, v["report"], reported_item_nos=[1])
    (visit,) = engine.tasks(case_id=case_id)
    assert visit["step_id"] == v["visit"] and visit["due_at"] == (clock.now + timedelta(days=15)).isoformat() + "Z"
    assert visit["role"] == "audit"


@pytest.mark.parametrize("key", KEYS)
def test_a_missed_deadline_fires_once_is_recorded_and_the_case_still_completes(world, key):
    engine, clock, runner = world
    report = VARIANTS[key]["report"]
    case_id = _to_report(engine, clock, key)
    item_id = _report_item(engine, key, case_id)["id"]

    clock.now = DUE - timedelta(minutes=1)
    assert runner.run_due() == 1  # only the 催办 reminder so far
    assert _events(engine, case_id, "timer_fired") == [] and _events(engine, case_id, "escalated") == []

    clock.now = DUE + timedelta(seconds=1)
    assert runner.run_due() == 2  # the work item's 督办 escalation and the BPMN deadline timer
    assert runner.run_due() == 0
    clock.advance(days=3)
    assert runner.run_due() == 0  # each fires once
    assert len(_events(engine, case_id, "timer_fired")) == 1
    (escalated,) = _events(engine, case_id, "escalated")
    assert escalated.step_id == report and escalated.work_item_id == item_id
    with engine.db.reading() as s:
        notes = s.scalars(select(Notification.recipient).where(Notification.case_id == case_id,
                                                               Notification.kind == "escalated")).all()
    assert notes == ["supervisor"]

    # 逾期未报督办 ran on the timer's branch and recorded the late report
    (overdue,) = _events(engine, case_id, "service_task", "escalate_overdue_report")
    assert overdue.step_name == "逾期未报督办" and overdue.actor == "system"
    assert overdue.data_after["overdue_reported"] is True and overdue.data_after["accountability_flag"] is True
    (entry,) = overdue.data_after["late_reports"]
    assert (entry["round"], entry["deadline"], entry["noticed_at"]) == (1, DEADLINE, "2027-04-01T00:00:00+08:00")
    assert "逾期未报" in entry["note"]

    # non-interrupting: the same report work item is still with the unit, and no other work appeared
    assert ready_steps(engine, case_id) == [report]
    assert _report_item(engine, key, case_id)["id"] == item_id
    assert engine.case(case_id)["status"] == "running"

    # the late report comes in: the main path records it, once, for accountability
    _step(engine, clock, case_id, report, reported_item_nos=[1])
    data = engine.case(case_id)["data"]
    assert data["overdue_reported"] is True and data["accountability_flag"] is True
    assert data["report_in_time"] is False
    (late,) = data["late_reports"]
    assert (late["round"], late["deadline"]) == (1, DEADLINE)
    assert late["reported_at"].startswith("2027-04-04")

    # the late report goes to the discipline body, which records an outcome; the case runs to its end
    _verify(engine, clock, key, case_id, close=True)
    (accountability,) = engine.tasks(case_id=case_id)
    assert (accountability["step_id"], accountability["role"]) == ("hold_accountable", "discipline")
    assert engine.case(case_id)["data"]["accountability_ground"] == "late_report"
    walk(engine, case_id, None, {"hold_accountable": {"accountability_outcome": "warning_talk"}})
    view = engine.case(case_id)
    assert view["status"] == "completed"
    assert len(view["data"]["late_reports"]) == 1 and view["data"]["overdue_reported"] is True
    assert len(_events(engine, case_id, "escalated")) == 1 and len(_events(engine, case_id, "timer_fired")) == 1
    with engine.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Timer).where(Timer.case_id == case_id)) == 0


@pytest.mark.parametrize("key", KEYS)
def test_a_report_in_time_records_no_late_report(world, key):
    engine, clock, runner = world
    v = VARIANTS[key]
    case_id = _to_report(engine, clock, key)
    clock.now = DUE - timedelta(days=1)  # 2027-03-31 00:00 in Beijing: the last day
    assert runner.run_due() == 1  # the reminder
    _step(engine, clock, case_id, v["report"], reported_item_nos=[1])
    data = engine.case(case_id)["data"]
    assert data["report_in_time"] is True
    assert "late_reports" not in data and "overdue_reported" not in data and "accountability_flag" not in data
    clock.now = DUE + timedelta(days=10)
    assert runner.run_due() == 0  # the deadline timer and the escalation went with the report
    assert _events(engine, case_id, "timer_fired") == [] and _events(engine, case_id, "escalated") == []
    assert _events(engine, case_id, "service_task", "escalate_overdue_report") == []
    _verify(engine, clock, key, case_id, close=True)
    assert "hold_accountable" not in ready_steps(engine, case_id)  # nothing for the discipline body
    walk(engine, case_id, None)
    view = engine.case(case_id)
    assert view["status"] == "completed" and "late_reports" not in view["data"]


@pytest.mark.parametrize("key", KEYS)
def test_a_late_report_is_recorded_even_when_no_worker_ran(world, key):
    engine, clock, runner = world
    case_id = _to_report(engine, clock, key)
    clock.now = DUE + timedelta(days=2)  # nobody ran the worker: the timer never fired
    _step(engine, clock, case_id, VARIANTS[key]["report"])
    data = engine.case(case_id)["data"]
    assert data["report_in_time"] is False and data["accountability_flag"] is True
    assert [(e["round"], e["deadline"]) for e in data["late_reports"]] == [(1, DEADLINE)]
    assert _events(engine, case_id, "timer_fired") == []  # the report cancelled the timer before any worker saw it


@pytest.mark.parametrize("key", KEYS)
def test_each_round_has_its_own_report_deadline(world, key):
    engine, clock, runner = world
    v = VARIANTS[key]
    case_id = _to_report(engine, clock, key)
    clock.now = DUE + timedelta(hours=1)
    assert runner.run_due() == 3  # reminder, escalation, deadline timer of round 1
    _step(engine, clock, case_id, v["report"], reported_item_nos=[])
    _verify(engine, clock, key, case_id, close=False)
    _step(engine, clock, case_id, "hold_accountable", accountability_outcome="circulated_criticism")
    # round 2 opens with its own deadline, set by the organization department
    _step(engine, clock, case_id, "set_next_round", next_round_deadline="2027-04-30")
    item = _report_item(engine, key, case_id)
    assert item["due_at"] == "2027-04-30T15:59:59Z"
    data = engine.case(case_id)["data"]
    assert data["rectification_round"] == 2 and [r["deadline"] for r in data["rounds"]] == [DEADLINE, "2027-04-30"]
    _step(engine, clock, case_id, v["report"], reported_item_nos=[1])  # in time for round 2
    data = engine.case(case_id)["data"]
    assert data["report_in_time"] is True
    assert [(e["round"], e["deadline"]) for e in data["late_reports"]] == [(1, DEADLINE)]
    _verify(engine, clock, key, case_id, close=True)
    assert "hold_accountable" not in ready_steps(engine, case_id)
    walk(engine, case_id, None)
    view = engine.case(case_id)
    assert view["status"] == "completed" and len(view["data"]["late_reports"]) == 1


@pytest.mark.parametrize("key", KEYS)
def test_a_serious_case_is_listed_for_supervision_with_a_fixed_deadline(world, key):
    engine, clock, runner = world
    serious = _to_report(engine, clock, key, serious=True)
    plain = _to_report(engine, clock, key, serious=False, category="irregular_debt")  # another kind: no repeat
    with engine.db.reading() as s:
        assert s.get(Case, serious).listed is True
        assert s.get(Case, plain).listed is False
    data = engine.case(serious)["data"]
    assert data["listed"] is True and data["listed_deadline"] == DEADLINE and data["listed_item_nos"] == [1]
    (listing,) = _events(engine, serious, "service_task", "list_items")
    assert listing.step_name == "挂牌督办" and listing.data_after["listed"] is True
    (letter,) = _events(engine, serious, "task_completed", "supervision_letter")  # the 督办函, a recorded step
    plain_data = engine.case(plain)["data"]
    assert "listed" not in plain_data and "listed_deadline" not in plain_data
    assert _events(engine, plain, "task_completed", "supervision_letter") == []
    # listing changes nothing else: the unit's report is next, with the same deadline
    assert _report_item(engine, key, serious)["due_at"] == _report_item(engine, key, plain)["due_at"]
    view = _finish(engine, clock, key, serious)  # closed, then lifted (摘牌): the case is listed no more
    assert view["data"]["listed"] is False
    assert [e.step_id for e in _events(engine, serious, "task_completed", "lift_listing")] == ["lift_listing"]
    with engine.db.reading() as s:
        assert s.get(Case, serious).listed is False


def test_listing_without_a_deadline_gives_thirty_days(world):
    engine, clock, runner = world
    case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "organization"))
    data: dict = {"serious": True}
    now = datetime(2027, 1, 31, 17, 0)  # 2027-02-01 01:00 in Beijing
    with engine.db.transaction() as session:
        result = registered()["supervision.list_case"](
            HandlerContext(session, case_id, "戴窑镇", data, {}, "system", now))
    assert result["listed_deadline"] == data["listed_deadline"] == "2027-03-03"
    with engine.db.reading() as s:
        assert s.get(Case, case_id).listed is True
        assert s.scalar(select(func.count()).select_from(WorkItem).where(WorkItem.case_id == case_id)) == 1
