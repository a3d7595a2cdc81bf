"""The 信访举报 pages: the discipline body and the leading office register complaints (bad input refused at its
field, nothing kept); the list filters by state, unit, source and routing; the complaint page shows its decision,
routing, reply and accountability. Only the discipline body sees the informant — not the leading office, not a
supervisor, not the organization department — on no page, timeline, case view or API answer. The unit concerned
sees neither the complaint nor its informant, only an assigned complaint's substance."""
from __future__ import annotations

import re
from datetime import datetime
from html import unescape

import pytest
from sqlalchemy import func, select

from handlers.cadres import Person
from handlers.complaint import Complaint, ComplaintInformant
from tests.conftest import Clock, complete_step, make_engine

NOW = datetime(2027, 3, 1, 2, 0)  # 10:00 in Beijing
INFORMANT, CONTACT = "周举报", "13812345678"
ID_A = "11010519491231002X"


@pytest.fixture
def world(tmp_path):
    url = f"sqlite:///{tmp_path}/c.db"
    eng = make_engine(url)
    eng.clock = Clock(NOW)
    from web import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "TESTING": True, "WTF_CSRF_ENABLED": False})
    app.extensions["duban"].clock = eng.clock
    return {"engine": eng, "app": app}


def login(world, username):
    client = world["app"].test_client()
    assert client.post("/login", data={"username": username, "password": "demo"}).status_code == 302
    return client


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


FORM = {"source": "hotline", "received_on": "2027-02-27", "complaint_unit": "戴窑镇", "cadre_name": "张伟",
        "post": "镇长", "summary": "镇政府违规发放津补贴", "clues": "2026年12月发放，每人2000元",
        "has_specific_clues": "1", "informant_name": INFORMANT, "informant_contact": CONTACT}


def register(world, username="discipline", **changes):
    response = login(world, username).post("/complaints/new", data={**FORM, **changes})
    assert response.status_code == 302, text(response)
    complaint_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with world["engine"].db.reading() as s:
        return complaint_id, s.get(Complaint, complaint_id).case_id


def test_the_intake_refuses_bad_input_at_its_field_and_keeps_nothing(world):
    client = login(world, "discipline")
    page = text(client.get("/complaints/new"))
    assert "登记信访举报" in page and 'name="informant_name"' in page and "举报电话" in page
    for changes, field, message in (({"summary": "  "}, "summary", "必填项"),
                                    ({"source": "telepathy"}, "source", "请选择举报来源"),
                                    ({"received_on": "2027-03-05"}, "received_on", "不能晚于今天"),
                                    ({"received_on": "2027-02-30"}, "received_on", "请输入有效日期"),
                                    ({"complaint_unit": ""}, "complaint_unit", "必填项"),
                                    ({"informant_contact": "1" * 201}, "informant_contact", "不超过 200 字")):
        response = client.post("/complaints/new", data={**FORM, **changes})
        assert response.status_code == 400, changes
        page = text(response)
        error = re.search(rf'<div class="field-error" data-field="{field}">([^<]*)</div>', page)
        assert error and message in error.group(1), (changes, page[-2000:])
        assert "表单有误" in page and FORM["clues"] in page  # what the clerk typed stays
    with world["engine"].db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Complaint)) == 0
        assert s.scalar(select(func.count()).select_from(ComplaintInformant)) == 0


def test_the_discipline_body_registers_and_sees_the_informant(world):
    complaint_id, case_id = register(world)
    page = text(login(world, "discipline").get(f"/complaints/{complaint_id}"))
    assert INFORMANT in page and CONTACT in page and "举报人（仅纪委可见）" in page
    assert "属于必查：反映问题有明确线索或具体内容；举报人署真实姓名或提供具体联络方法" in page
    assert f'href="/cases/{case_id}"' in page
    listing = text(login(world, "discipline").get("/complaints/"))
    assert f'data-complaint="{complaint_id}"' in listing and "镇政府违规发放津补贴" in listing


