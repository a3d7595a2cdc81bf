"""Timers, deadlines, reminders and escalation on a controllable clock: each fires once, at its time."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.models import Case, Event, Notification, Timer
from engine.worker import TimerRunner
from handlers import REGISTRY
from tests.conftest import Clock, as_user, make_engine

T0 = datetime(2026, 11, 2, 1, 0, 0)  # naive UTC, 09:00 in Beijing


HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="x">
  <bpmn:process id="{key}" name="定时测试" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="organization" name="组织部">{refs}</bpmn:lane></bpmn:laneSet>
"""


def _process(key: str, body: str, flows: list[tuple[str, str]]) -> str:
    nodes = re.findall(r'<bpmn:(?:userTask|scriptTask|serviceTask|startEvent|endEvent|intermediateCatchEvent|'
                       r'boundaryEvent) id="([^"]+)"', body)
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes)
    flow_xml = "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>' for i, (a, b) in enumerate(flows))
    return HEAD.format(key=key, refs=refs) + body + flow_xml + "</bpmn:process></bpmn:definitions>"


def _user(task_id: str, name: str, due: str | None = None) -> str:
    prop = f'<spiffworkflow:property name="dueIn" value="{due}"/>' if due else ""
    return (f'<bpmn:userTask id="{task_id}" name="{name}"><bpmn:extensionElements><spiffworkflow:properties>'
            f'<spiffworkflow:property name="formJsonSchemaFilename" value="empty.json"/>{prop}'
            f'</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>')


def _timer(kind: str, text: str) -> str:
    return f'<bpmn:timerEventDefinition id="def_{kind}"><bpmn:{kind} xsi:type="bpmn:tFormalExpression">{text}</bpmn:{kind}></bpmn:timerEventDefinition>'


PROCESSES = {
    "duration": (f'<bpmn:startEvent id="start"/>{_user("first", "第一步")}'
                 f'<bpmn:intermediateCatchEvent id="wait" name="等两小时">{_timer("timeDuration", "PT2H")}</bpmn:intermediateCatchEvent>'
                 f'{_user("second", "第二步")}<bpmn:endEvent id="end"/>',
                 [("start", "first"), ("first", "wait"), ("wait", "second"), ("second", "end")]),
    "date": (f'<bpmn:startEvent id="start"/>'
             f'<bpmn:intermediateCatchEvent id="wait" name="到期日">{_timer("timeDate", "2026-11-05T09:00:00+08:00")}</bpmn:intermediateCatchEvent>'
             f'{_user("after", "到期后")}<bpmn:endEvent id="end"/>',
             [("start", "wait"), ("wait", "after"), ("after", "end")]),
    "boundary": (f'<bpmn:startEvent id="start"/>{_user("work", "整改情况报告")}'
                 f'<bpmn:boundaryEvent id="late" name="逾期" attachedToRef="work">{_timer("timeDuration", "P1D")}</bpmn:boundaryEvent>'
                 f'{_user("escalated", "督办处理")}<bpmn:endEvent id="end"/><bpmn:endEvent id="end2"/>',
                 [("start", "work"), ("work", "end"), ("late", "escalated"), ("escalated", "end2")]),
    "nonint": (f'<bpmn:startEvent id="start"/>{_user("work", "整改情况报告")}'
               f'<bpmn:boundaryEvent id="nudge" name="催办" attachedToRef="work" cancelActivity="false">{_timer("timeDuration", "P1D")}</bpmn:boundaryEvent>'
               f'{_user("remind", "电话催办")}<bpmn:endEvent id="end"/><bpmn:endEvent id="end2"/>',
               [("start", "work"), ("work", "end"), ("nudge", "remind"), ("remind", "end2")]),
    "cycle": (f'<bpmn:startEvent id="start"/>{_user("work", "长期整改")}'
              f'<bpmn:boundaryEvent id="tick" name="每小时" attachedToRef="work" cancelActivity="false">{_timer("timeCycle", "R3/PT1H")}</bpmn:boundaryEvent>'
              f'<bpmn:scriptTask id="count" name="计数"><bpmn:script>ticks = ticks + 1</bpmn:script></bpmn:scriptTask>'
              f'<bpmn:endEvent id="end"/><bpmn:endEvent id="end2"/>',
              [("start", "work"), ("work", "end"), ("tick", "count"), ("count", "end2")]),
    "failing": (f'<bpmn:startEvent id="start"/>'
                f'<bpmn:intermediateCatchEvent id="wait" name="一小时后">{_timer("timeDuration", "PT1H")}</bpmn:intermediateCatchEvent>'
                f'<bpmn:serviceTask id="svc" name="同步"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="test.flaky"/></bpmn:extensionElements></bpmn:serviceTask>'
                f'{_user("after", "同步后")}<bpmn:endEvent id="end"/>',
                [("start", "wait"), ("wait", "svc"), ("svc", "after"), ("after", "end")]),
    "timerstart": (f'<bpmn:startEvent id="start" name="每月一日启动">{_timer("timeDate", "2026-12-01T09:00:00+08:00")}</bpmn:startEvent>'
                   f'{_user("after", "月度督查")}<bpmn:endEvent id="end"/>',
                   [("start", "after"), ("after", "end")]),
    "deadline": (f'<bpmn:startEvent id="start"/>{_user("work", "报送整改结果", "P3D")}<bpmn:endEvent id="end"/>',
                 [("start", "work"), ("work", "end")]),
    "datadue": (f'<bpmn:startEvent id="start"/>{_user("work", "报送整改结果", "rectification_deadline")}<bpmn:endEvent id="end"/>',
                [("start", "work"), ("work", "end")]),
}


