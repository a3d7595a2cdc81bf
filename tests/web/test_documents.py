"""公文 on the case page: generating files a numbered .docx on the case; who may generate and who may download."""
from __future__ import annotations

import io
import re
from html import unescape
from urllib.parse import unquote

import pytest
from docx import Document
from sqlalchemy import func, select

from engine.accounts import add_user
from handlers.documents.records import OfficialDocument
from tests.conftest import CASE_FACTS, as_user, complete_step, make_engine
from tests.engine.test_documents import STEP_DATA
from tests.processes.walk import walk

KEY = "joint_audit_xinghua"


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setenv("DUBAN_ATTACHMENTS", str(tmp_path / "files"))
    url = f"sqlite:///{tmp_path}/w.db"
    eng = make_engine(url)
    with eng.db.transaction() as s:
        add_user(s, "clerk_shagou", "correct horse battery", ["unit"], ["沙沟镇"])
    case_id = eng.start_case(KEY, dict(CASE_FACTS), as_user(eng, "organization"))
    walk(eng, case_id, "consolidate", STEP_DATA)
    from web import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "TESTING": True, "WTF_CSRF_ENABLED": False})
    from flask_babel import get_locale

    app.jinja_env.globals.setdefault("get_locale", get_locale)
    return {"engine": eng, "app": app, "case": case_id}


def login(world, username="organization", password="demo"):
    client = world["app"].test_client()
    assert client.post("/login", data={"username": username, "password": password}).status_code == 302
    return client


def page(client, case_id) -> str:
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def links(html: str) -> dict[str, str]:
    """发文字号 → download link, from the 公文 section."""
    section = html.split('id="documents"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<td class="doc-no">([^<]+)</td>\s*<td class="doc-no">[^<]*</td>\s*<td><a href="([^"]+)"', section)
    return dict(rows)


def generate(client, case_id, kind):
    return client.post(f"/cases/{case_id}/documents", data={"kind": kind}, follow_redirects=True)


def test_the_organization_department_generates_and_downloads_from_the_case_page(world):
    client = login(world)
    case_id = world["case"]
    html = page(client, case_id)
    assert "公文" in html and "尚未生成公文" in html and "生成并归档" in html
    response = generate(client, case_id, "notice")
    body = unescape(response.get_data(as_text=True))
    assert "已生成联审通知，发文字号 兴组发〔2026〕1号" in body
    generate(client, case_id, "notice")
    found = links(page(client, case_id))
    assert list(found) == ["兴组发〔2026〕1号", "兴组发〔2026〕2号"]
    download = client.get(found["兴组发〔2026〕2号"])
    assert download.status_code == 200
    assert download.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "兴组发〔2026〕2号" in unquote(download.headers["Content-Disposition"])
    doc = Document(io.BytesIO(download.data))
    assert "兴组发〔2026〕2号" in [p.text for p in doc.paragraphs]
    # the case file lists it too, and the timeline says it was filed
    assert "兴组发〔2026〕2号 关于对戴窑镇党委书记张伟同志开展离任“三责联审”的通知.docx" in page(client, case_id)


def test_a_report_before_the_summary_is_refused_on_the_page_and_numbers_nothing(world):
    client = login(world)
    body = unescape(generate(client, world["case"], "report").get_data(as_text=True))
    assert "项目尚未完成情况汇总" in body
    body = unescape(generate(client, world["case"], "minutes").get_data(as_text=True))
    assert "未知的公文种类：minutes" in body
    with world["engine"].db.reading() as s:
        assert s.scalar(select(func.count()).select_from(OfficialDocument)) == 0
    complete_step(world["engine"], world["case"], "consolidate", rectification_deadline="2027-03-31")
    body = unescape(generate(client, world["case"], "report").get_data(as_text=True))
    assert "已生成联审报告，发文字号 兴组发〔2026〕1号" in body


def test_unit_clerks_download_their_own_case_documents_and_issue_none(world):
    org = login(world)
    generate(org, world["case"], "feedback")
    generate(org, world["case"], "notice")
    found = links(page(org, world["case"]))
    feedback, notice = found["兴组函〔2026〕1号"], found["兴组发〔2026〕1号"]
    unit = login(world, "unit")
    html = page(unit, world["case"])
    assert sorted(links(html)) == ["兴组函〔2026〕1号", "兴组发〔2026〕1号"] and "生成并归档" not in html
    assert unit.get(feedback).status_code == 200
    assert unit.get(notice).status_code == 200
    assert unit.post(f"/cases/{world['case']}/documents", data={"kind": "feedback"}).status_code == 403
    other = login(world, "clerk_shagou", "correct horse battery")  # a unit clerk of 沙沟镇
    for link in (feedback, notice):
        response = other.get(link)
        assert response.status_code == 403 and "戴窑镇" not in response.get_data(as_text=True)
    with world["engine"].db.reading() as s:
        assert s.scalar(select(func.count()).select_from(OfficialDocument)) == 2
