"""Rectification followed through (seed 000): repeats detected, contacts by account, each department closing its
own items with evidence and a visit, late and false reports going to the discipline body, the successor handover,
and the ledgers exported to Excel."""
from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.accounts import add_user
from engine.errors import InvalidData, StepFailed
from handlers import HandlerContext
from handlers.rectification import verify
from engine.models import Attachment, Case, Event
from handlers.records import FollowUpVisit, RectificationItem
from tests.conftest import CASE_FACTS, Clock, as_user, complete_step, make_engine, ready_steps
from tests.processes.walk import walk

KEY = "joint_audit_xinghua"
DEADLINE = "2027-03-31"
T0 = datetime(2027, 3, 1, 1, 0, 0)  # 09:00 in Beijing


def finding(text, severity, category, **extra):
    return {"description": text, "severity": severity, "problem_category": category, "responsibility_type": "direct",
            **extra}


FINDINGS = {
    "review_personnel": {"personnel_findings": [finding("超职数配备副科级干部2名", "major", "over_quota_posts",
                                                        requirement="年内消化超配职数", standard="职数不超过核定数")]},
    "review_establishment": {"establishment_findings": [finding("超编进人2名", "general", "over_establishment")]},
    "review_finance": {"finance_findings": [finding("白条入账3.2万元", "major", "white_slips", amount=32000,
                                                    demerit_points=1.5)]},
}


@pytest.fixture
def world(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'rect.db'}")
    engine.clock = Clock(T0)
    return engine


def to_rectification(engine, facts=None, **consolidate) -> int:
    """A Xinghua case with one finding per duty (1 用人 major, 2 用编 general, 3 用财 major), at the unit's report."""
    case_id = engine.start_case(KEY, dict(facts or CASE_FACTS), as_user(engine, "organization"))
    walk(engine, case_id, "report_rectification",
         {**FINDINGS, "consolidate": {"rectification_deadline": DEADLINE, **consolidate}})
    return case_id


def items(engine, case_id) -> dict[int, RectificationItem]:
    with engine.db.reading() as s:
        rows = s.scalars(select(RectificationItem).where(RectificationItem.case_id == case_id)).all()
        for row in rows:
            s.expunge(row)
    return {i.item_no: i for i in rows}


def attach(engine, case_id, name="整改佐证.pdf") -> int:
    with engine.db.transaction() as s:
        a = Attachment(case_id=case_id, filename=name, content_type="application/pdf", size=10, sha256="0" * 64,
                       uploaded_by="staffing", uploaded_at=engine.clock())
        s.add(a)
        s.flush()
        return a.id


def step_events(engine, case_id, step_id):
    with engine.db.reading() as s:
        return s.scalars(select(Event).where(Event.case_id == case_id, Event.step_id == step_id)
                         .order_by(Event.seq)).all()


def test_every_finding_becomes_an_item_with_its_requirement_standard_deadline_owner_and_category(world):
    case_id = to_rectification(world)
    got = items(world, case_id)
    assert [(i.duty, i.problem_category, i.contact_role, i.contact_name) for i in got.values()] == [
        ("personnel", "over_quota_posts", "principal", "李强"), ("establishment", "over_establishment", "deputy", "王芳"),
        ("finance", "white_slips", "principal", "李强")]
    assert (got[1].requirement, got[1].standard, got[1].owner_name) == ("年内消化超配职数", "职数不超过核定数", "李强")
    assert (got[3].amount, got[3].demerit_points, got[3].responsibility_type) == (32000, 1.5, "direct")
    assert all(str(i.deadline) == DEADLINE and not i.repeated and not i.listed_supervision for i in got.values())
    data = world.case(case_id)["data"]
    assert data["rounds"][0]["deadline"] == DEADLINE and data["rectification_round"] == 1