@pytest.fixture
def world(tmp_path):
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "empty.json").write_text(json.dumps({"type": "object", "properties": {}}))
    for key, (body, flows) in PROCESSES.items():
        (tmp_path / f"{key}.bpmn").write_text(_process(key, body, flows), encoding="utf-8")
    REGISTRY["test.flaky"] = lambda ctx: (_ for _ in ()).throw(RuntimeError("对方系统维护中"))
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    clock = Clock(T0)
    engine.clock = clock
    engine.deploy([str(tmp_path)])
    yield engine, clock, TimerRunner(engine, "test-worker")
    REGISTRY.pop("test.flaky", None)


def _steps(engine, case_id):
    return sorted(i["step_id"] for i in engine.tasks(case_id=case_id))


def _complete(engine, case_id, step):
    (item,) = [i for i in engine.tasks(case_id=case_id) if i["step_id"] == step]
    engine.complete(item["id"], {}, as_user(engine, "organization"))


def _events(engine, case_id, kind):
    with engine.db.reading() as s:
        return s.scalar(select(func.count()).select_from(Event).where(Event.case_id == case_id, Event.kind == kind))


def test_duration_timer_fires_once_at_its_time(world):
    engine, clock, runner = world
    case_id = engine.start_case("duration", {}, as_user(engine, "organization"))
    _complete(engine, case_id, "first")
    with engine.db.reading() as s:
        (timer,) = s.scalars(select(Timer).where(Timer.case_id == case_id)).all()
    assert timer.fire_at == T0 + timedelta(hours=2)
    clock.advance(hours=1, minutes=59)
    assert runner.run_due() == 0 and _steps(engine, case_id) == []
    clock.advance(minutes=2)
    assert runner.run_due() == 1 and _steps(engine, case_id) == ["second"]
    assert runner.run_due() == 0 and _events(engine, case_id, "timer_fired") == 1


def test_date_timer_fires_at_the_date(world):
    engine, clock, runner = world
    case_id = engine.start_case("date", {}, as_user(engine, "organization"))
    clock.now = datetime(2026, 11, 5, 0, 59)  # 08:59 in Beijing
    assert runner.run_due() == 0
    clock.advance(minutes=2)
    assert runner.run_due() == 1 and _steps(engine, case_id) == ["after"]


