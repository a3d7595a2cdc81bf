"""年度联审计划 in the browser: upload the roster, its bad rows in a table, the proposal with reasons, confirm or
remove per person, the bulk start in batches, and links to the cases opened."""
from __future__ import annotations

import csv
import io
import re
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.accounts import add_user
from engine.models import Case, User
from handlers.cadres import Person
from tests.conftest import make_engine

ROSTERS = Path(__file__).resolve().parents[1] / "fixtures" / "rosters"
GOOD, BAD = ROSTERS / "roster_2026.csv", ROSTERS / "roster_2026_bad.csv"


@pytest.fixture
def world(tmp_path):
    url = f"sqlite:///{tmp_path}/w.db"
    eng = make_engine(url)
    with eng.db.transaction() as s:
        add_user(s, "zuzhi_daiyao", "correct horse battery", ["organization"], ["戴窑镇"], "戴窑镇组织委员")
    from web import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "TESTING": True, "WTF_CSRF_ENABLED": False})
    return {"engine": eng, "app": app, "url": url}


def login(app, username, password="demo"):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": password}).status_code == 302
    return client


def page(response) -> str:
    return unescape(response.get_data(as_text=True))


def xlsx_of(path: Path) -> bytes:
    """The CSV fixture as the office's Excel file, dates as date cells."""
    from datetime import date

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for n, row in enumerate(csv.reader(io.StringIO(path.read_text("utf-8-sig")))):
        sheet.append([date.fromisoformat(v) if n and re.fullmatch(r"\d{4}-\d\d-\d\d", v) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, content: bytes, filename: str, **form):
    return client.post("/planning/2026/roster", data={"roster": (io.BytesIO(content), filename), **form},
                       content_type="multipart/form-data")


def count(world, model) -> int:
    with world["engine"].db.reading() as s:
        return s.scalar(select(func.count()).select_from(model))


def entry_ids(html: str) -> dict[str, int]:
    """Person name -> plan entry id, from the plan table."""
    return {unescape(name): int(i) for i, name in re.findall(r'data-entry="(\d+)"[^>]*>\s*<td><b>([^<]+)</b>', html)}


def test_a_roster_with_bad_rows_is_shown_row_by_row_and_nothing_is_imported(world):
    client = login(world["app"], "organization")
    assert "年度联审计划" in page(client.get("/"))
    response = upload(client, BAD.read_bytes(), "花名册.csv")
    html = page(response)
    assert response.status_code == 400
    assert "花名册有误，未导入任何数据" in html and "共 60 行，8 行有误" in html
    rows = re.findall(r'<tr data-row="(\d+)"><td>第 \d+ 行</td><td>([^<]+)</td>', response.get_data(as_text=True))
    assert [(int(r), c) for r, c in rows] == [(5, "单位"), (7, "离任原因"), (14, "任现职时间"), (22, "单位层级"),
                                             (35, "身份证号"), (42, "离任日期"), (47, "身份证号"), (52, "任现职时间")]
    assert "与第 32 行是同一人" in html
    assert count(world, Person) == 0
    skipped = upload(client, BAD.read_bytes(), "花名册.csv", skip_bad_rows="1")
    assert skipped.status_code == 302
    assert "已跳过有误的 8 行" in page(client.get("/planning/2026"))
    assert count(world, Person) == 52


def test_the_proposal_is_confirmed_or_removed_per_person_and_started_in_batches(world, monkeypatch):
    import web.planning

    monkeypatch.setattr(web.planning, "BATCH", 12)
    supervisor = login(world["app"], "supervisor")
    assert upload(supervisor, xlsx_of(GOOD), "花名册.xlsx").status_code == 302
    html = page(supervisor.get("/planning/2026"))
    ids = entry_ids(html)
    assert len(ids) == 27 and "已导入 60 人，2026 年度必审 27 人" in html
    assert "在县级市（区）、镇（街道）同一职位任职满3年：必审" in html and "因退休离任：离任必审" in html
    assert "批量立项由组织部办理" in html  # the leading group decides; the organization department opens the cases

    name = next(iter(ids))
    refused = supervisor.post(f"/planning/2026/entries/{ids[name]}", data={"action": "remove", "removal_reason": ""})
    assert "须说明理由" in page(supervisor.get(refused.headers["Location"]))
    supervisor.post(f"/planning/2026/entries/{ids[name]}", data={"action": "remove", "removal_reason": "上级已安排审计"})
    supervisor.post("/planning/2026/confirm-all")
    html = page(supervisor.get("/planning/2026"))
    with world["engine"].db.reading() as s:
        shown = s.scalar(select(User.display_name).where(User.username == "supervisor"))
    assert "理由：上级已安排审计" in html and shown in html and "已确认 26" in html

    organization = login(world["app"], "organization")
    html = page(organization.get("/planning/2026"))
    assert "对已确认的 26 人批量立项" in html and "三责联审（苏州）" in html
    response = organization.post("/planning/2026/start", data={"process_key": "joint_audit_suzhou"})
    rounds = 1
    while "continue=1" in response.headers["Location"]:
        assert count(world, Case) == 12 * rounds
        html = page(organization.get(response.headers["Location"]))
        assert "data-auto-submit" in html and "正在分批立项" in html  # planning.js submits the next batch
        response = organization.post("/planning/2026/start", data={"process_key": "joint_audit_suzhou", "continue": "1"})
        rounds += 1
    assert rounds == 3 and count(world, Case) == 26
    html = page(organization.get(response.headers["Location"]))
    assert "批量立项完成" in html and "已立项 26 人，待立项 0 人" in html
    links = re.findall(r'href="/cases/(\d+)">项目编号', html)
    assert len(links) == 26
    assert page(organization.get(f"/cases/{links[0]}")).count("三责联审") >= 1
    with world["engine"].db.reading() as s:
        assert {c.process_key for c in s.scalars(select(Case))} == {"joint_audit_suzhou"}


def test_who_may_plan_and_what_a_clerk_limited_to_units_sees(world):
    staffing = login(world["app"], "staffing")
    assert "年度联审计划" not in page(staffing.get("/"))
    assert staffing.get("/planning/2026").status_code == 403
    assert upload(staffing, GOOD.read_bytes(), "a.csv").status_code == 403
    organization = login(world["app"], "organization")
    assert upload(organization, GOOD.read_bytes(), "a.csv").status_code == 302
    daiyao = login(world["app"], "zuzhi_daiyao", "correct horse battery")
    html = page(daiyao.get("/planning/2026"))
    assert list(entry_ids(html)) == ["王建国"]  # 戴窑镇's secretary only
    refused = upload(daiyao, GOOD.read_bytes(), "a.csv")
    assert refused.status_code == 400 and "您无权导入单位 大垛镇 的干部" in page(refused)
    assert organization.get("/planning/1066").status_code == 400


def test_the_forms_need_the_csrf_token(world):
    from web import create_app

    app = create_app({"DATABASE_URL": world["url"], "SECRET_KEY": "t", "TESTING": True})
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    assert client.post("/login", data={"username": "organization", "password": "demo", "csrf_token": token}).status_code == 302
    assert upload(client, GOOD.read_bytes(), "a.csv").status_code == 400
    assert count(world, Person) == 0
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/planning/2026").get_data(as_text=True)).group(1)
    assert upload(client, GOOD.read_bytes(), "a.csv", csrf_token=token).status_code == 302
    assert count(world, Person) == 60