def test_a_repeated_finding_is_detected_flagged_listed_and_gets_a_supervision_letter(world):
    first = to_rectification(world)
    second = world.start_case(KEY, dict(CASE_FACTS, cadre_name="赵敏"), as_user(world, "organization"))
    walk(world, second, "consolidate", {
        "review_personnel": {"personnel_findings": []}, "review_establishment": {"establishment_findings": []},
        "review_finance": {"finance_findings": [finding("白条报销1.1万元", "general", "white_slips", demerit_points=0.5),
                                                finding("违规发放津补贴", "general", "irregular_allowances", demerit_points=1)]}})
    data = world.case(second)["data"]
    assert data["repeated_item_nos"] == [1]  # detected at 情况汇总, before anyone ticks anything
    assert data["findings"][0]["repeat_of_case_id"] == first
    complete_step(world, second, "consolidate", rectification_deadline=DEADLINE)
    assert ready_steps(world, second) == ["supervision_letter"]  # the repeat is listed (挂牌督办) automatically
    with pytest.raises(InvalidData) as refused:  # the letter's deadline is the stricter one
        complete_step(world, second, "supervision_letter", supervision_letter_no="兴联督〔2027〕1号",
                      supervision_letter_date="2027-03-01", listed_deadline="2027-04-30")
    assert "不能晚于整改期限" in refused.value.details["listed_deadline"][0]
    complete_step(world, second, "supervision_letter", supervision_letter_no="兴联督〔2027〕1号",
                  supervision_letter_date="2027-03-01", listed_deadline="2027-03-15")
    got = items(world, second)
    assert (got[1].repeated, got[1].repeat_of_case_id, got[1].listed_supervision, str(got[1].listed_deadline),
            got[1].listed_letter_no) == (True, first, True, "2027-03-15", "兴联督〔2027〕1号")
    assert not got[2].repeated and not got[2].listed_supervision
    with world.db.reading() as s:
        assert s.get(Case, second).listed is True
    # listed on the ledger the pages show
    from handlers import ledger
    with world.db.reading() as s:
        rows = ledger.findings(s, second, world.case(second)["data"]["findings"])
    assert [(r.item_no, r.repeated, r.listing_state) for r in rows] == [(1, True, "挂牌督办"), (2, False, "")]


def test_contact_persons_are_accounts_in_the_unit_and_see_their_items(world, tmp_path):
    with world.db.transaction() as s:
        add_user(s, "li_qiang", "pw-li-qiang-long-enough", ["unit"], ["戴窑镇"], display_name="李强")
        add_user(s, "li_qiang_elsewhere", "pw-other-long-enough", ["unit"], ["沙沟镇"], display_name="王芳")  # another unit
    case_id = to_rectification(world)
    got = items(world, case_id)
    assert (got[1].contact_username, got[2].contact_username, got[3].contact_username) == ("li_qiang", None, "li_qiang")
    from web import create_app
    from flask_babel import get_locale

    app = create_app({"DATABASE_URL": str(world.db.engine.url), "SECRET_KEY": "t", "TESTING": True,
                      "WTF_CSRF_ENABLED": False})
    app.jinja_env.globals.setdefault("get_locale", get_locale)
    client = app.test_client()
    assert client.post("/login", data={"username": "li_qiang", "password": "pw-li-qiang-long-enough"}).status_code == 302
    page = client.get("/rectification/mine").get_data(as_text=True)
    assert "我的整改事项" in page and "超职数配备副科级干部2名" in page and "白条入账3.2万元" in page
    assert "超编进人2名" not in page  # the deputy's item is not his
    assert 'href="/rectification/mine"' in client.get("/").get_data(as_text=True)  # in the nav of unit users