def test_interrupting_boundary_timer_takes_the_work_away(world):
    engine, clock, runner = world
    case_id = engine.start_case("boundary", {}, as_user(engine, "organization"))
    clock.advance(days=1, seconds=1)
    assert runner.run_due() == 1
    assert _steps(engine, case_id) == ["escalated"]  # the report is cancelled, the escalation step waits
    assert runner.run_due() == 0


def test_non_interrupting_boundary_timer_adds_work_and_keeps_the_task(world):
    engine, clock, runner = world
    case_id = engine.start_case("nonint", {}, as_user(engine, "organization"))
    clock.advance(days=1, seconds=1)
    assert runner.run_due() == 1
    assert _steps(engine, case_id) == ["remind", "work"]
    _complete(engine, case_id, "work")
    _complete(engine, case_id, "remind")
    assert engine.case(case_id)["status"] == "completed"


def test_cycle_timer_fires_each_period_then_stops(world):
    engine, clock, runner = world
    case_id = engine.start_case("cycle", {"ticks": 0}, as_user(engine, "organization"))
    for hour in (1, 2, 3):
        clock.now = T0 + timedelta(hours=hour, seconds=1)
        assert runner.run_due() == 1, hour
        assert _events(engine, case_id, "script_task") == hour  # the branch the tick started ran its script
    clock.advance(hours=5)
    assert runner.run_due() == 0 and _events(engine, case_id, "timer_fired") == 3
    assert _steps(engine, case_id) == ["work"]


def test_reminder_before_and_escalation_after_the_due_date(world):
    engine, clock, runner = world
    case_id = engine.start_case("deadline", {}, as_user(engine, "organization"))
    (item,) = engine.tasks(case_id=case_id)
    assert item["due_at"] == (T0 + timedelta(days=3)).isoformat() + "Z"
    clock.advance(days=1)  # two days before the deadline: 催办 to the role's clerks
    assert runner.run_due() == 1 and runner.run_due() == 0
    clock.advance(days=2, seconds=1)  # overdue: 督办 to the supervisors
    assert runner.run_due() == 1 and runner.run_due() == 0
    with engine.db.reading() as s:
        notes = s.execute(select(Notification.recipient, Notification.kind).where(Notification.case_id == case_id)
                          .order_by(Notification.id)).all()
    assert notes == [("organization", "reminder_sent"), ("supervisor", "escalated")]
    assert _events(engine, case_id, "reminder_sent") == 1 and _events(engine, case_id, "escalated") == 1


def test_completing_in_time_cancels_the_reminders(world):
    engine, clock, runner = world
    case_id = engine.start_case("deadline", {}, as_user(engine, "organization"))
    _complete(engine, case_id, "work")
    clock.advance(days=10)
    assert runner.run_due() == 0
    with engine.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Timer)) == 0


def test_deadline_from_case_data_is_the_end_of_that_day_in_beijing(world):
    engine, clock, runner = world
    case_id = engine.start_case("datadue", {"rectification_deadline": "2027-03-31"}, as_user(engine, "organization"))
    (item,) = engine.tasks(case_id=case_id)
    assert item["due_at"] == "2027-03-31T15:59:59Z"


def test_a_failing_timer_step_waits_as_an_incident_and_fires_once_retried(world):
    from engine import incidents

    engine, clock, runner = world
    case_id = engine.start_case("failing", {}, as_user(engine, "organization"))
    clock.advance(hours=1, seconds=1)
    assert runner.run_due() == 0
    assert engine.case(case_id)["status"] == "error"
    clock.advance(minutes=5)
    assert runner.run_due() == 0  # a case in error does not fire again and again
    REGISTRY["test.flaky"] = lambda ctx: {"synced": True}
    assert incidents.retry(engine, case_id, as_user(engine, "supervisor")) == "rescheduled"
    clock.advance(minutes=2)  # past the failed claim's lease
    assert runner.run_due() == 1
    assert _steps(engine, case_id) == ["after"] and _events(engine, case_id, "timer_fired") == 1


