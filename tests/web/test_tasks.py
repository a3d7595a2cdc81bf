"""The task page: parallel departments submit without conflicts, any refusal keeps what the clerk typed,
and the message after submitting names what comes next from this step."""
from __future__ import annotations

from html import unescape

import pytest

from engine.forms import example_data
from tests.conftest import CASE_FACTS, as_user, complete_step, make_engine
from tests.processes.walk import walk

KEY = "joint_audit_xinghua"


@pytest.fixture
def world(tmp_path):
    url = f"sqlite:///{tmp_path}/w.db"
    eng = make_engine(url)
    case_id = eng.start_case(KEY, dict(CASE_FACTS), as_user(eng, "organization"))
    walk(eng, case_id, "review_personnel")
    from web import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "TESTING": True, "WTF_CSRF_ENABLED": False})
    items = {i["step_id"]: i for i in eng.tasks(case_id=case_id)}
    return {"engine": eng, "app": app, "case": case_id, "items": items}


def login(world, username):
    client = world["app"].test_client()
    assert client.post("/login", data={"username": username, "password": "demo"}).status_code == 302
    return client


def form_of(client, item_id) -> str:
    response = client.get(f"/tasks/{item_id}")
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


PERSONNEL = {"personnel_methods": "hear_report", "personnel_score": "88", "personnel_summary": "听取汇报，调阅台账，情况属实",
             "personnel_findings[0][description]": "", "personnel_findings[0][severity]": ""}
ESTABLISHMENT = {"establishment_methods": "ledger_review", "establishment_score": "90", "establishment_summary": "编制使用规范"}


def test_two_departments_with_their_forms_open_both_submit_successfully(world):
    organization, staffing = login(world, "organization"), login(world, "staffing")
    personnel, establishment = world["items"]["review_personnel"], world["items"]["review_establishment"]
    form_of(organization, personnel["id"])  # both forms are open at the same moment
    form_of(staffing, establishment["id"])
    first = staffing.post(f"/tasks/{establishment['id']}", data=ESTABLISHMENT)
    assert first.status_code == 302, unescape(first.get_data(as_text=True))[:2000]
    second = organization.post(f"/tasks/{personnel['id']}", data=PERSONNEL)
    assert second.status_code == 302, unescape(second.get_data(as_text=True))[:2000]
    flashed = unescape(organization.get("/").get_data(as_text=True))
    # the next step from here is the other departments' work, not a step of this clerk's own
    assert "已办理：用人责任审查（座谈了解）；其他环节仍在办理中：用财责任审查（座谈了解）" in flashed


def test_the_last_review_names_the_joined_next_step(world):
    eng = world["engine"]
    complete_step(eng, world["case"], "review_personnel")
    complete_step(eng, world["case"], "review_finance")
    staffing = login(world, "staffing")
    response = staffing.post(f"/tasks/{world['items']['review_establishment']['id']}", data=ESTABLISHMENT)
    assert response.status_code == 302
    assert "下一步：意见反馈" in unescape(staffing.get("/").get_data(as_text=True))


def test_a_refused_submission_keeps_what_the_clerk_typed(world):
    organization = login(world, "organization")
    personnel = world["items"]["review_personnel"]
    form_of(organization, personnel["id"])
    eng = world["engine"]
    eng.complete(personnel["id"], example_data(personnel["form"]), as_user(eng, "organization"))  # another clerk
    typed = dict(PERSONNEL, personnel_summary="这段话是我刚刚写的，不能丢")
    response = organization.post(f"/tasks/{personnel['id']}", data=typed)
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 409
    assert "未能办理" in page and "已办结" in page
    assert "这段话是我刚刚写的，不能丢" in page  # kept on the page, in a form that can no longer be sent
    assert '<fieldset disabled' in page


def test_a_suspended_case_refuses_but_keeps_the_data_in_a_form_that_can_be_sent_later(world):
    from engine.incidents import suspend

    eng = world["engine"]
    suspend(eng, world["case"], as_user(eng, "supervisor"), "等待补充材料")
    organization = login(world, "organization")
    typed = dict(PERSONNEL, personnel_summary="暂停期间填写的意见")
    response = organization.post(f"/tasks/{world['items']['review_personnel']['id']}", data=typed)
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 409 and "暂停期间填写的意见" in page


def test_field_messages_are_in_the_page_language_only(world):
    organization = login(world, "organization")
    item = world["items"]["review_personnel"]
    bad = dict(PERSONNEL, personnel_score="很好")
    zh = unescape(organization.post(f"/tasks/{item['id']}", data=bad).get_data(as_text=True))
    assert "请输入数字" in zh and "Enter a number" not in zh and "(expected" not in zh
    en = unescape(organization.post(f"/tasks/{item['id']}?lang=en", data=bad).get_data(as_text=True))
    assert "Enter a number" in en and "请输入数字" not in en


def test_every_rectification_step_shows_the_ledger_and_ticks_its_items(world):
    eng, case_id = world["engine"], world["case"]
    complete_step(eng, case_id, "review_personnel")
    complete_step(eng, case_id, "review_establishment")
    complete_step(eng, case_id, "review_finance", finance_findings=[
        {"description": "白条入账", "severity": "major", "problem_category": "white_slips", "responsibility_type": "direct",
         "demerit_points": 1},
        {"description": "公务接待超标准", "severity": "general", "problem_category": "excess_reception",
         "responsibility_type": "leadership", "demerit_points": 0.5}])
    walk(eng, case_id, "report_rectification")
    (report,) = eng.tasks(case_id=case_id)
    unit = login(world, "unit")
    page = unescape(unit.get(f"/tasks/{report['id']}").get_data(as_text=True))
    assert 'id="findings"' in page and 'id="visits"' in page  # the ledger is on the report's page
    assert 'type="checkbox" name="reported_item_nos"' in page and "1. 白条入账（用财·重大）" in page
    response = unit.post(f"/tasks/{report['id']}", data={
        "rectification_report": "已整改", "rectification_report_date": "2026-06-01", "reported_item_nos": ["1", "3"]})
    assert response.status_code == 400 and "请从列表中选择" in unescape(response.get_data(as_text=True))
    assert unit.post(f"/tasks/{report['id']}", data={
        "rectification_report": "已整改", "rectification_report_date": "2026-06-01", "reported_item_nos": "1"}).status_code == 302
    (visit,) = eng.tasks(case_id=case_id)  # the audit bureau verifies its own (finance) items
    audit = login(world, "audit")
    page = unescape(audit.get(f"/tasks/{visit['id']}").get_data(as_text=True))
    assert 'id="findings"' in page and "（单位已报整改）" in page
    refused = audit.post(f"/tasks/{visit['id']}", data={
        "finance_visit_date": "2026-06-10", "finance_visit_note": "回访", "finance_closed_item_nos": ["1", "2"]})
    assert refused.status_code == 400 and "销号的问题中有单位未申报整改到位的，请说明理由" in unescape(refused.get_data(as_text=True))
