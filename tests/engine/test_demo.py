"""The demo data reads like a real office's: counts of the seeds, units and posts that exist, documents with
their issuing office's 机关代字, dates in order, votes and grades that add up, a plausible mix of lights, one
case in error, one under listed supervision, and unit clerks who see their own unit only."""
from __future__ import annotations

import re
import sqlite3
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from engine import demo, incidents
from engine.access import OPERATOR
from engine.caselist import visible
from engine.db import Database
from engine.errors import Forbidden
from engine.models import Case, Event, Incident, User, WorkItem
from engine.runtime import Engine
from engine.supervision import Settings, light_counts
from engine.worker import TimerRunner
from tests.conftest import Clock, as_user, make_engine

BEIJING = ZoneInfo("Asia/Shanghai")
ABOLISHED = ("安监局", "安全生产监督管理局", "环保局", "环境保护局", "侨办", "侨务办公室", "卫计委", "卫生和计划生育",
             "农委", "农业委员会", "国土资源局", "市国土局", "市规划局", "文广新局", "新闻出版局", "市旅游局", "市粮食局", "物价局",
             "工商局", "质监局", "食药监", "地税", "国税", "监察局", "法制办", "审计局机关服务中心",
             # 兴化's towns and townships merged away before 2021
             "张郭镇", "李中镇", "茅山镇", "缸顾乡", "西鲍乡", "西郊镇", "周奋乡", "老圩乡")
SUZHOU_CODES = {"苏组", "常组", "张组", "昆组", "太组", "吴江组", "吴中组", "相组", "姑苏组", "苏高新组"}
DOC_NO = re.compile(r"^(?P<code>[\u4e00-\u9fff]{2,4})(?P<kind>[通发])〔(?P<year>\d{4})〕(?P<n>[1-9]\d*)号$")
COUNTY_CITIES = ("常熟市", "张家港市", "昆山市", "太仓市", "兴化市")
# Fields that record something that happened (on or before the day the step was done), in the order they happen.
HAPPENED = {"issue_notice": ["notice_date"], "pre_audit_notice": ["notice_date"],
            "pre_audit_publicity": ["publicity_start", "publicity_end"], "entry_meeting": ["meeting_date"],
            "mobilization": ["meeting_date"], "self_report": ["self_report_date"],
            "democratic_appraisal": ["appraisal_date"], "feedback": ["feedback_date"],
            "report_rectification": ["rectification_report_date"], "rectify": ["rectification_report_date"],
            "follow_up_visit": ["visit_date"], "follow_up": ["visit_date"], "issue_report": ["report_date"],
            "acceptance": ["acceptance_date"]}
AHEAD = ("planned_entry_date", "rectification_deadline")
JOINT_AUDITS = ("joint_audit_xinghua", "joint_audit_suzhou")  # plans: after the day the step was done


@pytest.fixture(scope="module", params=["now", "new_year_sunday"])
def world(request, tmp_path_factory):
    """The demo seeded now, and seeded on a Sunday morning in the first days of a year (documents of two years,
    work days around a weekend): the lights and the rules must hold whenever the demo is made."""
    tmp = tmp_path_factory.mktemp("demo")
    engine = make_engine(f"sqlite:///{tmp / 'demo.db'}")
    if request.param == "new_year_sunday":
        engine.clock = Clock(datetime(2026, 1, 4, 1, 0))  # 09:00 in Beijing
    ids = demo.seed(engine)
    with engine.db.reading() as session:  # the joint audits; the campaign, complaints and key tasks have tests below
        cases = {c.id: c for c in session.scalars(select(Case).where(Case.process_key.in_(JOINT_AUDITS))).all()}
        events = defaultdict(list)
        for e in session.scalars(select(Event).where(Event.case_id.in_(cases)).order_by(Event.case_id, Event.seq)).all():
            events[e.case_id].append(e)
        facts = {cid: next(e.data_after for e in evs if e.kind == "case_started") for cid, evs in events.items()}
    forms = {cid: [(e.step_id, e.at, e.data_after) for e in evs if e.kind == "task_completed"]
             for cid, evs in events.items()}
    return {"engine": engine, "ids": ids, "cases": cases, "facts": facts, "forms": forms,
            "db": tmp / "demo.db", "tmp": tmp}


def _day(moment: datetime) -> date:
    return moment.replace(tzinfo=timezone.utc).astimezone(BEIJING).date()


def _completed(world, step: str):
    for cid, rows in world["forms"].items():
        for sid, at, data in rows:
            if sid == step:
                yield cid, at, data


