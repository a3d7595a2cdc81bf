"""Timer start events: a process that starts itself every 1 January opens exactly one case per occurrence —
with two workers racing, after a redeploy, and after a worker was down over several New Years — and the case
it opens runs on at once instead of waiting on its own start timer."""
from __future__ import annotations

import json
import threading
from datetime import datetime

import pytest
from sqlalchemy import func, select

from engine.errors import ValidationFailed
from engine.models import Case
from engine.schedules import ScheduledStart, fire_start, next_fire
from engine.validation import validate_paths
from engine.worker import TimerRunner
from handlers import REGISTRY
from tests.conftest import Clock, make_engine, ready_steps

YEARLY = "R/2026-01-01T00:00:00+08:00/P1Y"
NEW_YEAR_2027 = datetime(2026, 12, 31, 16, 0)  # 1 January 2027 00:00 in Beijing, naive UTC


def _process(timer: str, key: str = "yearly_round", step_name: str = "年度汇总", handler: str | None = None) -> str:
    service = (f'<bpmn:serviceTask id="prepare" name="准备"><bpmn:extensionElements>'
               f'<spiffworkflow:serviceTaskOperator id="{handler}" resultVariable="prepared"/>'
               f'</bpmn:extensionElements></bpmn:serviceTask>') if handler else ""
    first = "prepare" if handler else "collect"
    flows = ([("start", "prepare"), ("prepare", "collect")] if handler else [("start", "collect")]) + [("collect", "end")]
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in ["start", *(["prepare"] if handler else []), "collect", "end"])
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_{key}" targetNamespace="x">
  <bpmn:process id="{key}" name="每年1月1日启动（测试）" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="discipline" name="纪委">{refs}</bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start" name="每年1月1日">
      <bpmn:timerEventDefinition id="start_timer"><bpmn:timeCycle xsi:type="bpmn:tFormalExpression">{timer}</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:startEvent>{service}
    <bpmn:userTask id="collect" name="{step_name}"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="note.json"/></spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:endEvent id="end"/>
    {"".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>' for i, (a, b) in enumerate(flows))}
  </bpmn:process>
</bpmn:definitions>"""


def _write(folder, xml: str, name: str = "yearly_round.bpmn") -> str:
    (folder / "forms").mkdir(parents=True, exist_ok=True)
    (folder / "forms" / "note.json").write_text(json.dumps({
        "type": "object", "properties": {"note": {"type": "string", "title": "意见", "maxLength": 50}},
        "additionalProperties": False}), encoding="utf-8")
    (folder / name).write_text(xml, encoding="utf-8")
    return str(folder / name)


@pytest.fixture
def world(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    engine.clock = Clock(datetime(2026, 6, 1, 2, 0))
    path = _write(tmp_path / "procs", _process(YEARLY))
    engine.deploy([path])
    return engine, path, tmp_path


def _cases(engine, key: str = "yearly_round") -> list[Case]:
    with engine.db.reading() as s:
        return list(s.scalars(select(Case).where(Case.process_key == key).order_by(Case.id)))


def _row(engine, key: str = "yearly_round") -> ScheduledStart:
    with engine.db.reading() as s:
        return s.scalars(select(ScheduledStart).where(ScheduledStart.process_key == key)).one()


def test_deploy_schedules_the_next_first_of_january_and_the_case_opens_then_and_runs_on(world):
    engine, _, _ = world
    row = _row(engine)
    assert (row.process_key, row.start_event_id, row.timer_text) == ("yearly_round", "start", YEARLY)
    assert row.next_fire_at == NEW_YEAR_2027  # the 2026 occurrence was already past at deploy: not fired
    runner = TimerRunner(engine, "w1")
    engine.clock.now = datetime(2026, 12, 31, 15, 59, 59)
    assert runner.run_due() == 0 and _cases(engine) == []
    engine.clock.now = NEW_YEAR_2027
    assert runner.run_due() >= 1  # the library's own yearly reports fire at New Year too
    [case] = _cases(engine)
    assert ready_steps(engine, case.id) == ["collect"]  # not waiting on its own start timer
    data = engine.case(case.id)["data"]
    assert data["scheduled_year"] == 2027 and data["scheduled_for"] == "2027-01-01T00:00:00+08:00"
    assert _row(engine).next_fire_at == datetime(2027, 12, 31, 16, 0) and _row(engine).last_case_id == case.id
    engine.clock.advance(hours=5)
    runner.run_due()
    assert len(_cases(engine)) == 1  # once per occurrence


def test_a_redeploy_keeps_the_schedule_and_does_not_fire_the_same_new_year_again(world):
    engine, path, tmp_path = world
    engine.clock.now = NEW_YEAR_2027
    TimerRunner(engine, "w1").run_due()
    assert len(_cases(engine)) == 1
    engine.clock.advance(days=2)
    assert not engine.deploy([path])[0].new  # the same file
    changed = _write(tmp_path / "v2", _process(YEARLY, step_name="年度汇总（修订）"))
    assert engine.deploy([changed])[0].version == 2  # a new version, same timer
    assert _row(engine).next_fire_at == datetime(2027, 12, 31, 16, 0) and _row(engine).fired_count == 1
    TimerRunner(engine, "w2").run_due()
    assert len(_cases(engine)) == 1
    engine.clock.now = datetime(2027, 12, 31, 16, 0, 1)
    TimerRunner(engine, "w2").run_due()
    assert len(_cases(engine)) == 2
    newest = _cases(engine)[-1]
    assert engine.tasks(case_id=newest.id)[0]["step_name"] == "年度汇总（修订）"  # on the newest version


def test_a_worker_down_over_three_new_years_opens_one_case_when_it_is_back(world):
    engine, _, _ = world
    engine.clock.now = datetime(2029, 3, 1, 1, 0)
    runner = TimerRunner(engine, "w1")
    runner.run_due()
    runner.run_due()
    assert len(_cases(engine)) == 1
    row = _row(engine)
    assert row.last_fired_at == NEW_YEAR_2027 and row.next_fire_at == datetime(2029, 12, 31, 16, 0)


def test_two_workers_racing_for_one_new_year_open_one_case(world):
    engine, _, _ = world
    engine.clock.now = NEW_YEAR_2027
    occurrence = _row(engine).next_fire_at
    barrier = threading.Barrier(2)
    results = []

    def race():
        barrier.wait()
        results.append(fire_start(engine, _row(engine).id, occurrence))

    threads = [threading.Thread(target=race) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1] and len(_cases(engine)) == 1
    # and two whole workers polling at once
    engine.clock.now = datetime(2027, 12, 31, 16, 0)
    counts = []
    barrier2 = threading.Barrier(2)

    def poll(name):
        barrier2.wait()
        counts.append(TimerRunner(engine, name).run_due())

    threads = [threading.Thread(target=poll, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(_cases(engine)) == 2  # one more, whichever worker opened it


def test_two_workers_on_postgresql_open_one_case(pg_url, tmp_path):
    engine = make_engine(pg_url)
    engine.clock = Clock(datetime(2026, 6, 1, 2, 0))
    engine.deploy([_write(tmp_path / "procs", _process(YEARLY))])
    engine.clock.now = NEW_YEAR_2027
    with engine.db.reading() as s:
        row_id, occurrence = s.execute(select(ScheduledStart.id, ScheduledStart.next_fire_at)
                                       .where(ScheduledStart.process_key == "yearly_round")).one()
    barrier = threading.Barrier(4)
    results = []

    def race():
        barrier.wait()
        results.append(fire_start(engine, row_id, occurrence))

    threads = [threading.Thread(target=race) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 0, 0, 1]
    with engine.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Case).where(Case.process_key == "yearly_round")) == 1


def test_yearly_occurrences_stay_on_the_first_of_january_through_leap_years():
    anchor = datetime(2026, 6, 1)
    moment, seen = anchor, []
    for _ in range(10):
        moment = next_fire(YEARLY, anchor, moment)
        seen.append(moment)
    assert all((m.month, m.day, m.hour) == (12, 31, 16) for m in seen)  # 00:00 Beijing on 1 January
    assert [m.year for m in seen] == list(range(2026, 2036))
    # a plain 365-day interval would have drifted a day by then; month ends clamp without drifting
    monthly = "R/2027-01-31T09:00:00+08:00/P1M"
    firsts = [next_fire(monthly, anchor, datetime(2027, m, 1)) for m in (2, 3, 4)]
    assert [(f.month, f.day) for f in firsts] == [(2, 28), (3, 31), (4, 30)]
    assert next_fire("R2/2027-01-01T00:00:00+08:00/P1Y", anchor, datetime(2028, 6, 1)) is None  # two times only


def test_a_timer_start_process_is_valid_and_one_started_by_hand_runs_at_once(world):
    engine, path, _ = world
    assert validate_paths([path]) == []
    case_id = engine.start_case("yearly_round", {})
    assert ready_steps(engine, case_id) == ["collect"]


def test_a_start_timer_that_is_not_a_literal_is_refused_at_deploy(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    path = _write(tmp_path / "p", _process("next_year", key="bad_timer"))
    problems = validate_paths([path])  # `duban validate` says so too, at the start event
    assert [(p.element_id, p.code) for p in problems] == [("start", "timer.invalid")] and "ISO 8601" in problems[0].message
    with pytest.raises(ValidationFailed) as err:
        engine.deploy([path])
    assert "ISO 8601" in " ".join(str(p) for p in err.value.details)
    with engine.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(ScheduledStart)
                        .where(ScheduledStart.process_key == "bad_timer")) == 0


def test_a_start_that_fails_is_noted_and_tried_again_later_not_lost(tmp_path, monkeypatch):
    calls = []

    def flaky(ctx):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("单位名册暂不可用")
        return {"ok": True}

    monkeypatch.setitem(REGISTRY, "tests.flaky_prepare", flaky)
    engine = make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    engine.clock = Clock(datetime(2026, 6, 1))
    engine.deploy([_write(tmp_path / "p", _process(YEARLY, key="flaky_round", handler="tests.flaky_prepare"),
                          "flaky_round.bpmn")])
    engine.clock.now = NEW_YEAR_2027
    runner = TimerRunner(engine, "w1")
    runner.run_due()
    row = _row(engine, "flaky_round")
    assert "单位名册暂不可用" in row.last_error and row.next_fire_at == NEW_YEAR_2027  # the occurrence is kept
    assert _cases(engine, "flaky_round") == []
    engine.clock.advance(minutes=1)
    runner.run_due()
    assert len(calls) == 1  # not retried at every poll
    engine.clock.advance(minutes=15)
    runner.run_due()
    assert len(_cases(engine, "flaky_round")) == 1 and _row(engine, "flaky_round").last_error == ""
