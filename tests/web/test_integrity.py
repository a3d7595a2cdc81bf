"""The integrity file pages (廉政档案): found by name, ID number or unit; one page per person, never per name;
demerit points and sanctions recorded by the organization department with a reason; Excel and Word exports;
everyone but the organization department and supervisors refused."""
from __future__ import annotations

import io
import re
from datetime import date, datetime
from html import unescape

import pytest
from sqlalchemy import select

from engine.accounts import add_user
from handlers import HandlerContext, registered
from handlers.cadres import Person
from handlers.demerits import DemeritEntry, add_entry
from handlers.integrity_file import Sanction
from tests.conftest import CASE_FACTS, Clock, as_user, make_engine
from tests.engine.test_integrity_file import ZHANG_A, ZHANG_B

NOW = datetime(2026, 12, 2, 2, 0)


@pytest.fixture
def world(tmp_path):
    url = f"sqlite:///{tmp_path}/i.db"
    eng = make_engine(url)
    with eng.db.transaction() as s:
        add_user(s, "sup_shagou", "correct horse battery", ["supervisor"], ["沙沟镇"])
    org = as_user(eng, "organization")
    cases = {}
    for key, id_number, unit, finding in (("a", ZHANG_A, "戴窑镇", "账外账"), ("b", ZHANG_B, "沙沟镇", "超编进人")):
        facts = dict(CASE_FACTS, cadre_id_number=id_number, unit=unit)
        case_id = eng.start_case("joint_audit_xinghua", facts, org)
        with eng.db.transaction() as s:
            registered()["integrity_file.archive"](HandlerContext(s, case_id, unit, dict(
                facts, personnel_score=90, evaluation_grade="较好",
                findings=[{"item_no": 1, "duty": "finance", "severity": "major", "description": finding}]),
                {}, "organization", NOW))
        cases[key] = case_id
    with eng.db.reading() as s:
        people = {p.id_number: p.id for p in s.scalars(select(Person)).all()}
    from web import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "TESTING": True, "WTF_CSRF_ENABLED": False})
    app.extensions["duban"].clock = Clock(NOW)
    return {"engine": eng, "app": app, "url": url, "a": people[ZHANG_A], "b": people[ZHANG_B], "cases": cases}


def login(app, username, password="demo"):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": password}).status_code == 302
    return client


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_the_organization_finds_each_zhang_wei_by_id_number_and_each_has_his_own_file(world):
    client = login(world["app"], "organization")
    assert "廉政档案" in text(client.get("/"))  # the nav link
    listing = text(client.get("/integrity/?q=张伟"))
    assert ZHANG_A in listing and ZHANG_B in listing
    assert ZHANG_A in text(client.get(f"/integrity/?q={ZHANG_A[:14]}")) and ZHANG_B not in text(client.get(f"/integrity/?q={ZHANG_A[:14]}"))
    assert ZHANG_A not in text(client.get("/integrity/?q=沙沟镇"))
    page_a, page_b = text(client.get(f"/integrity/{world['a']}")), text(client.get(f"/integrity/{world['b']}"))
    assert "账外账" in page_a and "超编进人" not in page_a
    assert "超编进人" in page_b and "账外账" not in page_b
    assert "较好" in page_a and f'/cases/{world["cases"]["a"]}' in page_a
    # the case page links to its cadre's file for those who may read it, not for the other departments
    link = f'href="/integrity/{world["a"]}"'
    assert link in text(client.get(f'/cases/{world["cases"]["a"]}'))
    assert link not in text(login(world["app"], "staffing").get(f'/cases/{world["cases"]["a"]}'))


@pytest.mark.parametrize("username", ["unit", "staffing", "audit", "discipline", "leading_office", "designer"])
def test_everyone_else_gets_403(world, username):
    client = login(world["app"], username)
    assert "/integrity/" not in text(client.get("/"))
    pid = world["a"]
    for path in ("/integrity/", f"/integrity/{pid}", f"/integrity/{pid}/file.xlsx", f"/integrity/{pid}/file.docx"):
        response = client.get(path)
        assert response.status_code == 403, (username, path)
        assert "账外账" not in text(response)
    assert client.post(f"/integrity/{pid}/demerits", data={"year": "2026", "points": "1", "responsibility_type": "direct",
                                                           "reason": "x"}).status_code == 403
    with world["engine"].db.reading() as s:
        assert s.scalars(select(DemeritEntry)).all() == []