@pytest.mark.parametrize("username", ["supervisor", "leading_office", "organization"])
def test_nobody_else_sees_the_informant_anywhere(world, username):
    complaint_id, case_id = register(world)
    client = login(world, username)
    pages = [client.get(f"/cases/{case_id}"), client.get(f"/api/v1/cases/{case_id}"), client.get("/cases/"),
             client.get("/supervise/"), client.get("/complaints/"), client.get(f"/complaints/{complaint_id}"),
             client.get("/"), client.get("/api/v1/tasks")]
    assert pages[0].status_code == 200 and "镇政府违规发放津补贴" in text(pages[0])  # the case itself is readable
    for response in pages:
        body = text(response)
        assert INFORMANT not in body and CONTACT not in body, response.request.path
    if username == "organization":  # not a complaints reader at all
        assert pages[4].status_code == 403 and pages[5].status_code == 403
    else:
        assert pages[5].status_code == 200 and "举报人（仅纪委可见）" not in text(pages[5])
        assert client.post(f"/complaints/{complaint_id}/informant", data={"informant_name": "x"}).status_code == 403


def test_the_leading_office_registers_but_does_not_see_who_complained(world):
    complaint_id, _ = register(world, "leading_office")
    page = text(login(world, "leading_office").get(f"/complaints/{complaint_id}"))
    assert "镇政府违规发放津补贴" in page and INFORMANT not in page
    assert INFORMANT in text(login(world, "discipline").get(f"/complaints/{complaint_id}"))
    assert login(world, "supervisor").get("/complaints/new").status_code == 403


def test_the_unit_concerned_sees_only_the_assigned_substance(world):
    eng = world["engine"]
    complaint_id, case_id = register(world)
    unit = login(world, "unit")  # 戴窑镇's clerk
    assert unit.get("/complaints/").status_code == 403
    assert unit.get(f"/cases/{case_id}").status_code in (403, 404)
    complete_step(eng, case_id, "route", routing="assign", investigation_deadline="2027-03-20",
                  reply_deadline="2027-03-25")
    child = eng.case(case_id)["data"]["assignment_case_id"]
    page = text(unit.get(f"/cases/{child}"))
    assert "镇政府违规发放津补贴" in page and INFORMANT not in page and CONTACT not in page
    inbox = text(unit.get("/"))
    assert "承办单位调查核实" in inbox and INFORMANT not in inbox


def test_the_list_filters_by_state_unit_source_and_routing(world):
    eng = world["engine"]
    late, late_case = register(world)
    other, other_case = register(world, source="mailbox", complaint_unit="沙沟镇", informant_name="", informant_contact="")
    complete_step(eng, late_case, "route", routing="direct", investigation_deadline="2027-03-02",
                  reply_deadline="2027-03-03")
    complete_step(eng, late_case, "investigate", finding="not_substantiated", finding_text="不属实",
                  investigated_on="2027-03-01")
    complete_step(eng, other_case, "route", routing="transfer", handling_body="兴化市教育局",
                  transfer_letter_date="2027-03-01", investigation_deadline="2027-03-30", reply_deadline="2027-04-10")
    eng.clock.advance(days=5)
    client = login(world, "supervisor")

    def shown(query):
        return {int(n) for n in re.findall(r'data-complaint="(\d+)"', text(client.get(f"/complaints/?{query}")))}

    assert shown("") == {late, other}
    assert shown("state=reply_overdue") == {late}
    assert shown("state=overdue") == {late}
    assert shown("unit=沙沟镇") == {other}
    assert shown("source=mailbox") == {other}
    assert shown("routing=transfer") == {other} and shown("routing=direct") == {late}
    assert "答复逾期" in text(client.get("/complaints/?state=reply_overdue"))


def test_the_discipline_body_records_an_informant_handed_over_later(world):
    complaint_id, case_id = register(world, informant_name="", informant_contact="")
    client = login(world, "discipline")
    assert "匿名举报" in text(client.get(f"/complaints/{complaint_id}"))
    refused = client.post(f"/complaints/{complaint_id}/informant", data={"informant_name": "名" * 101})
    assert refused.status_code == 400 and "不超过 100 字" in text(refused)
    assert client.post(f"/complaints/{complaint_id}/informant",
                       data={"informant_name": INFORMANT, "informant_contact": CONTACT}).status_code == 302
    assert INFORMANT in text(client.get(f"/complaints/{complaint_id}"))
    assert INFORMANT not in text(login(world, "supervisor").get(f"/complaints/{complaint_id}"))
    assert INFORMANT not in text(client.get(f"/cases/{case_id}"))