def test_reminders_show_in_the_inbox_and_as_notifications(world, tmp_path):
    engine, clock, runner = world
    case_id = engine.start_case("deadline", {}, as_user(engine, "organization"))
    clock.advance(days=3, seconds=1)
    assert runner.run_due() == 2  # the reminder, then the escalation
    from web import create_app

    app = create_app({"DATABASE_URL": str(engine.db.engine.url), "SECRET_KEY": "t", "TESTING": True,
                      "WTF_CSRF_ENABLED": False})
    app.extensions["duban"].clock = clock
    client = app.test_client()
    client.post("/login", data={"username": "organization", "password": "demo"})
    inbox = client.get("/").get_data(as_text=True)
    assert "已督办" in inbox and '<span class="count alert">1</span>' in inbox
    page = client.get("/notifications").get_data(as_text=True)
    assert "催办：报送整改结果" in page and f"项目 #{case_id}" in page
    assert '<span class="count alert">' not in client.get("/").get_data(as_text=True)  # read once seen
    supervisor = app.test_client()
    supervisor.post("/login", data={"username": "supervisor", "password": "demo"})
    assert "督办：报送整改结果 已逾期" in supervisor.get("/notifications").get_data(as_text=True)


def test_email_goes_out_after_commit_only(world, monkeypatch):
    import engine.notifications as notifications
    from engine.models import User

    engine, clock, runner = world
    monkeypatch.setenv("DUBAN_SMTP_HOST", "127.0.0.1")
    sent = []
    monkeypatch.setattr(notifications, "_send", lambda note: sent.append((note.email_to, note.subject)))
    with engine.db.transaction() as s:
        s.execute(User.__table__.update().where(User.username == "supervisor").values(email="jiandu@example.org"))
    case_id = engine.start_case("deadline", {}, as_user(engine, "organization"))
    # A step that rolls back writes no notification, so nothing can be sent for it.
    with pytest.raises(RuntimeError):
        with engine.db.transaction() as s:
            notifications.notify(s, ["supervisor"], "escalated", "不应发送", "x", clock.now, case_id=case_id)
            raise RuntimeError("rolled back")
    assert notifications.deliver_pending_email(engine) == 0
    clock.advance(days=3, seconds=1)
    runner.run_due()
    assert sent == []  # written in the worker's transaction, delivered by the mail job after commit
    assert notifications.deliver_pending_email(engine) == 1
    assert sent == [("jiandu@example.org", "督办：报送整改结果 已逾期（应于 2026-11-05 09:00 前办结）")]
    assert notifications.deliver_pending_email(engine) == 0  # once


def test_a_timer_start_event_opens_its_case_at_its_time(world):
    """The schedule (engine/schedules.py) opens the case when the time comes; a case opened by hand meanwhile
    is opened now and does not wait on the start timer."""
    engine, clock, runner = world

    def cases():
        with engine.db.reading() as s:
            return list(s.scalars(select(Case.id).where(Case.process_key == "timerstart")))

    by_hand = engine.start_case("timerstart", {}, as_user(engine, "organization"))
    assert _steps(engine, by_hand) == ["after"]
    clock.now = datetime(2026, 12, 1, 0, 59)  # 08:59 in Beijing
    assert runner.run_due() == 0 and cases() == [by_hand]
    clock.advance(minutes=2)
    assert runner.run_due() == 1
    [scheduled] = [c for c in cases() if c != by_hand]
    assert _steps(engine, scheduled) == ["after"]
    clock.advance(days=40)
    runner.run_due()  # (the library's yearly reports open at New Year)
    assert len(cases()) == 2  # a date fires once