# --- the seeds' numbers ------------------------------------------------------------------------------------------
def test_the_seeds_numbers(world):
    facts = world["facts"]
    assert len(world["ids"]) == len(world["cases"]) == 99
    xinghua = [facts[c.id] for c in world["cases"].values() if c.process_key == "joint_audit_xinghua"]
    suzhou = [facts[c.id] for c in world["cases"].values() if c.process_key == "joint_audit_suzhou"]
    assert len(xinghua) == 51 and len(suzhou) == 48
    assert Counter(f["audit_type"] for f in xinghua) == {"mid_term": 21, "leaving": 30}
    assert Counter(f["unit_level"] for f in xinghua) == {"town": 30, "municipal_dept": 21}
    # Seed 001: 市本级 are the city's own bureaus and offices and the districts' leaders; the 41 are the towns,
    # streets and departments the county-level cities and districts audit.
    city = [f for f in suzhou if f["unit"].startswith("苏州市") or f["unit_level"] == "county"]
    assert len(city) == 7 and len(suzhou) - len(city) == 41
    assert Counter(f["audit_type"] for f in city) == {"mid_term": 6, "leaving": 1}


# --- the lights, the error, the listed case ------------------------------------------------------------------------
def test_mostly_on_track_some_due_a_few_overdue(world):
    engine = world["engine"]
    with engine.db.reading() as session:
        lights = light_counts(session, OPERATOR, engine.clock(), Settings())
        statuses = Counter(session.scalars(select(Case.status)).all())
        escalated = session.scalar(select(func.count()).select_from(WorkItem).where(
            WorkItem.status == "ready", WorkItem.escalated_at.is_not(None)))
    assert lights.green > lights.running / 2
    assert lights.yellow >= 1
    assert 1 <= lights.red <= lights.running * 0.15
    assert statuses["completed"] >= 5 and statuses["error"] == 1
    assert escalated >= 1  # the overdue work has been escalated (督办) by the deadline timers


def test_red_work_is_overdue_by_days_not_months(world):
    engine = world["engine"]
    now = engine.clock()
    with engine.db.reading() as session:
        overdue = session.scalars(select(WorkItem.due_at).join(Case, Case.id == WorkItem.case_id).where(
            WorkItem.status == "ready", WorkItem.due_at < now, Case.status == "running")).all()
    assert overdue and all(timedelta(days=1) <= now - due <= timedelta(days=14) for due in overdue)


def test_one_case_in_error_with_an_incident_a_supervisor_can_retry(world):
    engine = world["engine"]
    with engine.db.reading() as session:
        (case,) = session.scalars(select(Case).where(Case.status == "error")).all()
        (incident,) = session.scalars(select(Incident).where(Incident.status == "open")).all()
    assert incident.case_id == case.id and incident.step_name and incident.message
    assert incident.action["kind"] == "timers" and incident.action["timer_ids"]

    # On a copy: the supervisor retries, the worker fires the deadline timer, the late report is on record.
    copy = world["tmp"] / "retry.db"
    with sqlite3.connect(world["db"]) as source, sqlite3.connect(copy) as target:
        source.backup(target)  # the pages still in the WAL file too
    other = Engine(Database(f"sqlite:///{copy}"), clock=engine.clock)
    assert incidents.retry(other, case.id, as_user(other, "supervisor")) == "rescheduled"
    TimerRunner(other).run_due()
    after = other.case(case.id)
    assert after["status"] == "running"
    late = [e for e in after["history"] if e["step_id"] == "escalate_overdue_report" and e["kind"] == "service_task"]
    assert late and late[-1]["after"].get("overdue_reported") is True  # 逾期未报 recorded at last
    assert not incidents.open_incidents(other, case.id)


def test_one_case_under_listed_supervision(world):
    listed = [c for c in world["cases"].values() if c.listed]
    assert len(listed) == 1 and listed[0].status == "running"
    consolidate = [d for sid, _, d in world["forms"][listed[0].id] if sid == "consolidate"]
    assert consolidate[0]["serious"] is True


# --- what the forms say ---------------------------------------------------------------------------------------------
def test_votes_never_outnumber_the_voters(world):
    rows = list(_completed(world, "democratic_appraisal"))
    assert rows
    for _, _, d in rows:
        votes = d["votes_good"] + d["votes_fairly_good"] + d["votes_average"] + d["votes_poor"]
        assert 0 < votes <= d["appraisal_participants"], d