def test_an_accountability_outcome_shows_on_the_complaint_and_in_the_integrity_file(world):
    eng = world["engine"]
    complaint_id, case_id = register(world, against_unit="1")
    complete_step(eng, case_id, "route", routing="direct", investigation_deadline="2027-03-20",
                  reply_deadline="2027-03-25")
    complete_step(eng, case_id, "investigate", finding="substantiated", finding_text="属实", investigated_on="2027-03-01")
    complete_step(eng, case_id, "reply_informant", reply_status="sent", replied_on="2027-03-01", reply_method="letter")
    complete_step(eng, case_id, "assess_accountability", ground="wrong_decision", severity="very_serious")
    complete_step(eng, case_id, "decide_accountability", accountability_outcome="demoted", change_reason="主动退赔",
                  accountability_reason="违规决策", accountability_decided_on="2027-03-01", cadre_id_number=ID_A)
    page = text(login(world, "discipline").get(f"/complaints/{complaint_id}"))
    assert "已答复（2027-03-01，书面答复）" in page
    row = re.search(r'<tr data-outcome="demoted">(.*?)</tr>', page, re.S).group(1)
    assert "免职" in row and "降职" in row and "主动退赔" in row and "2029-03-01 前不得提拔" in row
    assert 'class="inquiry"' in page  # 一案双查 opened
    with eng.db.reading() as s:
        person_id = s.scalar(select(Person.id).where(Person.id_number == ID_A))
    integrity = text(login(world, "organization").get(f"/integrity/{person_id}"))
    assert "降职" in integrity and "决策失误" in integrity and "2029-03-01 前不得提拔" in integrity


@pytest.mark.parametrize("username", ["discipline", "supervisor"])
def test_the_ledger_exports_as_filtered_without_the_informant(world, username):
    import io

    from openpyxl import load_workbook

    register(world)
    register(world, complaint_unit="沙沟镇", summary="上班时间打牌")
    response = login(world, username).get("/complaints/list.xlsx?unit=沙沟镇")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "信访举报台账" in cells and "上班时间打牌" in cells and "镇政府违规发放津补贴" not in cells
    assert "举报电话" in cells and "是" in cells
    assert not any(INFORMANT in c or CONTACT in c for c in cells)
    assert login(world, "organization").get("/complaints/list.xlsx").status_code == 403


def test_codes_read_as_names_in_either_language(world):
    complaint_id, _ = register(world)
    client = login(world, "discipline")
    chinese = text(client.get(f"/complaints/{complaint_id}"))
    assert "举报电话" in chinese and "办理中" in chinese and "hotline" not in chinese
    english = text(client.get(f"/complaints/{complaint_id}?lang=en"))
    assert "Hotline" in english and "Reply pending" in english
    listing = text(client.get("/complaints/?lang=en"))
    assert "Reply overdue" in listing and "Hotline" in listing


def test_a_supervisor_of_some_units_sees_their_complaints_only(world):
    from engine.accounts import add_user

    with world["engine"].db.transaction() as s:
        add_user(s, "sup_shagou", "correct horse battery", ["supervisor"], ["沙沟镇"])
    daiyao, _ = register(world)
    shagou, _ = register(world, complaint_unit="沙沟镇")
    client = world["app"].test_client()
    assert client.post("/login", data={"username": "sup_shagou", "password": "correct horse battery"}).status_code == 302
    listing = text(client.get("/complaints/"))
    assert f'data-complaint="{shagou}"' in listing and f'data-complaint="{daiyao}"' not in listing
    assert client.get(f"/complaints/{daiyao}").status_code == 404
    assert client.get(f"/complaints/{shagou}").status_code == 200


def test_a_complaint_from_the_pre_audit_notice_links_back_to_the_audit(world):
    from tests.conftest import CASE_FACTS, as_user
    from tests.processes.walk import walk

    eng = world["engine"]
    audit = eng.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(eng, "organization"))
    walk(eng, audit, until="pre_audit_publicity")
    complete_step(eng, audit, "pre_audit_publicity", public_complaints=[{"summary": "超职数配备干部"}])
    (case_id,) = eng.case(audit)["data"]["public_complaint_case_ids"]
    with eng.db.reading() as s:
        complaint_id = s.scalar(select(Complaint.id).where(Complaint.case_id == case_id))
    page = text(login(world, "discipline").get(f"/complaints/{complaint_id}"))
    assert f'class="origin" href="/cases/{audit}"' in page and "审前公示" in page and "超职数配备干部" in page
