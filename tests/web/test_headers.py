"""The app factory's headers: a Content-Security-Policy without inline code, no-store on pages and API answers,
HSTS over HTTPS; and templates that need no inline script or style under that policy."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import make_engine

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.delenv("DUBAN_SECURE_COOKIES", raising=False)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    make_engine(url)
    from web import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "headers", "TESTING": True, "WTF_CSRF_ENABLED": False})


def _signed_in(app):
    client = app.test_client()
    assert client.post("/login", data={"username": "organization", "password": "demo"}).status_code == 302
    return client


def test_pages_carry_a_policy_that_allows_only_this_sites_scripts_and_styles(app):
    client = _signed_in(app)
    for path in ("/", "/cases/", "/login", "/no-such-page"):
        response = client.get(path)
        policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'", path
        assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
        assert policy["default-src"] == "'self'" and policy["base-uri"] == "'self'"
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY" and response.headers["X-Content-Type-Options"] == "nosniff"


def test_signed_in_pages_and_api_answers_are_not_stored(app):
    client = _signed_in(app)
    for path in ("/", "/cases/", "/notifications", "/api/v1/tasks", "/api/v1/cases/999"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    assert "no-store" not in client.get("/static/duban.css").headers.get("Cache-Control", "")  # files stay cached


def test_hsts_only_over_https(app, tmp_path, monkeypatch):
    client = _signed_in(app)
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/login", base_url="https://duban.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    monkeypatch.setenv("DUBAN_SECURE_COOKIES", "1")  # behind a TLS proxy: request.is_secure may be False
    from web import create_app

    proxied = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": "h", "TESTING": True})
    assert proxied.test_client().get("/login").headers["Strict-Transport-Security"].startswith("max-age=")


def test_templates_hold_no_inline_script_style_or_handler():
    """The policy above would block them; scripts live in web/static/*.js, styles in web/static/duban.css."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle\s*=|\son[a-z]+\s*=", re.I)
    hits = [f"{path.relative_to(TEMPLATES)}:{n}: {line.strip()[:90]}"
            for path in sorted(TEMPLATES.rglob("*.html"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if inline.search(line)]
    assert not hits, "\n".join(hits)