def _xinghua_graded(world):
    """(reviews, case data, summary form) of the Xinghua cases past 情况汇总, whose score and grade the table gave."""
    engine = world["engine"]
    for cid, rows in world["forms"].items():
        forms = {sid: d for sid, _, d in rows}
        if world["cases"][cid].process_key == "joint_audit_xinghua" and "consolidate" in forms:
            yield forms, engine.case(cid)["data"], forms["consolidate"]


def test_grade_follows_the_score(world):
    typed = [d for cid, _, d in _completed(world, "consolidate")
             if world["cases"][cid].process_key == "joint_audit_suzhou"]
    assert len(typed) >= 10
    for d in typed:  # Suzhou's clerk types the score and the grade: they agree
        assert d["evaluation_grade"] == demo.grade_for(d["overall_score"]), d
    graded = list(_xinghua_graded(world))
    assert len(graded) >= 10
    for _, data, summary in graded:  # Xinghua's come from the evaluation_grade table, and the summary says the same
        assert "overall_score" not in summary and "evaluation_grade" not in summary
        assert data["evaluation_grade"] == demo.GRADE_NAMES[demo.grade_for(data["overall_score"])], data
        assert f"综合评分{data['overall_score']}分，评价等次为“{data['evaluation_grade']}”" in summary["consolidate_summary"]
    assert len({d["evaluation_grade"] for d in typed}) >= 2
    assert len({data["evaluation_grade"] for _, data, _ in graded}) >= 2


def test_xinghua_overall_score_is_the_three_reviews(world):
    graded = list(_xinghua_graded(world))
    assert graded
    for forms, data, _ in graded:
        scores = [forms[f"review_{duty}"][f"{duty}_score"] for duty in ("personnel", "establishment", "finance")]
        assert data["overall_score"] == round(sum(scores) / 3, 1), (scores, data["overall_score"])


def test_dates_follow_each_other(world):
    for cid, rows in world["forms"].items():
        started = world["cases"][cid].started_at
        seen: list[tuple[date, str]] = []
        last_at = started
        for sid, at, d in rows:
            assert at >= last_at, (cid, sid)
            last_at = at
            done_on = _day(at)
            for name in HAPPENED.get(sid, []):
                day = date.fromisoformat(d[name])
                assert day <= done_on, (cid, sid, name)
                assert not seen or day >= seen[-1][0], (cid, sid, name, seen[-1])
                seen.append((day, name))
            for name in AHEAD:
                if name in d:
                    assert date.fromisoformat(d[name]) > done_on, (cid, sid, name)
            if sid == "issue_notice":
                assert d["audit_period_start"] < d["audit_period_end"] <= d["notice_date"] < d["planned_entry_date"]
            if sid == "pre_audit_publicity":
                assert d["publicity_start"] <= d["publicity_end"]
        meeting = [day for day, name in seen if name == "meeting_date"]
        publicity_end = [day for day, name in seen if name == "publicity_end"]
        if meeting and publicity_end:
            assert meeting[0] > publicity_end[0], cid  # the entry meeting after the public notice closed


def test_document_numbers_carry_the_issuing_office(world):
    numbers = defaultdict(list)
    count = 0
    for cid, rows in world["forms"].items():
        key = world["cases"][cid].process_key
        for sid, at, d in rows:
            for field, day_field in (("notice_no", "notice_date"), ("report_no", "report_date")):
                if field not in d:
                    continue
                count += 1
                m = DOC_NO.match(d[field])
                assert m, d[field]
                assert int(m["year"]) == date.fromisoformat(d[day_field]).year, d
                if key == "joint_audit_xinghua":
                    assert m["code"].startswith("兴"), d[field]
                else:
                    assert m["code"] in SUZHOU_CODES, d[field]
                numbers[(m["code"] + m["kind"], m["year"])].append((d[day_field], int(m["n"])))
    assert count >= 80
    for docs in numbers.values():
        ns = [n for _, n in sorted(docs)]
        assert len(set(ns)) == len(ns) and ns == sorted(ns)  # one number each, issued in order


def test_findings_match_the_establishment_figures(world):
    for _, _, d in _completed(world, "verify_establishment"):
        found = {f["description"] for f in d["establishment_findings"]}
        assert (d["staff_used"] > d["staff_approved"]) == ("超编进人2名" in found)
        assert (d["internal_bodies_actual"] > d["internal_bodies_approved"]) == ("内设机构超出“三定”规定1个" in found)
        assert d["real_name_consistent"] == ("实名制信息与实际不符" not in found)


