"""治庸问责 campaigns (seed 003) walked on a controllable clock: the leading office's case and one case per
participating unit, phases opening at their own window starts (overlapping in the Wuhan variant), each deliverable
due by the campaign's date with a reminder and an escalation, the office's review sending work back, a unit
launching the campaign to its own sub-units, and the commendation at the end."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.accounts import add_user
from engine.errors import InvalidData
from engine.models import Case, Event, Notification
from engine.worker import TimerRunner
from handlers import units as org_units
from handlers.campaign import windows
from handlers.campaign.records import Campaign, CampaignUnit, Deliverable, Inspection
from engine.forms import example_data
from tests.conftest import Clock, as_user, make_engine, ready_steps

PROVINCE = "省直机关工委"
BUREAU, AUDIT, HEALTH = "省高管局", "省审计厅", "省卫生厅"
SUB_UNITS = ("武黄高速公路管理处", "汉宜高速公路管理处")
CLERKS = {AUDIT: "clerk_audit", HEALTH: "clerk_health", BUREAU: "clerk_bureau", SUB_UNITS[0]: "clerk_wuhuang",
          SUB_UNITS[1]: "clerk_hanyi"}
SELF_KINDS = ("problem_list", "life_meeting", "public_commitment", "typical_examples", "rectification_report")


def bj(y, m, d, h=0, mi=0, s=0) -> datetime:
    """A Beijing wall-clock moment as the naive UTC the engine keeps."""
    return datetime(y, m, d, h, mi, s) - timedelta(hours=8)


@pytest.fixture
def world(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'campaign.db'}")
    clock = Clock(bj(2027, 8, 10, 9))
    engine.clock = clock
    with engine.db.transaction() as s:
        org_units.ensure(s, PROVINCE, kind="province_dept")
        for name in (BUREAU, AUDIT, HEALTH):
            org_units.ensure(s, name, parent=PROVINCE, kind="province_dept")
        for name in SUB_UNITS:
            org_units.ensure(s, name, parent=BUREAU, kind="unit")
        for unit, username in CLERKS.items():
            add_user(s, username, "demo", ["unit"], [unit], display_name=f"{unit}办公室", demo=True)
    return engine, clock, TimerRunner(engine, "campaign-worker")


def launch(engine, units, **dates) -> int:
    data = {"campaign_name": "2027年治庸问责", "unit": PROVINCE, "year": 2027, "participating_units": list(units), **dates}
    return engine.start_case("accountability_campaign", data, as_user(engine, "leading_office"))


def unit_cases(engine, campaign_id: int) -> dict[str, int]:
    with engine.db.reading() as s:
        return dict(s.execute(select(CampaignUnit.unit, CampaignUnit.case_id)
                              .where(CampaignUnit.campaign_id == campaign_id)).all())


def campaign_of(engine, office_case: int) -> Campaign:
    with engine.db.reading() as s:
        return s.scalar(select(Campaign).where(Campaign.case_id == office_case))


def deliverable(engine, campaign_id: int, unit: str, kind: str) -> Deliverable:
    with engine.db.reading() as s:
        return s.scalar(select(Deliverable).where(Deliverable.campaign_id == campaign_id, Deliverable.unit == unit,
                                                  Deliverable.kind == kind))


def complete_step(engine, case_id: int, step: str, **data):
    """Complete a ready step as its unit's clerk (unit lane) or the role's demo account (the office's lanes)."""
    work = item(engine, case_id, step)
    who = CLERKS[work["unit"]] if work["role"] == "unit" else work["role"]
    return engine.complete(work["id"], example_data(work["form"], **data), as_user(engine, who))


def hand_in(engine, case_id: int, kind: str, decision: str = "accept", comment: str = "") -> None:
    complete_step(engine, case_id, f"submit_{kind}")
    complete_step(engine, case_id, f"review_{kind}", **{f"{kind}_decision": decision, f"{kind}_comment": comment})


def item(engine, case_id: int, step: str) -> dict:
    """The ready work item of `step`, with its form's choices from the records (as the task page shows it)."""
    (found,) = [i for i in engine.tasks(case_id=case_id) if i["step_id"] == step]
    return {**found, "form": engine.work_item(found["id"], as_user(engine, "supervisor"))["form"]}


def events(engine, case_id: int, kind: str) -> list[Event]:
    with engine.db.reading() as s:
        return list(s.scalars(select(Event).where(Event.case_id == case_id, Event.kind == kind).order_by(Event.seq)))


def notes(engine, case_id: int, kind: str) -> list[str]:
    with engine.db.reading() as s:
        return list(s.scalars(select(Notification.recipient).where(Notification.case_id == case_id,
                                                                  Notification.kind == kind)))


def to_self_inspection(engine, clock, runner, cases: dict[str, int]) -> None:
    """Publicity opens on 8/15, every unit's work plan is accepted, then 自查整改 opens on 9/1."""
    clock.now = bj(2027, 8, 15, 0, 0, 1)
    runner.run_due()
    for case_id in cases.values():
        clock.advance(hours=1)
        hand_in(engine, case_id, "work_plan")
    clock.now = bj(2027, 9, 1, 0, 0, 1)
    runner.run_due()


def test_three_units_one_late_one_sent_back_one_on_time_and_the_advanced_unit_commended(world):
    engine, clock, runner = world
    office = launch(engine, [AUDIT, HEALTH, BUREAU])
    campaign = campaign_of(engine, office)
    cases = unit_cases(engine, campaign.id)
    assert set(cases) == {AUDIT, HEALTH, BUREAU}
    with engine.db.reading() as s:
        assert {s.get(Case, c).unit for c in cases.values()} == {AUDIT, HEALTH, BUREAU}  # each unit's own case
    # 8/10: nothing is open yet — publicity starts on 8/15 (the bureau may already launch to its sub-units)
    assert [ready_steps(engine, cases[u]) for u in (AUDIT, HEALTH)] == [[], []]
    assert ready_steps(engine, cases[BUREAU]) == ["cascade"]
    complete_step(engine, cases[BUREAU], "cascade", launch_down=False)
    assert ready_steps(engine, office) == []
    clock.now = bj(2027, 8, 14, 23, 59)
    runner.run_due()
    assert ready_steps(engine, cases[AUDIT]) == []
    clock.now = bj(2027, 8, 15, 0, 0, 1)
    runner.run_due()
    plan = item(engine, cases[AUDIT], "submit_work_plan")
    assert plan["due_at"] == "2027-08-25T15:59:59Z" and plan["role"] == "unit" and plan["unit"] == AUDIT
    for case_id in cases.values():
        clock.advance(hours=1)
        hand_in(engine, case_id, "work_plan")
    assert all(ready_steps(engine, c) == [] for c in cases.values())  # 自查整改 not open yet
    clock.now = bj(2027, 9, 1, 0, 0, 1)
    runner.run_due()
    assert ready_steps(engine, cases[AUDIT]) == sorted(f"submit_{k}" for k in SELF_KINDS)
    report = item(engine, cases[HEALTH], "submit_rectification_report")
    assert report["due_at"] == "2027-10-15T15:59:59Z"

    for unit in (AUDIT, HEALTH, BUREAU):
        for kind in SELF_KINDS[:-1]:
            clock.advance(hours=1)
            hand_in(engine, cases[unit], kind)
    # on time: the audit department
    clock.now = bj(2027, 10, 10, 10)
    hand_in(engine, cases[AUDIT], "rectification_report")
    # sent back once: the health department
    complete_step(engine, cases[HEALTH], "submit_rectification_report")
    with pytest.raises(InvalidData) as refused:  # a send-back says why
        complete_step(engine, cases[HEALTH], "review_rectification_report", rectification_report_decision="send_back",
                      rectification_report_comment="")
    assert "rectification_report_comment" in refused.value.details
    complete_step(engine, cases[HEALTH], "review_rectification_report", rectification_report_decision="send_back",
                  rectification_report_comment="整改措施不具体，请逐条写明时限和责任人")
    again = item(engine, cases[HEALTH], "submit_rectification_report")
    assert again["due_at"] == "2027-10-15T15:59:59Z"  # 5 days to revise still ends on the deadline
    assert "clerk_health" in notes(engine, cases[HEALTH], "sent_back")
    row = deliverable(engine, campaign.id, HEALTH, "rectification_report")
    assert (row.status, row.send_back_count, row.review_comment) == ("sent_back", 1, "整改措施不具体，请逐条写明时限和责任人")
    clock.advance(days=1)
    hand_in(engine, cases[HEALTH], "rectification_report")

    # late: the bureau — the reminder two days before, then the escalation at the deadline
    bureau_item = item(engine, cases[BUREAU], "submit_rectification_report")
    clock.now = bj(2027, 10, 13, 23, 59, 59)
    runner.run_due()
    assert "clerk_bureau" in notes(engine, cases[BUREAU], "reminder_sent")  # the unit's clerks
    assert notes(engine, cases[BUREAU], "escalated") == []
    clock.now = bj(2027, 10, 16, 0, 0, 1)
    runner.run_due()
    assert notes(engine, cases[BUREAU], "escalated") == ["supervisor"]
    (escalated,) = events(engine, cases[BUREAU], "escalated")
    assert escalated.work_item_id == bureau_item["id"] and escalated.step_id == "submit_rectification_report"
    clock.now = bj(2027, 10, 18, 10)
    hand_in(engine, cases[BUREAU], "rectification_report")

    rows = {u: deliverable(engine, campaign.id, u, "rectification_report") for u in (AUDIT, HEALTH, BUREAU)}
    assert [(r.late, r.send_back_count, r.status) for r in rows.values()] == [
        (False, 0, "accepted"), (False, 1, "accepted"), (True, 0, "accepted")]

    # 督查问责 opened on 10/16: the office records its inspections, as often as it needs
    assert ready_steps(engine, office) == ["inspect"]
    complete_step(engine, office, "inspect", inspected_unit=BUREAU, inspected_on="2027-10-20", inspection_mode="covert",
                  inspection_place="武黄高速收费站", inspection_findings="窗口人员上班时间玩手机", inspection_expose=True,
                  more_inspections=True)
    complete_step(engine, office, "inspect", inspected_unit=AUDIT, inspected_on="2027-10-21", inspection_mode="open",
                  inspection_place="办事大厅", inspection_findings="未发现问题", inspection_expose=False,
                  more_inspections=False)
    with engine.db.reading() as s:
        found = s.scalars(select(Inspection).where(Inspection.campaign_id == campaign.id).order_by(Inspection.id)).all()
        assert [(i.unit, i.mode, i.expose) for i in found] == [(BUREAU, "covert", True), (AUDIT, "open", False)]
    assert ready_steps(engine, office) == []

    # 总结提高 opens on 12/1; the summaries are in by 12/12
    clock.now = bj(2027, 12, 1, 9)
    runner.run_due()
    for unit in (AUDIT, HEALTH, BUREAU):
        clock.advance(hours=1)
        hand_in(engine, cases[unit], "summary_report")
        assert engine.case(cases[unit])["status"] == "completed", (unit, ready_steps(engine, cases[unit]))

    # the campaign ends on 12/15: the office commends from the units whose deliverables were all accepted
    clock.now = bj(2027, 12, 16, 0, 0, 1)
    runner.run_due()
    commend = item(engine, office, "commend")
    options = commend["form"]["properties"]["commended_units"]["items"]["oneOf"]
    assert [o["const"] for o in options] == sorted([AUDIT, HEALTH, BUREAU])
    assert "退回修改 1 次" in next(o["title"] for o in options if o["const"] == HEALTH)
    assert "逾期 1 项" in next(o["title"] for o in options if o["const"] == BUREAU)
    complete_step(engine, office, "commend", commended_units=[AUDIT], campaign_summary="全省治庸问责工作总结")
    assert engine.case(office)["status"] == "completed"
    with engine.db.reading() as s:
        closed = s.get(Campaign, campaign.id)
        assert (closed.status, closed.summary) == ("closed", "全省治庸问责工作总结")
        commended = dict(s.execute(select(CampaignUnit.unit, CampaignUnit.commended)
                                   .where(CampaignUnit.campaign_id == campaign.id)).all())
    assert commended == {AUDIT: True, HEALTH: False, BUREAU: False}


def test_a_unit_with_work_still_open_cannot_be_commended(world):
    engine, clock, runner = world
    office = launch(engine, [AUDIT])
    campaign = campaign_of(engine, office)
    clock.now = bj(2027, 12, 16, 0, 0, 1)
    runner.run_due()  # every phase opened, the office's inspections wait
    complete_step(engine, office, "inspect", inspected_unit=AUDIT, inspected_on="2027-11-01", inspection_mode="open",
                  inspection_place="机关", inspection_findings="材料未报", inspection_expose=False, more_inspections=False)
    commend = item(engine, office, "commend")
    assert commend["form"]["properties"]["commended_units"]["items"]["oneOf"] == []
    with pytest.raises(InvalidData):
        complete_step(engine, office, "commend", commended_units=[AUDIT], campaign_summary="总结")
    assert campaign_of(engine, office).status == "running"


def test_overlapping_phases_wuhan_audit_bureau(world):
    """检查追责 4/16–8/31 runs during 自查整改 5/1–6/30: the office inspects while the units rectify."""
    engine, clock, runner = world
    clock.now = bj(2027, 4, 1, 9)
    office = launch(engine, [AUDIT], publicity_start="2027-04-11", publicity_end="2027-04-30",
                    self_inspection_start="2027-05-01", self_inspection_end="2027-06-30",
                    supervision_start="2027-04-16", supervision_end="2027-08-31",
                    summary_start="2027-09-01", summary_end="2027-12-31",
                    work_plan_due="2027-04-15", problem_list_due="2027-05-15", life_meeting_due="2027-05-31",
                    public_commitment_due="2027-06-30", typical_examples_due="2027-06-30",
                    rectification_report_due="2027-06-30", summary_report_due="2027-12-31")
    unit = unit_cases(engine, campaign_of(engine, office).id)[AUDIT]
    clock.now = bj(2027, 4, 11, 9)
    runner.run_due()
    assert ready_steps(engine, unit) == ["submit_work_plan"] and ready_steps(engine, office) == []
    clock.now = bj(2027, 4, 16, 9)
    runner.run_due()
    assert ready_steps(engine, office) == ["inspect"]  # supervision opened before self-inspection
    assert item(engine, office, "inspect")["due_at"] == "2027-08-31T15:59:59Z"
    hand_in(engine, unit, "work_plan")
    assert ready_steps(engine, unit) == []
    clock.now = bj(2027, 5, 1, 9)
    runner.run_due()
    assert ready_steps(engine, unit) == sorted(f"submit_{k}" for k in SELF_KINDS)
    assert ready_steps(engine, office) == ["inspect"]  # both phases run at once
    assert item(engine, unit, "submit_rectification_report")["due_at"] == "2027-06-30T15:59:59Z"


def test_windows_are_checked_but_never_required_to_follow_each_other(world):
    engine, clock, runner = world
    with pytest.raises(InvalidData) as bad:
        launch(engine, [AUDIT], publicity_start="2027-09-01", publicity_end="2027-08-01",
               rectification_report_due="2027-08-20")
    assert set(bad.value.details) == {"publicity_end", "work_plan_due", "rectification_report_due"}
    assert "早于自查整改阶段开始" in bad.value.details["rectification_report_due"][0]
    with pytest.raises(InvalidData) as unknown:
        launch(engine, ["不存在的单位"])
    assert "participating_units" in unknown.value.details
    with engine.db.reading() as s:
        assert s.scalar(select(Case.id)) is None and s.scalar(select(Campaign.id)) is None  # nothing half-written
    # a summary phase before the others is the campaign's business (only each window itself must make sense)
    office = launch(engine, [AUDIT], summary_start="2027-07-01", summary_end="2027-07-31",
                    summary_report_due="2027-07-20")
    assert engine.case(office)["status"] == "running"


def test_windows_edited_before_launch_are_the_ones_the_units_work_to(world):
    """The bureau's own plan (seed 003, 大桥局): 宣传发动 9/9–9/19, 自查整改 9/20–10/31, 整改报告 by 10/20."""
    engine, clock, runner = world
    with engine.db.transaction() as s:
        draft = windows.draft(s, name="大桥局治庸问责", office=PROVINCE, year=2027, units=[AUDIT, HEALTH],
                              actor="leading_office", now=clock())
        windows.edit(s, draft, {"publicity_start": "2027-09-09", "publicity_end": "2027-09-19", "work_plan_due": "2027-09-15",
                                "self_inspection_start": "2027-09-20", "self_inspection_end": "2027-10-31",
                                "problem_list_due": "2027-09-30", "rectification_report_due": "2027-10-20"}, units=[AUDIT])
        with pytest.raises(InvalidData) as bad:
            windows.edit(s, draft, {"work_plan_due": "2027-09-01"})  # before its phase opens
        assert list(bad.value.details) == ["work_plan_due"]
        campaign_id = draft.id
    office = engine.start_case("accountability_campaign", {
        "campaign_id": campaign_id, "campaign_name": "大桥局治庸问责", "unit": PROVINCE, "year": 2027,
        "participating_units": [AUDIT]}, as_user(engine, "leading_office"))
    cases = unit_cases(engine, campaign_id)
    assert list(cases) == [AUDIT]  # HEALTH was taken off the draft
    clock.now = bj(2027, 8, 20, 9)  # the provincial plan's publicity would be open by now; this campaign's is not
    runner.run_due()
    assert ready_steps(engine, cases[AUDIT]) == []
    clock.now = bj(2027, 9, 9, 0, 0, 1)
    runner.run_due()
    assert item(engine, cases[AUDIT], "submit_work_plan")["due_at"] == "2027-09-15T15:59:59Z"
    hand_in(engine, cases[AUDIT], "work_plan")
    clock.now = bj(2027, 9, 20, 0, 0, 1)
    runner.run_due()
    assert item(engine, cases[AUDIT], "submit_rectification_report")["due_at"] == "2027-10-20T15:59:59Z"
    assert deliverable(engine, campaign_id, AUDIT, "rectification_report").due_on == date(2027, 10, 20)
    # launched: its windows stay as the units work to them
    with engine.db.transaction() as s:
        with pytest.raises(InvalidData) as refused:
            windows.edit(s, s.get(Campaign, campaign_id), {"rectification_report_due": "2027-10-31"})
    assert "已部署" in refused.value.message
    assert deliverable(engine, campaign_id, AUDIT, "rectification_report").due_on == date(2027, 10, 20)
    # and it cannot be launched twice
    with pytest.raises(InvalidData):
        engine.start_case("accountability_campaign", {"campaign_id": campaign_id, "campaign_name": "x", "unit": PROVINCE,
                                                       "year": 2027, "participating_units": [AUDIT]},
                          as_user(engine, "leading_office"))


def test_a_two_level_cascade_province_bureau_units(world):
    engine, clock, runner = world
    office = launch(engine, [BUREAU, AUDIT])
    province = campaign_of(engine, office)
    bureau_case = unit_cases(engine, province.id)[BUREAU]
    assert ready_steps(engine, unit_cases(engine, province.id)[AUDIT]) == []  # no sub-units: nothing to launch down
    cascade = item(engine, bureau_case, "cascade")
    assert [o["const"] for o in cascade["form"]["properties"]["sub_units"]["items"]["oneOf"]] == sorted(SUB_UNITS)
    with pytest.raises(InvalidData) as empty:
        complete_step(engine, bureau_case, "cascade", launch_down=True, sub_units=[])
    assert "sub_units" in empty.value.details
    # the bureau's own plan: publicity from 8/22, its work plan by 8/26 (seed 003, 省高管局)
    complete_step(engine, bureau_case, "cascade", launch_down=True, sub_units=list(SUB_UNITS),
                  child_publicity_start="2027-08-22", child_work_plan_due="2027-08-26")
    with engine.db.reading() as s:
        child = s.scalar(select(Campaign).where(Campaign.parent_id == province.id))
        assert (child.issuing_office, child.status, child.name) == (BUREAU, "running", province.name)
        assert s.get(Case, child.case_id).unit == BUREAU
        link = s.scalar(select(CampaignUnit).where(CampaignUnit.campaign_id == province.id, CampaignUnit.unit == BUREAU))
        assert link.child_campaign_id == child.id
    sub_cases = unit_cases(engine, child.id)
    assert set(sub_cases) == set(SUB_UNITS)
    with engine.db.reading() as s:
        assert {s.get(Case, c).unit for c in sub_cases.values()} == set(SUB_UNITS)
    clock.now = bj(2027, 8, 15, 0, 0, 1)
    runner.run_due()
    # the bureau's own deliverables to the province go on; its sub-units start on the bureau's date
    assert item(engine, bureau_case, "submit_work_plan")["due_at"] == "2027-08-25T15:59:59Z"
    assert all(ready_steps(engine, c) == [] for c in sub_cases.values())
    clock.now = bj(2027, 8, 22, 0, 0, 1)
    runner.run_due()
    first = sub_cases[SUB_UNITS[0]]
    assert item(engine, first, "submit_work_plan")["due_at"] == "2027-08-26T15:59:59Z"
    hand_in(engine, first, "work_plan")  # reviewed by the bureau's office
    assert deliverable(engine, child.id, SUB_UNITS[0], "work_plan").status == "accepted"
    assert deliverable(engine, province.id, BUREAU, "work_plan").status == "pending"
    # a sub-unit's deliverable is the bureau's campaign's, not the province's
    assert deliverable(engine, province.id, SUB_UNITS[0], "work_plan") is None


def test_each_review_is_the_issuing_offices_so_a_bureau_never_reviews_what_it_sends_up(world):
    engine, clock, runner = world
    with engine.db.transaction() as s:  # the bureau's own campaign office: its unit and those under it
        add_user(s, "office_bureau", "demo", ["leading_office"], [BUREAU, *SUB_UNITS], display_name="省高管局治庸办", demo=True)
    province = campaign_of(engine, launch(engine, [BUREAU, AUDIT]))
    bureau_case = unit_cases(engine, province.id)[BUREAU]
    complete_step(engine, bureau_case, "cascade", launch_down=True, sub_units=list(SUB_UNITS),
                  child_publicity_start="2027-08-15")
    with engine.db.reading() as s:
        child = s.scalar(select(Campaign).where(Campaign.parent_id == province.id))
    first = unit_cases(engine, child.id)[SUB_UNITS[0]]
    clock.now = bj(2027, 8, 15, 0, 0, 1)
    runner.run_due()
    complete_step(engine, bureau_case, "submit_work_plan")
    complete_step(engine, first, "submit_work_plan")
    own, below = item(engine, bureau_case, "review_work_plan"), item(engine, first, "review_work_plan")
    assert (own["unit"], below["unit"]) == (PROVINCE, BUREAU)
    office = as_user(engine, "office_bureau")
    inbox = {(i["case_id"], i["step_id"]) for i in engine.tasks(office)}
    assert (first, "review_work_plan") in inbox and (bureau_case, "review_work_plan") not in inbox
    with pytest.raises(Exception) as refused:
        engine.complete(own["id"], example_data(own["form"], work_plan_decision="accept"), office)
    assert "无权" in str(refused.value)
    engine.complete(below["id"], example_data(below["form"], work_plan_decision="accept"), office)
    assert deliverable(engine, child.id, SUB_UNITS[0], "work_plan").status == "accepted"
