"""Sign-in: hashed passwords, slowed guessing, CSRF on every form, safe redirects, cookie flags."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.models import User
from tests.conftest import make_engine


@pytest.fixture
def app(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    make_engine(url)
    from web import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "auth-tests", "TESTING": True})


def _csrf(client, path="/login"):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def _login(client, username, password):
    return client.post("/login", data={"username": username, "password": password, "csrf_token": _csrf(client)})


def test_passwords_are_hashed_and_checked(app):
    with app.extensions["duban"].db.reading() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "organization"))
    assert "demo" not in stored and stored.startswith(("scrypt:", "pbkdf2:"))
    client = app.test_client()
    wrong = _login(client, "organization", "nope")
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.get_data(as_text=True)
    ok = _login(client, "organization", "demo")
    assert ok.status_code == 302 and ok.headers["Location"] == "/"
    cookie = next(c for c in ok.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_guessing_is_slowed_down_per_user(app):
    client = app.test_client()
    for _ in range(5):
        assert _login(client, "audit", "guess").status_code == 401
    blocked = _login(client, "audit", "demo")  # even the right password waits out the window
    assert blocked.status_code == 429 and "15 分钟" in blocked.get_data(as_text=True)
    assert _login(client, "staffing", "demo").status_code == 302  # other accounts are not locked


def test_every_form_needs_its_csrf_token(app):
    client = app.test_client()
    assert client.post("/login", data={"username": "organization", "password": "demo"}).status_code == 400
    _login(client, "organization", "demo")
    response = client.post("/logout")
    assert response.status_code == 400 and "安全令牌" in response.get_data(as_text=True)
    assert client.get("/logout").status_code == 405  # signing out is a POST, never a link a page can trigger


def test_next_only_goes_to_this_site(app):
    client = app.test_client()
    token = _csrf(client)
    response = client.post("/login?next=//evil.example/x", data={"username": "organization", "password": "demo",
                                                                 "csrf_token": token})
    assert response.headers["Location"] == "/"
