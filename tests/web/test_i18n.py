"""Chinese by default, English on request and remembered; times shown in the office's local time."""
from __future__ import annotations

import re
from pathlib import Path

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


# --- runtime text is never a msgid ---------------------------------------------------------------------
TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
GETTEXT_CALL = re.compile(r"(?<![\w.])_\(")
LITERAL_FIRST = re.compile(r"""\s*(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*[,)]""")


def test_templates_translate_only_string_literals():
    """Jinja's `_()` marks its result safe and %-formats it: `_(user_text)` is XSS, and a `%d` in it a 500.
    Coded labels go through the `label` filter, messages arrive translated."""
    hits = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for call in GETTEXT_CALL.finditer(line):
                if not LITERAL_FIRST.match(line, call.end()):
                    hits.append(f"{path.relative_to(TEMPLATES.parent)}:{number}: {line.strip()[:100]}")
    assert not hits, "_() with a non-literal argument:\n" + "\n".join(hits)


def test_every_coded_label_is_one_the_label_filter_translates():
    from engine import caselist, supervision
    from engine.roles import ROLES
    from engine.vocabulary import AUDIT_TYPES, UNIT_LEVELS
    from handlers import findings, ledger
    from web.i18n import KNOWN_LABELS

    tables = [ROLES, caselist.STATUS_NAMES, supervision.STATUS_NAMES, supervision.LIGHT_NAMES, AUDIT_TYPES,
              UNIT_LEVELS, findings.DUTY_NAMES, ledger.SEVERITY_NAMES, ledger.ITEM_STATUS_NAMES,
              ledger.VISIT_RESULT_NAMES, ledger.CONTACT_ROLE_NAMES,
              {b[0]: b[1] for b in supervision.AGE_BUCKETS}]
    missing = sorted({text for table in tables for text in table.values()} - KNOWN_LABELS)
    assert not missing, f"add to web/i18n.py RUNTIME_LABELS: {missing}"


def test_the_label_filter_translates_its_own_labels_and_escapes_everything_else(app):
    from flask import render_template_string

    with app.test_request_context("/?lang=en"):
        assert render_template_string("{{ '组织部'|label }}") == "Organization Dept."
        out = render_template_string("{{ x|label }}", x="<b onclick=x>%d%(y)s</b>")
        assert out == "&lt;b onclick=x&gt;%d%(y)s&lt;/b&gt;"


def test_the_language_switch_keeps_the_filters_and_the_page(app):
    client = app.test_client()
    client.post("/login", data={"username": "organization", "password": "demo"})
    html = client.get("/?tab=all&unit=戴窑镇&page=2&sort=-created").get_data(as_text=True)
    link = re.search(r'<a href="(/\?[^"]*lang=en[^"]*)"', html).group(1).replace("&amp;", "&")
    from urllib.parse import parse_qs, urlsplit

    assert parse_qs(urlsplit(link).query) == {"tab": ["all"], "unit": ["戴窑镇"], "page": ["2"], "sort": ["-created"],
                                             "lang": ["en"]}


def test_every_page_has_the_favicon(app):
    response = app.test_client().get("/favicon.ico")
    assert response.status_code == 200 and response.data[:4] == b"\x00\x00\x01\x00"