def test_an_item_cannot_close_without_evidence_and_a_visit(world):
    case_id = to_rectification(world)
    complete_step(world, case_id, "report_rectification", reported_item_nos=[2], rectification_report_date="2027-03-02")
    with pytest.raises(InvalidData) as refused:  # the form refuses it at the field, the case runs on
        complete_step(world, case_id, "verify_rectification_staffing", establishment_closed_item_nos=[2],
                      establishment_visit_date="2027-03-05", establishment_visit_note="实地核查")
    assert "整改佐证材料" in refused.value.details["establishment_evidence_ids"][0]
    evidence = attach(world, case_id)
    with pytest.raises(InvalidData) as refused:
        complete_step(world, case_id, "verify_rectification_staffing", establishment_closed_item_nos=[2],
                      establishment_evidence_ids=[evidence])
    assert "回访" in refused.value.details["establishment_visit_date"][0]
    assert world.case(case_id)["status"] == "running" and items(world, case_id)[2].status == "open"
    with world.db.reading() as s:
        assert s.scalars(select(FollowUpVisit).where(FollowUpVisit.case_id == case_id)).all() == []
    # the handler names the item too (for callers that skip the form, e.g. a case data edit)
    data = dict(world.case(case_id)["data"], establishment_closed_item_nos=[2], establishment_evidence_ids=[])
    with world.db.transaction() as s:
        with pytest.raises(InvalidData, match="第 2 项「超编进人2名」销号缺少整改佐证材料"):
            verify(HandlerContext(s, case_id, "戴窑镇", data, {}, "staffing", world.clock()), "establishment")
        data["establishment_evidence_ids"] = [evidence]
        with pytest.raises(InvalidData, match="第 2 项「超编进人2名」销号缺少回访记录"):
            verify(HandlerContext(s, case_id, "戴窑镇", data, {}, "staffing", world.clock()), "establishment")
        s.rollback()


def test_the_staffing_office_closes_its_own_finding_and_only_its_own(world):
    case_id = to_rectification(world)
    complete_step(world, case_id, "report_rectification", reported_item_nos=[2], rectification_report_date="2027-03-02")
    # each department verifies in its own lane, in parallel
    assert ready_steps(world, case_id) == ["verify_rectification_audit", "verify_rectification_organization",
                                           "verify_rectification_staffing"]
    roles = {i["step_id"]: i["role"] for i in world.tasks(case_id=case_id)}
    assert roles["verify_rectification_staffing"] == "staffing" and roles["verify_rectification_audit"] == "audit"
    evidence = attach(world, case_id)
    staffing_form = next(i for i in world.tasks(case_id=case_id) if i["step_id"] == "verify_rectification_staffing")
    offered = world.work_item(staffing_form["id"], as_user(world, "staffing"))["form"]["properties"]
    assert [o["const"] for o in offered["establishment_closed_item_nos"]["items"]["oneOf"]] == [2]  # only its own
    complete_step(world, case_id, "verify_rectification_staffing", establishment_closed_item_nos=[2],
                  establishment_visit_date="2027-03-05", establishment_visit_note="编制核减到位",
                  establishment_evidence_ids=[evidence])
    got = items(world, case_id)
    assert (got[2].status, got[2].closed_by_role, got[2].evidence) == ("closed", "staffing", evidence)
    assert got[1].status == got[3].status == "open"
    with world.db.reading() as s:
        visit = s.scalar(select(FollowUpVisit).where(FollowUpVisit.item_id == got[2].id))
        assert (visit.visited_by_role, visit.result, str(visit.visit_date)) == ("staffing", "closed", "2027-03-05")
    complete_step(world, case_id, "verify_rectification_organization", personnel_visit_date="2027-03-06")
    complete_step(world, case_id, "verify_rectification_audit", finance_visit_date="2027-03-06")
    assert world.case(case_id)["data"]["open_item_count"] == 2
    assert ready_steps(world, case_id) == ["set_next_round"]


def test_a_late_round_report_opens_an_accountability_task_for_the_discipline_body(world):
    case_id = to_rectification(world)
    world.clock.advance(days=31)  # 2027-04-01 09:00 Beijing: the round's deadline has passed
    complete_step(world, case_id, "report_rectification", rectification_report_date="2027-04-01")
    for step in ("verify_rectification_audit", "verify_rectification_organization", "verify_rectification_staffing"):
        complete_step(world, case_id, step)
    assert ready_steps(world, case_id) == ["hold_accountable"]
    task = world.tasks(case_id=case_id)[0]
    assert task["role"] == "discipline"
    assert world.tasks(as_user(world, "discipline"), case_id)[0]["step_id"] == "hold_accountable"
    data = world.case(case_id)["data"]
    assert data["accountability_ground"] == "late_report" and "第 1 轮整改情况逾期报送" in data["accountability_reason"]
    complete_step(world, case_id, "hold_accountable", accountability_outcome="circulated_criticism",
                  accountability_decision="通报批评")
    assert ready_steps(world, case_id) == ["set_next_round"]
    assert [e.kind for e in step_events(world, case_id, "record_accountability")]  # the outcome was filed


