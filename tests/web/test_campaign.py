"""The campaign pages: drafting a campaign with the provincial plan's windows, editing them before launch (and
being refused after), launching it, 明查暗访 from the campaign page, the dashboard's counts per unit and phase with
the late unit made obvious, its Excel with the same figures, the unit's page, and who may see what."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from io import BytesIO
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.accounts import add_user
from engine.forms import example_data
from engine.worker import TimerRunner
from handlers import units as org_units
from handlers.campaign.records import Campaign, CampaignUnit
from tests.conftest import Clock, as_user, make_engine

PROVINCE, ON_TIME, LATE, SENT_BACK = "省直机关工委", "省审计厅", "省卫生厅", "省交通厅"
CLERKS = {ON_TIME: "clerk_audit", LATE: "clerk_health", SENT_BACK: "clerk_transport"}


def bj(y, m, d, h=0, mi=0, s=0) -> datetime:
    return datetime(y, m, d, h, mi, s) - timedelta(hours=8)


@pytest.fixture
def world(tmp_path):
    url = f"sqlite:///{tmp_path}/c.db"
    engine = make_engine(url)
    clock = Clock(bj(2027, 8, 10, 9))
    engine.clock = clock
    with engine.db.transaction() as s:
        org_units.ensure(s, PROVINCE, kind="province_dept")
        for unit, username in CLERKS.items():
            org_units.ensure(s, unit, parent=PROVINCE, kind="province_dept")
            add_user(s, username, "demo", ["unit"], [unit], display_name=f"{unit}办公室", demo=True)
    from web import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "TESTING": True, "WTF_CSRF_ENABLED": False})
    app.extensions["duban"].clock = clock
    return {"engine": engine, "app": app, "clock": clock, "runner": TimerRunner(engine, "w")}


def login(world, username="leading_office"):
    client = world["app"].test_client()
    assert client.post("/login", data={"username": username, "password": "demo"}).status_code == 302
    return client


def text(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def draft(client) -> int:
    response = client.post("/campaigns/", data={"name": "2027年治庸问责", "office": PROVINCE, "year": "2027",
                                                "units": [ON_TIME, LATE, SENT_BACK]})
    assert response.status_code == 302, text(response)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def work(world, case_id: int, step: str, **data):
    engine = world["engine"]
    (found,) = [i for i in engine.tasks(case_id=case_id) if i["step_id"] == step]
    who = CLERKS[found["unit"]] if found["role"] == "unit" else found["role"]
    engine.complete(found["id"], example_data(found["form"], **data), as_user(engine, who))


def hand_in(world, case_id, kind, decision="accept", comment=""):
    work(world, case_id, f"submit_{kind}")
    work(world, case_id, f"review_{kind}", **{f"{kind}_decision": decision, f"{kind}_comment": comment})


def test_a_draft_takes_the_provincial_plan_and_its_windows_can_be_edited_until_launch(world):
    client = login(world)
    campaign_id = draft(client)
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert 'name="publicity_start" value="2027-08-15"' in page and 'name="work_plan_due" value="2027-08-25"' in page
    assert 'name="rectification_report_due" value="2027-10-15"' in page and 'name="summary_report_due" value="2027-12-12"' in page
    # a window ending before it starts is refused at its field, nothing saved
    bad = client.post(f"/campaigns/{campaign_id}/windows", data={"publicity_end": "2027-08-01"})
    assert bad.status_code == 400 and "宣传发动的结束日期 2027-08-01 早于开始日期 2027-08-15" in text(bad)
    ok = client.post(f"/campaigns/{campaign_id}/windows", data={"summary_report_due": "2027-12-10"})
    assert ok.status_code == 302
    assert 'name="summary_report_due" value="2027-12-10"' in client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    launched = client.post(f"/campaigns/{campaign_id}/launch")
    assert launched.status_code == 302
    with world["engine"].db.reading() as s:
        campaign = s.get(Campaign, campaign_id)
        assert campaign.status == "running" and campaign.deadlines["summary_report"] == "2027-12-10"
        assert len(s.scalars(select(CampaignUnit.case_id).where(CampaignUnit.campaign_id == campaign_id)).all()) == 3
    refused = client.post(f"/campaigns/{campaign_id}/windows", data={"summary_report_due": "2027-12-14"})
    assert refused.status_code == 400 and "活动已部署，各阶段时间和报送时限不能再修改" in text(refused)


def test_the_dashboard_counts_each_unit_and_phase_and_the_excel_has_the_same_figures(world):
    engine, clock, runner = world["engine"], world["clock"], world["runner"]
    office = login(world)
    campaign_id = draft(office)
    office.post(f"/campaigns/{campaign_id}/launch")
    with engine.db.reading() as s:
        cases = dict(s.execute(select(CampaignUnit.unit, CampaignUnit.case_id)
                               .where(CampaignUnit.campaign_id == campaign_id)).all())
    clock.now = bj(2027, 8, 15, 9)
    runner.run_due()
    hand_in(world, cases[ON_TIME], "work_plan")
    hand_in(world, cases[SENT_BACK], "work_plan", "send_back", "分工不明确")
    hand_in(world, cases[SENT_BACK], "work_plan")
    clock.now = bj(2027, 8, 27, 9)  # the work plan was due on 8/25: the health department has sent nothing
    runner.run_due()
    response = office.post(f"/campaigns/{campaign_id}/inspections", data={
        "inspected_unit": LATE, "inspected_on": "2027-08-26", "inspection_mode": "covert", "inspection_place": "办事窗口",
        "inspection_findings": "窗口无人值守", "inspection_expose": "1"})
    assert response.status_code == 302
    page = office.get(f"/campaigns/{campaign_id}/dashboard")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'id="behind".*?' + LATE, html, re.S)  # the late unit named at the top, with its link
    assert f'href="/campaigns/{campaign_id}/units/{quote(LATE)}"' in html

    def row(unit):
        match = re.search(rf'<tr data-unit="{unit}" class="([^"]*)">(.*?)</tr>', html, re.S)
        cells = dict(re.findall(r'data-cell="([^"]+)"[^>]*>([^<]*)<', match.group(2)))
        return match.group(1), cells

    late_class, late = row(LATE)
    assert "overdue" in late_class and late["publicity-in"] == "0/1" and late["publicity-missing"] == "1"
    assert late["inspections"] == "1" and late["exposed"] == "1"
    back_class, back = row(SENT_BACK)
    assert "overdue" not in back_class and back["publicity-in"] == "1/1" and back["publicity-sent-back"] == "1"
    ok_class, ok = row(ON_TIME)
    assert ok["publicity-in"] == "1/1" and ok["publicity-missing"] == "0" and ok["self_inspection-in"] == "0/5"

    # the late unit's page: the missing work plan, the covert visit, its case
    unit_page = office.get(f"/campaigns/{campaign_id}/units/{LATE}")
    assert unit_page.status_code == 200
    body = text(unit_page)
    assert "逾期未报" in body and "窗口无人值守" in body and f"#{cases[LATE]}" in body

    # the Excel: same figures
    export = office.get(f"/campaigns/{campaign_id}/dashboard.xlsx")
    assert export.status_code == 200
    sheet = load_workbook(BytesIO(export.data)).active
    lines = {r[0]: r for r in sheet.iter_rows(values_only=True) if r[0] in CLERKS}
    header = next(r for r in sheet.iter_rows(values_only=True) if "已报送" in r)
    col = {name: n for n, name in reversed(list(enumerate(header)))}  # first occurrence: the publicity group
    assert lines[LATE][col["已报送"]] == "0/1" and lines[LATE][col["逾期未报"]] == 1 and lines[LATE][col["明查暗访"]] == 1
    assert lines[SENT_BACK][col["退回修改"]] == 1 and lines[ON_TIME][col["已报送"]] == "1/1"

    # the clerk hands the work plan in, late: the dashboard counts it in, and late
    hand_in(world, cases[LATE], "work_plan")
    html = office.get(f"/campaigns/{campaign_id}/dashboard").get_data(as_text=True)
    late_class, late = row(LATE)
    assert late["publicity-in"] == "1/1" and late["publicity-missing"] == "0" and late["publicity-late"] == "1"


def test_a_unit_clerk_sees_his_own_unit_only_and_never_the_dashboard(world):
    engine = world["engine"]
    office = login(world)
    campaign_id = draft(office)
    office.post(f"/campaigns/{campaign_id}/launch")
    with engine.db.reading() as s:
        cases = dict(s.execute(select(CampaignUnit.unit, CampaignUnit.case_id)
                               .where(CampaignUnit.campaign_id == campaign_id)).all())
    clerk = login(world, CLERKS[ON_TIME])
    assert clerk.get(f"/campaigns/{campaign_id}/dashboard").status_code == 403
    assert clerk.get(f"/campaigns/{campaign_id}/dashboard.xlsx").status_code == 403
    assert clerk.get(f"/campaigns/{campaign_id}").status_code == 403
    assert clerk.get(f"/campaigns/{campaign_id}/units/{LATE}").status_code == 403
    assert clerk.get(f"/cases/{cases[LATE]}").status_code in (403, 404)
    own = clerk.get(f"/campaigns/{campaign_id}/units/{ON_TIME}")
    assert own.status_code == 200 and "工作方案" in text(own)
    assert clerk.get(f"/cases/{cases[ON_TIME]}").status_code == 200
    listing = text(clerk.get("/campaigns/"))
    assert "2027年治庸问责" in listing and "建立活动" not in listing
    assert clerk.post("/campaigns/", data={"name": "x", "office": ON_TIME, "year": "2027", "units": [LATE]}).status_code == 403
    assert clerk.post(f"/campaigns/{campaign_id}/inspections", data={"inspected_unit": LATE}).status_code == 403
    # the supervisor sees the dashboard
    assert login(world, "supervisor").get(f"/campaigns/{campaign_id}/dashboard").status_code == 200
