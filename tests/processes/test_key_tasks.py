"""五式履责 (seed 004): a unit's key task lit red, yellow or green each quarter by the discipline body, progress
reported with files, closed (销号) after review or sent back; and every 1 January each reporting unit gets its
yearly report case — the written report due at the end of January, the face-to-face report from 1 March and by
the end of March — a unit added during the year included the next year."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, update

from engine.accounts import add_user
from engine.casefile import Upload, add_attachment
from engine.errors import Forbidden, InvalidData
from engine.forms import example_data
from engine.models import Case, Timer, WorkItem
from engine.schedules import ScheduledStart
from engine.worker import TimerRunner
from handlers import key_tasks, units
from tests.conftest import Clock, as_user, complete_step, ready_steps

JAN_5 = datetime(2027, 1, 5, 2, 0)  # naive UTC, 10:00 in Beijing
TASK = {"unit": "戴窑镇", "year": 2027, "title": "规范农村集体“三资”管理", "leader": "王芳", "lead_office": "农经站",
        "target": "村级集体资产全部纳入平台管理", "measures": "清产核资；建立村级财务公开栏；开展专项审计",
        "deadline": "2027-12-20",
        "milestones": [{"name": "完成清产核资", "due": "2027-06-30"}, {"name": "专项审计", "due": "2027-11-30"}]}


@pytest.fixture
def world(engine):
    engine.clock = Clock(JAN_5)
    with engine.db.transaction() as s:
        units.ensure(s, "兴化市", kind="city")
        for name, kind in (("戴窑镇", "town"), ("沙沟镇", "town"), ("市教育局", "bureau")):
            units.ensure(s, name, parent="兴化市", kind=kind)
        add_user(s, "jjz_daiyao", "correct horse battery", ["discipline"], ["戴窑镇"], display_name="戴窑镇纪委")
        add_user(s, "clerk_shagou", "correct horse battery", ["unit"], ["沙沟镇"], display_name="沙沟镇党政办")
        add_user(s, "clerk_jiaoyu", "correct horse battery", ["unit"], ["市教育局"], display_name="市教育局办公室")
    return engine, TimerRunner(engine, "test-worker")


def _as(engine, case_id, step, username, **data):
    item = _item(engine, case_id, step)
    return engine.complete(item["id"], example_data(item["form"], **data), as_user(engine, username))


def _item(engine, case_id, step):
    [item] = [i for i in engine.tasks(case_id=case_id) if i["step_id"] == step]
    return item


def _light(engine, case_id, light, reason="", actor="jjz_daiyao"):
    item = _item(engine, case_id, "rate_quarter")
    engine.complete(item["id"], {"light": light, **({"reason": reason} if reason else {})}, as_user(engine, actor))


def _progress(engine, case_id, text, action="progress", percent=None):
    item = _item(engine, case_id, "update_progress")
    data = {"action": action, "progress_text": text, **({"percent": percent} if percent is not None else {})}
    engine.complete(item["id"], data, as_user(engine, "unit"))


def test_a_key_task_is_lit_each_quarter_and_light_counts_follow_the_latest_light(world):
    engine, runner = world
    clock = engine.clock
    case_id = engine.start_case("key_task", TASK, as_user(engine, "unit"))
    other = engine.start_case("key_task", dict(TASK, unit="沙沟镇", title="公车使用专项治理"), as_user(engine, "clerk_shagou"))
    assert ready_steps(engine, case_id) == ["update_progress"]
    with engine.db.reading() as s:
        task = s.scalars(select(key_tasks.KeyTask).where(key_tasks.KeyTask.case_id == case_id)).one()
        assert (task.leader, task.lead_office, task.status) == ("王芳", "农经站", "open")
        assert [m["due"] for m in task.milestones] == ["2027-06-30", "2027-11-30"]
    # the progress step carries the file uploaded on it
    item = _item(engine, case_id, "update_progress")
    assert item["due_at"] == "2027-12-20T15:59:59Z"  # the task's deadline, end of day in Beijing
    with engine.db.transaction() as s:
        add_attachment(s, case_id, Upload("清产核资进度表.pdf", b"%PDF-1.4 progress"), "unit", clock(), item["id"])
    _progress(engine, case_id, "已完成5个村清产核资", percent=30)
    with engine.db.reading() as s:
        [update_row] = key_tasks.progress(s, task.id)
        assert update_row.percent == 30 and len(update_row.attachment_ids) == 1
    assert ready_steps(engine, case_id) == ["update_progress"]  # any number of times

    expected = []
    for quarter_over, light, reason in ((datetime(2027, 3, 31, 16, 0, 1), "green", ""),
                                        (datetime(2027, 6, 30, 16, 0, 1), "yellow", "清产核资节点推迟"),
                                        (datetime(2027, 9, 30, 16, 0, 1), "red", "专项审计未启动"),
                                        (datetime(2027, 12, 31, 16, 0, 1), "green", "")):
        clock.now = quarter_over - (datetime(2027, 1, 1, 0, 0, 2) - datetime(2027, 1, 1))
        runner.run_due()
        assert "rate_quarter" not in ready_steps(engine, case_id)  # not before the quarter is over
        clock.now = quarter_over
        runner.run_due()
        assert ready_steps(engine, case_id) == ["rate_quarter", "update_progress"]
        if light == "red":
            with pytest.raises(InvalidData) as refused:
                _light(engine, case_id, "red")
            assert "reason" in refused.value.details
        _light(engine, case_id, light, reason)
        expected.append(light)
        with engine.db.reading() as s:
            counts = key_tasks.light_counts(s, None, 2027)
        assert counts["戴窑镇"][light] == 1 and counts["戴窑镇"]["total"] == 1
        assert counts["沙沟镇"]["unrated"] == 1  # its own discipline body has not rated it
    with engine.db.reading() as s:
        rows = key_tasks.ratings(s, task.id)
        assert [(r.quarter, r.light) for r in rows] == [(1, "green"), (2, "yellow"), (3, "red"), (4, "green")]
        assert rows[2].reason == "专项审计未启动" and rows[0].quarter_name == "2027年第一季度"
        assert key_tasks.light_counts(s, ["戴窑镇"], 2027) == {
            "戴窑镇": {"red": 0, "yellow": 0, "green": 1, "unrated": 0, "closed": 0, "total": 1}}
        assert key_tasks.light_counts(s, None, 2028) == {}
    # the 戴窑镇 discipline clerk rates his unit's tasks only
    clock.now = datetime(2028, 3, 31, 16, 0, 1)
    runner.run_due()
    mine = engine.tasks(as_user(engine, "jjz_daiyao"))
    assert {i["unit"] for i in mine} == {"戴窑镇"}
    with pytest.raises(Forbidden):
        _light(engine, other, "green")


def test_a_task_is_closed_after_review_and_a_refused_closing_goes_back(world):
    engine, runner = world
    case_id = engine.start_case("key_task", TASK, as_user(engine, "unit"))
    _progress(engine, case_id, "全部完成，平台已上线", action="close", percent=100)
    assert ready_steps(engine, case_id) == ["review_closing"]
    review = _item(engine, case_id, "review_closing")
    with pytest.raises(InvalidData) as refused:
        engine.complete(review["id"], {"closing_decision": "refuse"}, as_user(engine, "jjz_daiyao"))
    assert "closing_comment" in refused.value.details
    engine.complete(review["id"], {"closing_decision": "refuse", "closing_comment": "缺少专项审计报告"},
                    as_user(engine, "jjz_daiyao"))
    assert ready_steps(engine, case_id) == ["update_progress"]
    with engine.db.reading() as s:
        task = s.scalars(select(key_tasks.KeyTask).where(key_tasks.KeyTask.case_id == case_id)).one()
        assert (task.status, task.closing_comment, task.closed_at) == ("open", "缺少专项审计报告", None)
    engine.clock.advance(days=20)
    _progress(engine, case_id, "已补充专项审计报告", action="close")
    engine.complete(_item(engine, case_id, "review_closing")["id"], {"closing_decision": "accept"},
                    as_user(engine, "jjz_daiyao"))
    view = engine.case(case_id)
    assert view["status"] == "completed" and ready_steps(engine, case_id) == []
    with engine.db.reading() as s:
        task = s.get(key_tasks.KeyTask, task.id)
        assert task.status == "closed" and task.closed_at == engine.clock()
        assert s.scalars(select(Timer).where(Timer.case_id == case_id)).all() == []  # no quarterly rating left
        assert key_tasks.light_counts(s, None, 2027)["戴窑镇"]["closed"] == 1
        assert [u.kind for u in key_tasks.progress(s, task.id)] == ["close", "close"]


def test_a_milestone_after_the_deadline_is_refused_at_its_field(world):
    engine, _ = world
    bad = dict(TASK, milestones=[{"name": "专项审计", "due": "2028-01-31"}])
    with pytest.raises(InvalidData) as refused:
        engine.start_case("key_task", bad, as_user(engine, "unit"))
    assert "milestones" in refused.value.details
    with engine.db.reading() as s:
        assert s.scalars(select(Case).where(Case.process_key == "key_task")).all() == []


NEW_YEAR_2027 = datetime(2026, 12, 31, 16, 0)


def _report_cases(engine, year):
    with engine.db.reading() as s:
        rows = key_tasks.reports(s, year)
        return {r.unit: r.case_id for r in rows}


def test_every_1_january_each_reporting_unit_gets_its_yearly_report_with_january_and_march_deadlines(world):
    engine, runner = world
    clock = engine.clock
    with engine.db.transaction() as s:  # deployed during 2026: the schedule waits for 1 January 2027
        s.execute(update(ScheduledStart).where(ScheduledStart.process_key == "responsibility_reports")
                  .values(next_fire_at=NEW_YEAR_2027))
    clock.now = NEW_YEAR_2027
    assert runner.run_due() >= 1
    cases = _report_cases(engine, 2027)
    assert sorted(cases) == ["市教育局", "戴窑镇", "沙沟镇"]  # 兴化市 receives the reports
    for unit, case_id in cases.items():
        [item] = engine.tasks(case_id=case_id)
        assert (item["step_id"], item["unit"], item["role"]) == ("written_report", unit, "unit")
        assert item["due_at"] == "2027-01-31T15:59:59Z"  # end of 31 January, Beijing time
    daiyao, shagou, jiaoyu = cases["戴窑镇"], cases["沙沟镇"], cases["市教育局"]

    # 戴窑镇 on time, heard face to face; sent back once first
    clock.now = datetime(2027, 1, 20, 2, 0)
    complete_step(engine, daiyao, "written_report")
    review = _item(engine, daiyao, "review_written")
    with pytest.raises(InvalidData):
        engine.complete(review["id"], {"written_decision": "return", "face_to_face": "yes"}, as_user(engine, "discipline"))
    engine.complete(review["id"], {"written_decision": "return", "written_comment": "缺少第一责任人履职情况",
                                   "face_to_face": "yes"}, as_user(engine, "discipline"))
    assert ready_steps(engine, daiyao) == ["written_report"]
    complete_step(engine, daiyao, "written_report")
    complete_step(engine, daiyao, "review_written", written_decision="accept", face_to_face="yes")
    assert ready_steps(engine, daiyao) == []  # the face-to-face report waits for 1 March
    # 市教育局: written only
    _as(engine, jiaoyu, "written_report", "clerk_jiaoyu")
    complete_step(engine, jiaoyu, "review_written", written_decision="accept", face_to_face="no")
    assert engine.case(jiaoyu)["status"] == "completed"

    # 沙沟镇 is late: escalated at the end of January
    clock.now = datetime(2027, 1, 31, 16, 0, 1)
    runner.run_due()
    with engine.db.reading() as s:
        late = s.scalars(select(WorkItem).where(WorkItem.case_id == shagou, WorkItem.status == "ready")).one()
        assert late.escalated_at is not None

    clock.now = datetime(2027, 2, 28, 15, 59)
    runner.run_due()
    assert ready_steps(engine, daiyao) == []
    clock.now = datetime(2027, 2, 28, 16, 0, 1)  # 1 March 00:00 in Beijing
    runner.run_due()
    assert ready_steps(engine, daiyao) == ["schedule_hearing"]
    assert _item(engine, daiyao, "schedule_hearing")["due_at"] == "2027-03-31T15:59:59Z"
    with pytest.raises(InvalidData):
        complete_step(engine, daiyao, "schedule_hearing", hearing_date="2027-04-02")
    complete_step(engine, daiyao, "schedule_hearing", hearing_date="2027-03-18", reporter="李强")
    clock.now = datetime(2027, 3, 18, 6, 0)
    questions = [{"member": "赵纪委委员", "question": "村级“三资”问题如何整改？", "comment": "整改措施要具体"},
                 {"member": "钱纪委委员", "question": "一岗双责如何落实？"}]
    complete_step(engine, daiyao, "hold_hearing", held_on="2027-03-18", hearing_questions=questions,
                  hearing_comment="责任落实较好")
    assert engine.case(daiyao)["status"] == "completed"
    with engine.db.reading() as s:
        row = s.scalars(select(key_tasks.ResponsibilityReport).where(key_tasks.ResponsibilityReport.unit == "戴窑镇")).one()
        assert row.status == "heard" and row.hearing_on.isoformat() == "2027-03-18" and len(row.hearing_record) == 2
        assert not row.written_late

    # 沙沟镇's written report comes in after 1 March: its hearing is scheduled as soon as it is accepted
    clock.now = datetime(2027, 3, 5, 2, 0)
    _as(engine, shagou, "written_report", "clerk_shagou")
    complete_step(engine, shagou, "review_written", written_decision="accept", face_to_face="yes")
    runner.run_due()
    assert ready_steps(engine, shagou) == ["schedule_hearing"]
    with engine.db.reading() as s:
        assert s.scalars(select(key_tasks.ResponsibilityReport.written_late)
                         .where(key_tasks.ResponsibilityReport.unit == "沙沟镇")).one() is True

    # a unit added during 2027 reports from 2028; one no longer active does not
    with engine.db.transaction() as s:
        units.ensure(s, "大邹镇", parent="兴化市", kind="town")
        units.by_name(s, "市教育局").active = False
    clock.now = datetime(2027, 12, 31, 16, 0, 1)
    runner.run_due()
    assert sorted(_report_cases(engine, 2028)) == ["大邹镇", "戴窑镇", "沙沟镇"]
    assert sorted(_report_cases(engine, 2027)) == ["市教育局", "戴窑镇", "沙沟镇"]
    runner.run_due()
    with engine.db.reading() as s:
        yearly = s.scalars(select(Case).where(Case.process_key == "responsibility_reports")).all()
        assert len(yearly) == 2  # one per New Year


def test_opened_by_hand_in_the_same_year_it_opens_no_second_report_per_unit(world):
    engine, runner = world
    first = engine.start_case("responsibility_reports", {}, as_user(engine, "discipline"))
    assert engine.case(first)["data"]["report_year"] == 2027
    second = engine.start_case("responsibility_reports", {}, as_user(engine, "discipline"))
    assert engine.case(second)["data"]["reports_opened"] == 0
    assert len(_report_cases(engine, 2027)) == 3