def test_a_report_claiming_items_closed_that_verification_finds_open_is_a_false_report(world):
    case_id = to_rectification(world)
    complete_step(world, case_id, "report_rectification", reported_item_nos=[1, 3], rectification_report_date="2027-03-02")
    evidence = attach(world, case_id)
    complete_step(world, case_id, "verify_rectification_organization", personnel_closed_item_nos=[1],
                  personnel_visit_date="2027-03-05", personnel_evidence_ids=[evidence])
    complete_step(world, case_id, "verify_rectification_audit", finance_visit_date="2027-03-05",
                  finance_visit_note="白条未冲销")
    complete_step(world, case_id, "verify_rectification_staffing")
    data = world.case(case_id)["data"]
    assert data["false_report_item_nos"] == [3] and data["accountability_ground"] == "false_report"
    assert "弄虚作假" in data["accountability_reason"] and "第 3 项「白条入账3.2万元」" in data["accountability_reason"]
    assert ready_steps(world, case_id) == ["hold_accountable"]


def test_a_change_of_principal_leader_hands_the_open_items_to_the_successor(world):
    with world.db.transaction() as s:
        add_user(s, "zhou_min", "pw-zhou-min-long-enough", ["unit"], ["戴窑镇"], display_name="周敏")
    case_id = to_rectification(world)
    complete_step(world, case_id, "report_rectification", rectification_report_date="2027-03-02",
                  principal_changed=True, successor_name="周敏")
    assert ready_steps(world, case_id) == ["handover"]
    complete_step(world, case_id, "handover", successor_name="周敏", handover_date="2027-03-03",
                  handover_note="逐项交接未销号问题")
    got = items(world, case_id)
    assert [(n, i.contact_name, i.contact_username) for n, i in got.items()] == [
        (1, "周敏", "zhou_min"), (2, "王芳", None), (3, "周敏", "zhou_min")]
    assert got[1].owner_name == "周敏"
    event = step_events(world, case_id, "hand_over")[-1]
    assert event.data_after["handovers"][-1]["items"] == [1, 3] and event.data_after["unit_principal"] == "周敏"
    data = world.case(case_id)["data"]
    assert data["unit_principal"] == "周敏" and data["handovers"][0]["from"] == "李强"
    assert data["handovers"][0]["items"] == [1, 3]


def test_listed_items_are_lifted_once_closed_and_the_case_finishes(world):
    case_id = to_rectification(world, listed_item_nos=[2])
    # the supervision letter came first (walk sent it with example data), then the report
    evidence = attach(world, case_id)
    complete_step(world, case_id, "report_rectification", reported_item_nos=[1, 2, 3], rectification_report_date="2027-03-02")
    complete_step(world, case_id, "verify_rectification_organization", personnel_closed_item_nos=[1],
                  personnel_visit_date="2027-03-05", personnel_evidence_ids=[evidence])
    complete_step(world, case_id, "verify_rectification_staffing", establishment_closed_item_nos=[2],
                  establishment_visit_date="2027-03-05", establishment_evidence_ids=[evidence])
    complete_step(world, case_id, "verify_rectification_audit", finance_closed_item_nos=[3],
                  finance_visit_date="2027-03-05", finance_evidence_ids=[evidence])
    assert ready_steps(world, case_id) == ["lift_listing"]
    complete_step(world, case_id, "lift_listing", lifted_item_nos=[2], lift_note="整改到位，予以摘牌")
    assert items(world, case_id)[2].lifted_at is not None
    with world.db.reading() as s:
        assert s.get(Case, case_id).listed is False
    assert ready_steps(world, case_id) == ["issue_report"]
    done = walk(world, case_id)
    assert done[:4] == ["issue_report", "countersign_report_audit", "countersign_report_organization",
                        "countersign_report_staffing"] and done[-1] == "approve_report"
    view = world.case(case_id)
    assert view["status"] == "completed" and view["data"]["report_sent_to_discipline"] is True


