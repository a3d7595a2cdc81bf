"""Chinese by default, English on request and remembered; times shown in the office's local time."""
from __future__ import annotations

import pytest

from tests.conftest import CASE_FACTS, as_user, make_engine


@pytest.fixture
def app(tmp_path):
    url = f"sqlite:///{tmp_path / 'i.db'}"
    engine = make_engine(url)
    engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "organization"))
    from web import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "i18n", "TESTING": True, "WTF_CSRF_ENABLED": False})


def test_chinese_first_english_available_and_remembered(app):
    client = app.test_client()
    assert "督办系统登录" in client.get("/login").get_data(as_text=True)
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert "Sign in to Duban" in english and 'lang="en"' in english
    client.post("/login", data={"username": "organization", "password": "demo"})
    inbox = client.get("/").get_data(as_text=True)  # the cookie keeps English
    assert "My inbox" in inbox and "Organization Dept." in inbox and "我的待办" not in inbox
    assert "我的待办" in client.get("/?lang=zh_CN").get_data(as_text=True)


def test_times_are_shown_in_beijing_time(app):
    engine = app.extensions["duban"]
    (item,) = engine.tasks()
    client = app.test_client()
    client.post("/login", data={"username": "organization", "password": "demo"})
    page = client.get(f"/cases/{item['case_id']}").get_data(as_text=True)
    from datetime import datetime, timedelta

    started = datetime.fromisoformat(engine.case(item["case_id"])["started_at"].rstrip("Z"))
    assert (started + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M") in page
