"""One deadline rule, in office time, everywhere: inbox, task page, case page, the supervisor's list and its export."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from io import BytesIO

import pytest
from sqlalchemy import update

from engine.models import Case, WorkItem
from engine.timers import days_left, days_overdue, office_date
from tests.conftest import CASE_FACTS, Clock, as_user, make_engine

# 2026-11-09 16:00 UTC is 2026-11-10 00:00 in Beijing: a date printed in UTC would be a day early.
DUE = datetime(2026, 11, 9, 16, 0, 0)
NOW = datetime(2027, 1, 14, 2, 0, 0)  # 10:00 on 2027-01-14 in Beijing


def test_days_are_calendar_days_in_the_office_time_zone():
    assert office_date(DUE).isoformat() == "2026-11-10"
    end_of_27th = datetime(2026, 9, 27, 15, 59, 59)  # 23:59:59 Beijing
    assert days_overdue(end_of_27th, datetime(2026, 12, 2, 2, 0)) == 66  # 10:00 on 12-02: 66 days after the 27th
    assert days_overdue(end_of_27th, datetime(2026, 9, 27, 16, 30)) == 1  # just past midnight: 1 day
    assert days_overdue(datetime(2026, 9, 27, 6, 0), datetime(2026, 9, 27, 8, 0)) == 1  # later the same day: still 1
    assert days_left(end_of_27th, datetime(2026, 9, 27, 1, 0)) == 0  # due today
    assert days_left(end_of_27th, datetime(2026, 9, 25, 1, 0)) == 2


@pytest.fixture
def world(tmp_path):
    url = f"sqlite:///{tmp_path}/d.db"
    eng = make_engine(url)
    eng.clock = Clock(NOW - timedelta(days=70))
    case_id = eng.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(eng, "organization"))
    with eng.db.transaction() as s:  # the notice was due at the start of 2026-11-10, Beijing time
        s.execute(update(WorkItem).where(WorkItem.case_id == case_id).values(due_at=DUE))
        s.execute(update(Case).where(Case.id == case_id).values(next_due_at=DUE))
    eng.clock = Clock(NOW)
    from web import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "TESTING": True, "WTF_CSRF_ENABLED": False})
    app.extensions["duban"].clock = Clock(NOW)
    (item,) = eng.tasks(case_id=case_id)
    return {"app": app, "case": case_id, "item": item["id"]}


def _page(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return unescape(response.get_data(as_text=True))


def _login(world, user):
    client = world["app"].test_client()
    assert client.post("/login", data={"username": user, "password": "demo"}).status_code == 302
    return client


def test_every_page_counts_the_same_days_and_prints_the_beijing_date(world):
    days = days_overdue(DUE, NOW)
    assert days == 65  # 2026-11-10 → 2027-01-14
    clerk, supervisor = _login(world, "organization"), _login(world, "supervisor")
    badge = f'<span class="badge overdue">逾期 {days} 天</span>'
    inbox = _page(clerk, "/")
    task = _page(clerk, f"/tasks/{world['item']}")
    case = _page(clerk, f"/cases/{world['case']}")
    listed = _page(supervisor, "/supervise/list?kind=light&light=red")
    for name, html in (("inbox", inbox), ("task", task), ("case", case)):
        assert badge in html, name
        assert "2026-11-10" in html and "2026-11-09" not in html, name
    assert f"逾期 {days} 天：下发联审通知" in case  # the case page says it is red, and why
    assert f"逾期 {days} 天" in listed
    from openpyxl import load_workbook

    book = load_workbook(BytesIO(supervisor.get("/supervise/list.xlsx?kind=overdue").data))
    header, *rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][header.index("逾期（天）")] == days
    assert re.search(r"逾期 \d+ 天", inbox).group(0) == f"逾期 {days} 天"
