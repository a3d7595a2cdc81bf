"""Opening a joint-audit project in the browser (发起联审 / 新建立项)."""
from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import func, select

from engine.accounts import add_user
from engine.models import Case
from tests.conftest import CASE_FACTS, make_engine

FORM = {k: str(v) for k, v in CASE_FACTS.items()}


@pytest.fixture
def world(tmp_path):
    url = f"sqlite:///{tmp_path}/w.db"
    eng = make_engine(url)
    with eng.db.transaction() as s:
        add_user(s, "zuzhi_daiyao", "correct horse battery", ["organization"], ["戴窑镇"], "戴窑镇组织委员")
    from web import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "TESTING": True, "WTF_CSRF_ENABLED": False})
    return {"engine": eng, "app": app}


def login(world, username, password="demo"):
    client = world["app"].test_client()
    assert client.post("/login", data={"username": username, "password": password}).status_code == 302
    return client


def page(response) -> str:
    return unescape(response.get_data(as_text=True))


def cases(world) -> int:
    with world["engine"].db.reading() as s:
        return s.scalar(select(func.count()).select_from(Case))


def test_the_organization_clerk_picks_the_citys_process_and_opens_a_project(world):
    client = login(world, "organization")
    assert "立项" in page(client.get("/"))
    choices = page(client.get("/cases/new/"))
    assert "三责联审（兴化）" in choices and "三责联审（苏州）" in choices
    form = page(client.get("/cases/new/joint_audit_xinghua"))
    assert "联审对象姓名" in form and "单位层级" in form and "乡镇（街道）" in form
    response = client.post("/cases/new/joint_audit_xinghua", data=FORM)
    assert response.status_code == 302 and "/cases/" in response.headers["Location"]
    case_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    view = world["engine"].case(case_id)
    assert view["data"]["cadre_name"] == "张伟" and view["current_steps"] == ["下发联审通知"]
    assert f"项目编号 {case_id}" in page(client.get(f"/cases/{case_id}"))


def test_errors_are_shown_at_their_fields_and_nothing_is_created(world):
    client = login(world, "organization")
    bad = dict(FORM, cadre_name="", unit_level="village", years_in_post="三年")
    response = client.post("/cases/new/joint_audit_xinghua", data=bad)
    html = page(response)
    assert response.status_code == 400
    assert 'id="f-cadre_name-error"' in html and "必填项" in html
    assert "请从列表中选择" in html and "请输入数字" in html
    assert 'value="镇党委书记"' in html  # what was typed stays
    assert cases(world) == 0
    english = page(client.post("/cases/new/joint_audit_xinghua?lang=en", data=bad))
    assert "Required" in english and "必填项" not in english


def test_only_the_start_role_may_open_a_project(world):
    staffing = login(world, "staffing")
    assert "立项" not in page(staffing.get("/"))
    assert staffing.get("/cases/new/joint_audit_xinghua").status_code == 404
    assert staffing.post("/cases/new/joint_audit_xinghua", data=FORM).status_code == 404
    assert "没有立项的权限" in page(staffing.get("/cases/new/"))
    assert cases(world) == 0


def test_a_clerk_limited_to_a_unit_opens_projects_of_that_unit_only(world):
    client = login(world, "zuzhi_daiyao", "correct horse battery")
    form = page(client.get("/cases/new/joint_audit_suzhou"))
    assert '<option value="戴窑镇"' in form and "沙沟镇" not in form
    refused = client.post("/cases/new/joint_audit_suzhou", data=dict(FORM, unit="沙沟镇"))
    assert refused.status_code == 400 and "请从列表中选择" in page(refused)
    assert client.post("/cases/new/joint_audit_suzhou", data=FORM).status_code == 302
    assert cases(world) == 1


def test_processes_other_cases_open_or_with_a_page_of_their_own_are_not_offered_here(world):
    # A complaint is registered on /complaints/new (where the informant is kept apart); a unit's campaign case, an
    # assignment or the leaders' inquiry is opened by another case. None of them can be started by hand.
    client = login(world, "discipline")
    choices = page(client.get("/cases/new/"))
    assert "信访举报办理" not in choices and "交办件办理" not in choices and "一案双查" not in choices
    assert client.get("/cases/new/complaint").status_code == 404
    before = cases(world)
    refused = client.post("/api/v1/cases", json={"process_key": "leaders_inquiry", "data": {"unit": "戴窑镇"}})
    assert refused.status_code == 403 and "由其他流程开启" in refused.get_json()["message"]
    office = login(world, "leading_office")
    refused = office.post("/api/v1/cases", json={"process_key": "accountability_campaign", "data": {}})
    assert refused.status_code == 403 and "/campaigns/" in refused.get_json()["message"]
    assert cases(world) == before