# --- units and posts ---------------------------------------------------------------------------------------------------
def _posts_for(unit: str) -> tuple[str, set[str]]:
    """The level and the principal posts a unit of this name has."""
    if unit.endswith("街道"):
        return "town", {"街道党工委书记", "街道办事处主任"}
    if unit.endswith("乡"):
        return "town", {"乡党委书记", "乡长"}
    if unit.endswith("镇"):
        return "town", {"镇党委书记", "镇长"}
    if unit in COUNTY_CITIES:
        return "county", {"市委书记", "市长"}
    if unit.endswith("区"):
        return "county", {"区委书记", "区长"}
    return "municipal_dept", {"局长", "主任", "党组书记", "党组书记、局长", "党组书记、主任"}


def test_posts_fit_the_unit(world):
    for f in world["facts"].values():
        level, posts = _posts_for(f["unit"])
        assert f["unit_level"] == level and f["post"] in posts, f
        if f["unit_level"] == "municipal_dept":
            head = "主任" if f["unit"].endswith(("委", "办")) else "局长"
            assert f["post"].endswith(head), f


def test_no_units_abolished_by_the_reforms(world):
    for f in world["facts"].values():
        assert not any(old in f["unit"] for old in ABOLISHED), f["unit"]


def test_one_holder_per_principal_post_and_nobody_in_two(world):
    posts = Counter((f["unit"], f["post"]) for f in world["facts"].values())
    assert max(posts.values()) == 1
    people = Counter()
    for f in world["facts"].values():
        names = {f["cadre_name"], f["unit_principal"], f["unit_deputy"]}
        assert (f["unit_principal"] == f["cadre_name"]) == (f["audit_type"] == "mid_term"), f  # 离任: the successor
        people.update(names)
    assert max(people.values()) == 1


# --- accounts ----------------------------------------------------------------------------------------------------------
def test_the_unit_account_sees_its_own_unit_only(world):
    engine = world["engine"]
    unit = as_user(engine, "unit")
    assert unit.units == {demo.UNIT_ACCOUNT_UNIT}
    tasks = engine.tasks(unit)
    # the joint audits' one or two steps, the town's key task and the complaint assigned down to it
    assert 1 <= len(tasks) <= 5 and {t["unit"] for t in tasks} == {demo.UNIT_ACCOUNT_UNIT}
    with engine.db.reading() as session:
        seen = set(session.scalars(select(Case.unit).where(visible(unit))).all())
        other = session.scalar(select(Case.id).where(Case.unit != demo.UNIT_ACCOUNT_UNIT).limit(1))
    assert seen == {demo.UNIT_ACCOUNT_UNIT}
    with pytest.raises(Forbidden):
        engine.case(other, unit)


def test_every_unit_clerk_is_scoped_and_sees_its_units_work(world):
    engine = world["engine"]
    with engine.db.reading() as session:
        clerks = [u for u in session.scalars(select(User)).all() if "unit" in (u.roles or [])]
        ready = session.execute(select(WorkItem.unit, func.count()).where(
            WorkItem.status == "ready", WorkItem.role == "unit").group_by(WorkItem.unit)).all()
    assert all(u.units and len(u.units) == 1 for u in clerks)
    by_unit = {u.units[0]: u for u in clerks}
    assert len(by_unit) == len(clerks) >= 20
    assert all(u.display_name.endswith("（演示）") and u.units[0] in u.display_name for u in clerks)
    for unit, n in ready:
        clerk = as_user(engine, by_unit[unit].username)
        assert {t["unit"] for t in engine.tasks(clerk)} == {unit} and len(engine.tasks(clerk)) == n
    # the unit steps done in the demo were done by the unit's own clerk
    with engine.db.reading() as session:
        done = session.execute(select(WorkItem.unit, WorkItem.completed_by).where(
            WorkItem.status == "completed", WorkItem.role == "unit")).all()
    assert done and all(by_unit[unit].username == who for unit, who in done)


def test_walkthrough_names_the_accounts_and_the_mix(world):
    text = demo.walkthrough(world["engine"], world["ids"])
    assert "unit" in text and demo.UNIT_ACCOUNT_UNIT in text and "unit_" in text and "supervisor" in text
    assert "绿灯" in text and "系统异常 1" in text and "挂牌督办" in text