def test_signed_out_goes_to_sign_in_and_a_scoped_supervisor_sees_his_units_cadres_only(world):
    response = world["app"].test_client().get("/integrity/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    client = login(world["app"], "sup_shagou", "correct horse battery")
    listing = text(client.get("/integrity/?q=张伟"))
    assert ZHANG_B in listing and ZHANG_A not in listing
    assert client.get(f"/integrity/{world['a']}").status_code == 404
    assert client.get(f"/integrity/{world['b']}").status_code == 200


def test_demerit_points_recorded_by_hand_are_validated_and_each_year_shows_its_consequence(world):
    client = login(world["app"], "organization")
    pid = world["a"]
    refused = client.post(f"/integrity/{pid}/demerits",
                          data={"year": "2026", "points": "3", "responsibility_type": "direct", "reason": "白条入账"})
    assert refused.status_code == 400
    page = text(refused)
    assert "每项违规扣 0.5 至 2 分" in page and "白条入账" in page  # the form keeps what was typed
    assert "请选择领导责任或直接责任" in text(client.post(f"/integrity/{pid}/demerits", data={
        "year": "2026", "points": "1", "responsibility_type": "", "reason": "x"}))
    with world["engine"].db.reading() as s:
        assert s.scalars(select(DemeritEntry)).all() == []
    with world["engine"].db.transaction() as s:  # 2024: 5, 2025: 4
        for year, points in ((2024, (2, 2, 1)), (2025, (2, 2))):
            for p in points:
                add_entry(s, pid, year, p, "leadership", "违规发放津补贴", "organization", NOW)
    for p in ("2", "2", "1"):
        response = client.post(f"/integrity/{pid}/demerits",
                               data={"year": "2026", "points": p, "responsibility_type": "direct", "reason": "公款吃喝"})
        assert response.status_code == 302
    page = text(client.get(f"/integrity/{pid}"))
    rows = dict(re.findall(r'data-year="(\d+)" data-consequence="(\w+)"', page))
    assert rows == {"2026": "demotion", "2025": "no_awards", "2024": "no_awards"}
    assert "连续三年累计扣分14分以上" in page
    with world["engine"].db.reading() as s:
        mine = s.scalars(select(DemeritEntry).where(DemeritEntry.year == 2026)).all()
        assert [(e.recorded_by, e.recorded_at, e.reason) for e in mine] == [("organization", NOW, "公款吃喝")] * 3


def test_a_sanction_recorded_by_hand_shows_its_ban_and_whether_it_still_runs(world):
    client = login(world["app"], "organization")
    pid = world["b"]
    assert client.post(f"/integrity/{pid}/sanctions", data={
        "outcome": "demoted", "decided_on": "2026-03-01", "reason": "连续两年扣分12分以上", "ground": ""}).status_code == 302
    assert client.post(f"/integrity/{pid}/sanctions", data={
        "outcome": "dismissed", "decided_on": "2025-03-01", "reason": "整改弄虚作假", "ground": "false_report"}).status_code == 302
    page = text(client.get(f"/integrity/{pid}"))
    assert "2028-03-01 前不得提拔（影响期内）" in page
    assert "2026-03-01 前不得担任与原任职务相当的领导职务（已期满）" in page
    assert "整改报告弄虚作假" in page
    for bad, why in (({"outcome": "fired"}, "未知的处理方式"), ({"decided_on": "2026-13-01"}, "请填写日期"),
                     ({"decided_on": "2027-01-01"}, "不能晚于今天"), ({"reason": " "}, "请填写问责事由")):
        form = {"outcome": "warning_talk", "decided_on": "2026-03-01", "reason": "逾期", **bad}
        response = client.post(f"/integrity/{pid}/sanctions", data=form)
        assert response.status_code == 400 and why in text(response), bad
    with world["engine"].db.reading() as s:
        assert sorted(x.outcome for x in s.scalars(select(Sanction)).all()) == ["demoted", "dismissed"]


def test_a_supervisor_reads_but_only_the_organization_records(world):
    client = login(world["app"], "supervisor")
    pid = world["a"]
    page = text(client.get(f"/integrity/{pid}"))
    assert "账外账" in page and "记录扣分" not in page
    assert client.post(f"/integrity/{pid}/sanctions", data={"outcome": "demoted", "decided_on": "2026-03-01",
                                                            "reason": "x"}).status_code == 403


def test_the_forms_need_their_csrf_token(world):
    from web import create_app

    app = create_app({"DATABASE_URL": world["url"], "SECRET_KEY": "t", "TESTING": True})
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": "organization", "password": "demo", "csrf_token": token})
    data = {"year": "2026", "points": "1", "responsibility_type": "direct", "reason": "x"}
    assert client.post(f"/integrity/{world['a']}/demerits", data=data).status_code == 400
    page = client.get(f"/integrity/{world['a']}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/integrity/{world['a']}/demerits", data={**data, "csrf_token": token}).status_code == 302


def test_the_excel_and_word_exports_open_and_hold_the_cadres_cases(world):
    from docx import Document
    from docx.oxml.ns import qn
    from openpyxl import load_workbook

    with world["engine"].db.transaction() as s:
        add_entry(s, world["a"], 2026, 2, "direct", "账外账", "organization", NOW)
        s.add(Sanction(person_id=world["a"], outcome="demoted", reason="扣分", ground="", decided_on=date(2026, 3, 1),
                       ban_kind="promotion", ban_until=date(2028, 3, 1), recorded_by="organization", recorded_at=NOW))
    client = login(world["app"], "organization")
    xlsx = client.get(f"/integrity/{world['a']}/file.xlsx")
    assert xlsx.status_code == 200 and "filename*=UTF-8''" in xlsx.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    cells = "\n".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
    assert "廉政档案（张伟）" in cells and ZHANG_A in cells
    assert "账外账" in cells and "超编进人" not in cells  # this 张伟's case, not the other's
    assert "2028-03-01 前不得提拔" in cells and "2026 年度" in cells

    docx = client.get(f"/integrity/{world['a']}/file.docx")
    assert docx.status_code == 200
    doc = Document(io.BytesIO(docx.data))
    body = "\n".join(p.text for p in doc.paragraphs) + "\n".join(
        c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert doc.paragraphs[0].text == "廉政档案"
    assert ZHANG_A in body and "账外账" in body and "超编进人" not in body and "2028-03-01 前不得提拔" in body
    assert doc.paragraphs[0].runs[0].element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    assert doc.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
