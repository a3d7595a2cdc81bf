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


# --- the English catalog keeps up with the code -------------------------------------------------------
REPO = TEMPLATES.parents[1]
CATALOG = REPO / "web" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)\}")


def _extracted() -> set[tuple[str | None, str]]:
    """(context, msgid) of every message the web code and templates mark, extracted as `make translations` does."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with open(REPO / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "N_": None}
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
            str(REPO), method_map, options_map, keywords=keywords,
            directory_filter=lambda path: not any(p in path for p in (".venv", "node_modules", ".git"))):
        found.add((context, _singular(message)))
    return found


def _singular(msgid) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]  # ngettext: (singular, plural)


def test_the_english_catalog_translates_every_message_the_web_uses():
    """Run `make translations` and translate what this names, so English pages never fall back to Chinese."""
    from babel.messages.pofile import read_po

    with open(CATALOG, "rb") as f:
        catalog = read_po(f)
    entries = {(m.context, _singular(m.id)): m for m in catalog if m.id}
    forms = {key: [m.string] if isinstance(m.string, str) else list(m.string) for key, m in entries.items()}
    empty = sorted(msgid for (context, msgid), strings in forms.items() if not all(strings))
    fuzzy = sorted(_singular(m.id) for m in entries.values() if m.fuzzy)
    placeholders = sorted(msgid for (context, msgid), strings in forms.items()
                          if any(s and sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(s))
                                 for s in strings))
    used = _extracted()
    missing = sorted(msgid for context, msgid in used - set(entries))
    stale = sorted(msgid for context, msgid in set(entries) - used) + sorted(map(_singular, catalog.obsolete))
    assert not empty, f"untranslated in messages.po: {empty}"
    assert not fuzzy, f"fuzzy in messages.po: {fuzzy}"
    assert not placeholders, f"placeholders differ between msgid and msgstr: {placeholders}"
    assert not missing, f"used in web/ but not in messages.po (run make translations): {missing}"
    assert not stale, f"in messages.po but no longer used (run make translations): {stale}"


# --- the designer's words in English: forms, steps, processes ------------------------------------------
CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
LEDGER_EN = [{"const": n, "title": f"{n}. 问题{n}（用财·一般）", "title_en": f"{n}. Finding {n} (finance, general)"}
             for n in range(1, 4)]


def _forms() -> dict[str, dict]:
    import json

    from engine.forms import with_options

    return {p.stem: with_options(json.loads(p.read_text(encoding="utf-8")), lambda source: LEDGER_EN)
            for p in sorted((REPO / "processes" / "forms").glob("*.json"))}


def _without_english(node):
    if isinstance(node, dict):
        return {k: _without_english(v) for k, v in node.items() if k not in ("title_en", "description_en")}
    return [_without_english(v) for v in node] if isinstance(node, list) else node


def _render_form(app, schema: dict, lang: str) -> str:
    from flask import render_template_string

    from web.formrender import initial_values

    with app.test_request_context(f"/?lang={lang}"):
        return render_template_string('{% from "forms/fields.html" import render_form %}{{ render_form(s, v, {}) }}',
                                      s=schema, v=initial_values(schema))


@pytest.mark.parametrize("name", sorted(_forms()))
def test_every_form_renders_in_english_and_its_chinese_is_unchanged(app, name):
    """Labels, legends, help, options, row titles: all from title_en / description_en on English pages."""
    schema = _forms()[name]
    english = _render_form(app, schema, "en")
    left = sorted(set(CHINESE.findall(english)))
    assert not left, f"{name}: Chinese left in the English form: {left}"
    assert _render_form(app, schema, "zh_CN") == _render_form(app, _without_english(schema), "zh_CN")
    # without English texts an English page shows the Chinese ones, never nothing
    assert _render_form(app, _without_english(schema), "en").count("<label") == english.count("<label")


def test_english_pages_name_steps_and_processes_in_english(app):
    engine = app.extensions["duban"]
    (item,) = engine.tasks()
    client = app.test_client()
    client.post("/login", data={"username": "organization", "password": "demo"})
    inbox = client.get("/?lang=en").get_data(as_text=True)
    assert "Issue the joint audit notice" in inbox and "下发联审通知" not in inbox
    assert "Joint audit of the three duties (Xinghua)" in inbox and "三责联审（兴化）" not in inbox  # the menus
    task = client.get(f"/tasks/{item['id']}").get_data(as_text=True)
    assert "<h1>Issue the joint audit notice" in task and "Led by the organization department" in task
    assert "Notice document no." in task and "通知文号" not in task and "由组织部牵头" not in task
    case = client.get(f"/cases/{item['case_id']}").get_data(as_text=True)
    assert "Opened: Joint audit of the three duties (Xinghua)" in case
    assert "Waiting: Issue the joint audit notice" in case
    diagram = f"/cases/{item['case_id']}/diagram.bpmn"
    assert f'data-diagram-url="{diagram}?lang=en"' in case
    assert 'name="Issue the joint audit notice"' in client.get(f"{diagram}?lang=en").get_data(as_text=True)
    assert 'name="下发联审通知"' in client.get(diagram).get_data(as_text=True)  # by its URL, though the cookie says en
    start = client.get("/cases/new/joint_audit_suzhou").get_data(as_text=True)
    assert "Joint audit of the three duties (Suzhou)" in start and "Name of the audited cadre" in start
    assert "Enter the audited cadre's name" in start.replace("&#39;", "'")
    chinese = client.get(f"/tasks/{item['id']}?lang=zh_CN").get_data(as_text=True)
    assert "<h1>下发联审通知" in chinese and "通知文号" in chinese and "Notice document no." not in chinese
    supervisor = app.test_client()
    supervisor.post("/login", data={"username": "supervisor", "password": "demo"})
    dashboard = supervisor.get("/supervise/?lang=en").get_data(as_text=True)
    assert "Joint audit of the three duties (Xinghua)" in dashboard and "Issue the joint audit notice" in dashboard
    assert "三责联审（兴化）" not in dashboard and "下发联审通知" not in dashboard