# --- the 治庸问责 campaign, complaints and key tasks (issue 9) ------------------------------------------------------
def test_units_form_a_tree_down_to_the_audited_units(world):
    from handlers import units

    with world["engine"].db.reading() as session:
        xinghua = set(units.names(units.children(session, "兴化市")))
        assert units.by_name(session, "兴化市").parent_id == units.by_name(session, "泰州市").id
        assert {"戴窑镇", "兴化市财政局"} <= xinghua and len(xinghua) == 47
        assert "浒墅关镇" in units.names(units.children(session, "苏州高新区"))
        provincial = units.names(units.children(session, "省直机关治庸问责工作领导小组办公室"))
        assert "省高管局" in provincial and "荆州长江大桥管理局" in units.names(units.children(session, "省高管局"))
        assert units.by_name(session, "戴窑镇").principal  # the town's party secretary, as its cases name him


def test_the_campaign_is_under_way_with_one_unit_late(world):
    from handlers.campaign.records import Campaign, CampaignUnit, Deliverable, Inspection

    engine = world["engine"]
    now = engine.clock()
    with engine.db.reading() as session:
        (province,) = session.scalars(select(Campaign).where(Campaign.parent_id.is_(None))).all()
        (child,) = session.scalars(select(Campaign).where(Campaign.parent_id == province.id)).all()
        units_ = session.scalars(select(CampaignUnit.unit).where(CampaignUnit.campaign_id == province.id)).all()
        rows = {(d.unit, d.kind): d for d in session.scalars(select(Deliverable).where(Deliverable.campaign_id == province.id))}
        children = session.scalars(select(CampaignUnit.unit).where(CampaignUnit.campaign_id == child.id)).all()
        inspections = session.scalars(select(Inspection).where(Inspection.campaign_id == province.id)).all()
        late_item = session.scalar(select(WorkItem).join(Case, Case.id == WorkItem.case_id).where(
            Case.unit == "省交通运输厅", WorkItem.step_id == "submit_rectification_report", WorkItem.status == "ready"))
    assert province.status == "running" and len(units_) == 6
    assert child.issuing_office == "省高管局" and len(children) == 3
    late = rows[("省交通运输厅", "rectification_report")]
    assert late.status == "pending" and late.due_on < _day(now)
    assert late_item.escalated_at is not None and late_item.due_at < now  # reminded, then escalated (督办)
    assert rows[("省人社厅", "problem_list")].send_back_count == 1 and rows[("省人社厅", "problem_list")].status == "accepted"
    assert rows[("省卫健委", "rectification_report")].status == "sent_back"
    accepted = [d for d in rows.values() if d.status == "accepted"]
    assert len(accepted) >= 30 and not any(d.late for d in accepted)
    assert len(inspections) >= 2 and {i.mode for i in inspections} == {"open", "covert"}


def test_complaints_one_per_routing_one_reply_overdue_one_filed(world):
    from handlers.complaint import Complaint
    from handlers.integrity_file import Sanction

    engine = world["engine"]
    today = _day(engine.clock())
    with engine.db.reading() as session:
        complaints = session.scalars(select(Complaint)).all()
        sanctions = session.scalars(select(Sanction).where(Sanction.case_id.in_([c.case_id for c in complaints]))).all()
    assert {"direct", "assign", "transfer", "supervise"} <= {c.routing for c in complaints}
    assert sum(c.reply_overdue(today) for c in complaints) == 1
    assert any(c.anonymous for c in complaints) and any(not c.anonymous for c in complaints)
    assert len(sanctions) == 1 and sanctions[0].cadre_name == "郑凯文"
    assert {c.unit for c in complaints if c.campaign_id} == {"省交通运输厅", "省高管局", "省市场监管局", "省人社厅"}


def test_key_tasks_lit_each_quarter_and_one_closed(world):
    from handlers.key_tasks import light_counts

    engine = world["engine"]
    year = (_day(engine.clock()) - timedelta(days=100)).year
    with engine.db.reading() as session:
        counts = light_counts(session, None, year)
    assert set(counts) == {"戴窑镇", "兴化市财政局", "安丰镇", "省交通运输厅", "省审计厅"}
    assert counts["戴窑镇"]["closed"] == 1
    total = {light: sum(c[light] for c in counts.values()) for light in ("red", "yellow", "green")}
    assert all(total.values()), total
    from handlers.key_tasks import responsibility_lists

    with engine.db.reading() as session:  # 戴窑镇's four lists, five items each (seed 004)
        lists = responsibility_lists(session, "戴窑镇", year)
    assert len(lists) == 4 and all(all(items) and len(items) == 5 for items in lists.values()), lists