def test_the_ledgers_download_as_excel(world, tmp_path):
    case_id = to_rectification(world)
    complete_step(world, case_id, "report_rectification", rectification_report_date="2027-03-02",
                  item_progress=[{"item_no": 2, "measures": "清退编外人员2名", "progress": "已完成1名"}])
    complete_step(world, case_id, "verify_rectification_staffing", establishment_visit_date="2027-03-05",
                  establishment_visit_note="清退进行中")
    from web import create_app
    from flask_babel import get_locale

    app = create_app({"DATABASE_URL": str(world.db.engine.url), "SECRET_KEY": "t", "TESTING": True,
                      "WTF_CSRF_ENABLED": False})
    app.jinja_env.globals.setdefault("get_locale", get_locale)
    client = app.test_client()
    assert client.post("/login", data={"username": "organization", "password": "demo"}).status_code == 302
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f"/rectification/{case_id}/ledger.xlsx" in page and f"/rectification/{case_id}/visits.xlsx" in page
    response = client.get(f"/rectification/{case_id}/ledger.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    cells = [[c for c in row if c is not None] for row in load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True)]
    flat = [str(c) for row in cells for c in row]
    for heading in ("问题", "整改措施", "责任人", "时限", "进度", "销号"):
        assert heading in flat
    assert "清退编外人员2名" in flat and "已完成1名" in flat and DEADLINE in flat
    visits = client.get(f"/rectification/{case_id}/visits.xlsx")
    flat = [str(c) for row in load_workbook(io.BytesIO(visits.data)).active.iter_rows(values_only=True) for c in row if c]
    assert "清退进行中" in flat and "编办" in flat
    with world.db.transaction() as s:
        add_user(s, "clerk_shagou", "pw-shagou-long-enough", ["unit"], ["沙沟镇"])
    other = app.test_client()
    other.post("/login", data={"username": "clerk_shagou", "password": "pw-shagou-long-enough"})
    assert other.get(f"/rectification/{case_id}/ledger.xlsx").status_code in (403, 404)  # another unit's clerk


def test_the_units_report_names_only_items_on_the_ledger(world):
    case_id = to_rectification(world)
    with pytest.raises(InvalidData) as refused:
        complete_step(world, case_id, "report_rectification", rectification_report_date="2027-03-02",
                      item_progress=[{"item_no": 9, "measures": "已整改"}])
    assert "不在问题清单中" in refused.value.details["item_progress"][0]
    with pytest.raises(InvalidData) as refused:
        complete_step(world, case_id, "report_rectification", rectification_report_date="2027-03-02",
                      principal_changed=True)
    assert "继任" in refused.value.details["successor_name"][0]
    assert world.case(case_id)["status"] == "running"


def test_closing_an_item_the_unit_never_reported_needs_a_reason_and_the_visit_follows_the_report(world):
    case_id = to_rectification(world)
    complete_step(world, case_id, "report_rectification", rectification_report_date="2027-03-05")
    evidence = attach(world, case_id)
    close = dict(establishment_closed_item_nos=[2], establishment_evidence_ids=[evidence])
    with pytest.raises(InvalidData) as refused:
        complete_step(world, case_id, "verify_rectification_staffing", establishment_visit_date="2027-03-08", **close)
    assert refused.value.details == {"establishment_unreported_close_reason": ["销号的问题中有单位未申报整改到位的，请说明理由"]}
    with pytest.raises(InvalidData) as refused:
        complete_step(world, case_id, "verify_rectification_staffing", establishment_visit_date="2027-03-01",
                      establishment_unreported_close_reason="现场核实已清退，单位漏报", **close)
    assert refused.value.details == {"establishment_visit_date": ["回访日期不能早于整改情况报送日期"]}
    complete_step(world, case_id, "verify_rectification_staffing", establishment_visit_date="2027-03-08",
                  establishment_unreported_close_reason="现场核实已清退，单位漏报", **close)
    assert items(world, case_id)[2].status == "closed"
