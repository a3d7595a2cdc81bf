"""Error pages: messages are escaped and never name another unit's case; a database that is gone answers 503
with Retry-After, from a page that needs no database (browser) or as JSON (API)."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from engine.accounts import add_user, issue_token
from engine.models import User
from tests.conftest import CASE_FACTS, as_user, make_engine

XSS = "<img src=x onerror=alert(1)>"
SHAGOU = "clerk_shagou"
PASSWORD = "correct horse battery"


@pytest.fixture
def world(tmp_path):
    url = f"sqlite:///{tmp_path / 'e.db'}"
    engine = make_engine(url)
    with engine.db.transaction() as s:
        add_user(s, SHAGOU, PASSWORD, ["organization"], ["沙沟镇"])
    organization = as_user(engine, "organization")
    cases = {unit: engine.start_case("joint_audit_xinghua", dict(CASE_FACTS, unit=unit, cadre_name="宋江"), organization)
             for unit in (XSS, "%d%(x)s", "戴窑镇")}
    from web import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "errors", "TESTING": True, "WTF_CSRF_ENABLED": False})
    return {"app": app, "engine": engine, "cases": cases}


def _client(world, username="organization", password="demo"):
    client = world["app"].test_client()
    assert client.post("/login", data={"username": username, "password": password}).status_code == 302
    return client


def test_a_unit_name_with_markup_or_format_codes_is_shown_as_text_on_a_403(world):
    clerk = _client(world, SHAGOU, PASSWORD)
    for unit, case_id in world["cases"].items():
        for path in (f"/cases/{case_id}", f"/cases/{case_id}/diagram.bpmn"):
            response = clerk.get(path)
            page = response.get_data(as_text=True)
            assert response.status_code == 403, (path, response.status_code)  # %d once made this a 500
            assert XSS not in page and "onerror" not in page
            # The refusal says only that the case is not theirs: not whose it is, not what it is.
            assert unit not in page and "戴窑镇" not in page and "宋江" not in page
            assert "您无权查看此项目" in page


def test_the_api_403_names_neither_unit_nor_case(world):
    clerk = world["app"].test_client()
    with world["engine"].db.transaction() as s:
        token = issue_token(s, s.query(User).filter_by(username=SHAGOU).one(), "t")
    case_id = world["cases"]["戴窑镇"]
    (item,) = world["engine"].tasks(case_id=case_id)
    for path in (f"/api/v1/cases/{case_id}", f"/api/v1/tasks/{item['id']}"):
        response = clerk.get(path, headers={"Authorization": f"Bearer {token}"})
        message = response.get_json()["message"]  # the body itself escapes non-ASCII as \\uXXXX
        assert response.status_code == 403 and "戴窑镇" not in message and "宋江" not in message, message


def test_text_from_the_address_bar_is_escaped_on_the_supervisors_pages(world):
    boss = _client(world, "supervisor")
    response = boss.get("/supervise/list?kind=<script>alert(1)</script>")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert boss.get("/supervise/list?kind=%25d%25(x)s").status_code == 404  # not a 500
    response = boss.get("/supervise/list?kind=overdue&unit=<script>alert(2)</script>")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<script>alert(2)" not in page and "&lt;script&gt;alert(2)" in page
    assert boss.get("/supervise/list?kind=overdue&unit=%25d%25(x)s").status_code == 200


# --- the database is gone ------------------------------------------------------------------------------
def _is_unavailable_page(response) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    assert response.mimetype == "text/html" and page.lstrip().lower().startswith("<!doctype html>")
    assert "数据库暂时无法连接" in page and "Internal Server Error" not in page


def test_a_database_that_refuses_connections_answers_503(tmp_path):
    from web import create_app

    app = create_app({"DATABASE_URL": "postgresql+psycopg://duban@127.0.0.1:1/duban?connect_timeout=3",
                      "SECRET_KEY": "down", "TESTING": True, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    assert client.get("/login").status_code == 200  # the sign-in page itself needs no database
    _is_unavailable_page(client.post("/login", data={"username": "organization", "password": "demo"}))
    response = app.test_client().get("/api/v1/tasks", headers={"Authorization": "Bearer whatever"})
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    assert response.get_json() == {"code": "unavailable", "message": "数据库暂时无法连接，请稍后重试。"}


def test_signed_in_pages_answer_503_when_the_database_goes_away(world, monkeypatch):
    client = _client(world)
    case_id = world["cases"]["戴窑镇"]
    assert client.get(f"/cases/{case_id}").status_code == 200
    db = world["app"].extensions["duban"].db

    def gone():
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("server closed the connection"))

    monkeypatch.setattr(db, "read_sessions", gone)
    monkeypatch.setattr(db, "sessions", gone)
    for path in ("/", f"/cases/{case_id}", "/cases/", "/supervise/", "/no-such-page"):
        _is_unavailable_page(client.get(path))
    response = client.post(f"/cases/{case_id}/comments", data={"body": "看看"})
    _is_unavailable_page(response)
