"""Case pages: list visibility, the case page (header, work, diagram markers, timeline, findings, visit ledger),
the case file (upload, download, refusals), comments, diagram assets."""
from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import quote, unquote

import pytest
from sqlalchemy import func, select

import engine.casefile
from engine.accounts import add_user
from engine.models import Attachment, Comment, Event
from tests.conftest import CASE_FACTS, as_user, complete_step, make_engine
from tests.processes.walk import walk

KEY = "joint_audit_xinghua"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SHAGOU = "clerk_shagou"
SHAGOU_PASSWORD = "correct horse battery"


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setenv("DUBAN_ATTACHMENTS", str(tmp_path / "files"))
    url = f"sqlite:///{tmp_path}/w.db"
    eng = make_engine(url)
    with eng.db.transaction() as s:
        add_user(s, SHAGOU, SHAGOU_PASSWORD, ["organization"], ["沙沟镇"])
    case_id = eng.start_case(KEY, dict(CASE_FACTS), as_user(eng, "organization"))
    from web import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "TESTING": True, "WTF_CSRF_ENABLED": False})
    # base.html calls get_locale(), which Flask-Babel 4 does not put into templates; until the app
    # factory / web/i18n.py registers it, provide it here (a no-op once it does).
    from flask_babel import get_locale

    app.jinja_env.globals.setdefault("get_locale", get_locale)
    return {"engine": eng, "app": app, "case": case_id, "files": tmp_path / "files"}


def login(world, username="organization", password="demo"):
    client = world["app"].test_client()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.status_code
    return client


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def diagram_ids(response) -> tuple[list[str], list[str]]:
    """The done and current step ids the page hands to case.js."""
    html = response.get_data(as_text=True)
    match = re.search(r'<div class="diagram"[^>]*data-done="([^"]*)"[^>]*data-current="([^"]*)"', html, re.S)
    assert match, "diagram container missing"
    return json.loads(unescape(match.group(1))), json.loads(unescape(match.group(2)))


def counts(world) -> tuple[int, int]:
    with world["engine"].db.reading() as s:
        return (s.scalar(select(func.count()).select_from(Attachment)),
                s.scalar(select(func.count()).select_from(Event).where(Event.kind == "attachment_added")))


def upload(client, case_id, name, content, **form):
    from io import BytesIO

    return client.post(f"/cases/{case_id}/attachments", data={"file": (BytesIO(content), name), **form},
                       content_type="multipart/form-data")


# --- the list --------------------------------------------------------------------------------
def test_case_list_shows_what_the_user_may_see(world):
    eng = world["engine"]
    other = eng.start_case(KEY, {**CASE_FACTS, "cadre_name": "刘洋", "unit": "沙沟镇"}, as_user(eng, "organization"))
    page = text(login(world).get("/cases/"))
    assert "张伟" in page and "刘洋" in page and "办理中" in page and "三责联审（兴化）" in page
    assert "下发联审通知" in page  # current step

    shagou = login(world, SHAGOU, SHAGOU_PASSWORD)
    page = text(shagou.get("/cases/"))
    assert "刘洋" in page and "张伟" not in page
    assert f"/cases/{other}" in page and f'/cases/{world["case"]}"' not in page

    # supervisors oversee every unit
    page = text(login(world, "supervisor").get("/cases/"))
    assert "张伟" in page and "刘洋" in page


def test_case_list_filters_search_and_pages(world):
    eng = world["engine"]
    org = as_user(eng, "organization")
    for i in range(26):
        eng.start_case(KEY, {**CASE_FACTS, "cadre_name": f"干部{i:02d}", "unit": "沙沟镇"}, org)
    client = login(world)
    first = text(client.get("/cases/"))
    assert first.count('<tr>') - 1 == 25  # header row + 25
    assert "干部25" in first and "张伟" not in first  # newest activity first
    assert 'href="/cases/?page=2"' in first and "第 1 / 2 页" in first
    filtered = client.get("/cases/?unit=沙沟镇").get_data(as_text=True)
    assert re.search(r'href="/cases/\?unit=[^"]+&amp;page=2"', filtered) and "第 1 / 2 页" in filtered
    second = text(client.get("/cases/?page=2"))
    assert "张伟" in second and "干部25" not in second
    assert "张伟" in text(client.get("/cases/?q=张伟"))
    assert "干部03" not in text(client.get("/cases/?q=张伟"))
    only_daiyao = text(client.get("/cases/?unit=戴窑镇"))
    assert "张伟" in only_daiyao and "干部03" not in only_daiyao
    assert "没有符合条件的项目" in text(client.get("/cases/?status=completed"))
    assert "张伟" in text(client.get(f"/cases/?status=running&process={KEY}&q=张"))
    assert "没有符合条件的项目" in text(client.get("/cases/?q=%25"))  # % is literal, not a wildcard
    assert client.get("/cases/?page=abc&status=bogus").status_code == 200


# --- access ----------------------------------------------------------------------------------
def test_other_units_case_is_forbidden_everywhere(world):
    case_id = world["case"]
    with world["engine"].db.transaction() as s:
        attachment = engine.casefile.add_attachment(s, case_id, engine.casefile.Upload("审计通知.pdf", PDF),
                                                    "organization", world["engine"].clock()).id
    shagou = login(world, SHAGOU, SHAGOU_PASSWORD)
    assert shagou.get(f"/cases/{case_id}").status_code == 403
    assert shagou.get(f"/cases/{case_id}/diagram.bpmn").status_code == 403
    assert shagou.get(f"/cases/attachments/{attachment}").status_code == 403
    assert upload(shagou, case_id, "x.pdf", PDF).status_code == 403
    assert shagou.post(f"/cases/{case_id}/comments", data={"body": "看看"}).status_code == 403
    assert counts(world) == (1, 1)
    with world["engine"].db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Comment)) == 0


def test_unknown_ids_are_404(world):
    client = login(world)
    assert client.get("/cases/99999").status_code == 404
    assert client.get("/cases/99999/diagram.bpmn").status_code == 404
    assert client.get("/cases/attachments/99999").status_code == 404
    assert upload(client, 99999, "x.pdf", PDF).status_code == 404
    assert client.post("/cases/99999/comments", data={"body": "x"}).status_code == 404


def test_pages_need_sign_in(world):
    client = world["app"].test_client()
    for path in ("/cases/", f"/cases/{world['case']}", f"/cases/{world['case']}/diagram.bpmn"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the case page ---------------------------------------------------------------------------
def test_case_page_header_work_diagram_and_timeline(world):
    eng, case_id = world["engine"], world["case"]
    complete_step(eng, case_id, "issue_notice")
    client = login(world)
    item = next(i for i in eng.tasks(case_id=case_id) if i["step_id"] == "countersign_notice_organization")
    eng.claim(item["id"], as_user(eng, "organization"))
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200
    page = text(response)
    done, current = diagram_ids(response)
    for label, value in (("联审对象", "张伟"), ("职务", "镇党委书记"), ("单位", "戴窑镇"), ("单位层级", "乡镇（街道）"),
                         ("审计类型", "离任")):
        assert label in page and value in page
    assert "办理中" in page and "三责联审（兴化）" in page and "第 1 版" in page
    # open work: step, role, assignee, due date, link to the task page
    assert "组织部会签联审通知" in page and "编办会签联审通知" in page and f'href="/tasks/{item["id"]}"' in page
    assert re.search(r"<td>\s*\d{4}-\d{2}-\d{2}\s*</td>", page)  # on time: the date, no badge
    assert '<span class="dot green"' in page and "绿灯" in page and "天后到期：" in page
    # diagram
    assert done == ["issue_notice", "link_cadre"]
    assert current == ["countersign_notice_audit", "countersign_notice_organization", "countersign_notice_staffing"]
    assert f'data-diagram-url="/cases/{case_id}/diagram.bpmn"' in page
    assert "/cases/assets/bpmn-viewer.js" in page and "case.js" in page
    assert "/cases/assets/bpmn-font/css/bpmn-embedded.css" in page
    # timeline
    assert "办理：下发联审通知" in page and "签收：组织部会签联审通知" in page and "立项：三责联审（兴化）" in page
    assert "系统" in page  # task_ready by the engine


def test_timeline_shows_changed_fields(world):
    eng, case_id = world["engine"], world["case"]
    complete_step(eng, case_id, "issue_notice", notice_no="兴审联〔2026〕7号")
    page = text(login(world).get(f"/cases/{case_id}"))
    timeline = page[page.index('id="timeline"'):page.index('id="comments"')]
    assert "<dt>通知文号</dt><dd>兴审联〔2026〕7号</dd>" in timeline
    assert "notice_no" not in timeline and "audit_period_start" not in timeline  # no form keys in front of clerks


def test_timeline_names_fields_options_and_people(world):
    eng, case_id = world["engine"], world["case"]
    walk(eng, case_id, "pre_audit_publicity")
    complete_step(eng, case_id, "pre_audit_publicity", publicity_channels=["staff_meeting", "website"])
    page = text(login(world).get(f"/cases/{case_id}"))
    timeline = page[page.index('id="timeline"'):page.index('id="comments"')]
    assert "<dt>公示方式</dt><dd>干部职工大会、门户网站</dd>" in timeline
    assert "staff_meeting" not in timeline and "publicity_channels" not in timeline
    assert "<dt>单位层级</dt><dd>乡镇（街道）</dd>" in timeline  # the start form's facts, by their labels
    assert "组织部干部监督科（演示）" in timeline and '<b class="who">organization</b>' not in timeline
    english = text(login(world).get(f"/cases/{case_id}?lang=en"))
    assert "staff_meeting" not in english


def test_overdue_work_is_flagged(world, monkeypatch):
    from datetime import timedelta

    app_engine = world["app"].extensions["duban"]
    real = app_engine.clock
    monkeypatch.setattr(app_engine, "clock", lambda: real() + timedelta(days=30))
    page = text(login(world).get(f"/cases/{world['case']}"))
    (item,) = world["engine"].tasks(case_id=world["case"])
    from engine.timers import days_overdue
    from web.deadlines import parse_utc

    days = days_overdue(parse_utc(item["due_at"]), real() + timedelta(days=30))
    assert f'<span class="badge overdue">逾期 {days} 天</span>' in page
    assert '<span class="dot red"' in page and "红灯" in page and f"逾期 {days} 天：下发联审通知" in page  # the light and why


def test_diagram_xml(world):
    response = login(world).get(f"/cases/{world['case']}/diagram.bpmn")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    body = response.get_data(as_text=True)
    assert "bpmndi:BPMNDiagram" in body and 'id="issue_notice"' in body


def _through_rectification(eng, case_id):
    def finding(description, severity, category, **extra):
        return {"description": description, "severity": severity, "problem_category": category,
                "responsibility_type": "direct", **extra}

    walk(eng, case_id, "report_rectification", {
        "review_personnel": {"personnel_findings": [finding("超职数配备副科级干部", "major", "over_quota_posts")]},
        "review_establishment": {"establishment_findings": [finding("混编混岗", "general", "mixed_posts")]},
        "review_finance": {"finance_findings": [finding("账外账", "major", "slush_fund", demerit_points=2)]},
        "consolidate": {"rectification_deadline": "2027-03-31", "serious": True},
        "supervision_letter": {"supervision_letter_date": "2027-01-01", "listed_deadline": "2027-03-31"}})
    complete_step(eng, case_id, "report_rectification", reported_item_nos=[2], rectification_report_date="2027-01-10")
    with eng.db.transaction() as s:
        s.add(Attachment(case_id=case_id, filename="佐证.pdf", content_type="application/pdf", size=1, sha256="0" * 64,
                         uploaded_by="unit", uploaded_at=eng.clock()))
        s.flush()
        evidence = s.scalar(select(func.max(Attachment.id)))
    complete_step(eng, case_id, "verify_rectification_staffing", establishment_closed_item_nos=[2],
                  establishment_visit_date="2027-01-15", establishment_visit_note="第一次回访",
                  establishment_evidence_ids=[evidence])
    for step, duty in (("verify_rectification_organization", "personnel"), ("verify_rectification_audit", "finance")):
        complete_step(eng, case_id, step, **{f"{duty}_visit_date": "2027-01-15", f"{duty}_visit_note": "第一次回访"})
    walk(eng, case_id, "report_rectification", {"set_next_round": {"next_round_deadline": "2099-03-31"}})  # 摘牌 first


def test_findings_with_rectification_status_and_visit_ledger(world):
    eng, case_id = world["engine"], world["case"]
    _through_rectification(eng, case_id)
    response = login(world).get(f"/cases/{case_id}")
    page = text(response)
    findings = page[page.index('id="findings"'):page.index('id="visits"')]
    rows = re.findall(r"<tr>(.*?)</tr>", findings, re.S)[1:]
    assert len(rows) == 3
    first, second, third = (re.sub(r"<[^>]+>", " ", r) for r in rows)
    assert all(w in first for w in ("1", "用人", "重大", "超职数配备副科级干部", "整改中", "挂牌督办", "李强", "2027-03-31"))
    assert all(w in second for w in ("2", "用编", "一般", "混编混岗", "已销号", "王芳"))
    assert "用财" in third and "账外账" in third and "整改中" in third
    assert re.findall(r"<td>(.*?)</td>", rows[0], re.S)[-1].strip() == "1"  # visits so far
    visits = page[page.index('id="visits"'):page.index('id="attachments"')]
    assert "回访台账" in visits and visits.count("第 1 次") == 3 and "2027-01-15" in visits and "第一次回访" in visits
    assert "已销号" in visits and "未整改到位" in visits
    done, current = diagram_ids(response)
    assert {"merge_findings", "open_rectification", "record_verification_staffing", "verify_rectification_staffing",
            "lift_listing", "set_next_round"} <= set(done)
    assert current == ["report_rectification"] and "report_rectification" not in done


# --- the case file ---------------------------------------------------------------------------
def test_upload_and_download_round_trip(world):
    case_id = world["case"]
    client = login(world)
    response = upload(client, case_id, "审计通知.pdf", PDF)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{case_id}#attachments")
    page = text(client.get(f"/cases/{case_id}"))
    assert "已上传" in page and "审计通知.pdf" in page and "上传附件：审计通知.pdf" in page
    (attachment_id,) = re.findall(r'href="/cases/attachments/(\d+)"', page)
    download = client.get(f"/cases/attachments/{attachment_id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "审计通知.pdf" in unquote(disposition)
    assert not list(world["files"].glob("**/*.tmp"))


def test_a_file_name_with_line_breaks_is_cleaned_and_downloads(world):
    """CR/LF in a name once made every download of the file a 500 (no header may carry them)."""
    case_id = world["case"]
    client = login(world)
    # RFC 5987 `filename*` carries any character, CR/LF included (a plain filename="…" cannot).
    name = quote("整改\r\n报告\u202e\x00\"说明\".pdf")
    body = (f"--B\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''{name}\r\n"
            "Content-Type: application/pdf\r\n\r\n").encode() + PDF + b"\r\n--B--\r\n"
    response = client.post(f"/cases/{case_id}/attachments", data=body, content_type="multipart/form-data; boundary=B")
    assert response.status_code == 302
    with world["engine"].db.reading() as s:
        stored = s.scalars(select(Attachment.filename).where(Attachment.case_id == case_id)).all()
    assert stored == ["整改报告说明.pdf"]
    (attachment_id,) = re.findall(r'href="/cases/attachments/(\d+)"', text(client.get(f"/cases/{case_id}")))
    download = client.get(f"/cases/attachments/{attachment_id}")
    disposition = download.headers["Content-Disposition"]
    assert download.status_code == 200 and download.data == PDF
    assert "\r" not in disposition and "\n" not in disposition and "整改报告说明.pdf" in unquote(disposition)
    assert download.headers["Cache-Control"] == "private, no-store"


def test_a_name_stored_before_cleaning_still_downloads(world):
    case_id = world["case"]
    client = login(world)
    upload(client, case_id, "旧.pdf", PDF)
    with world["engine"].db.transaction() as s:
        row = s.scalar(select(Attachment).where(Attachment.case_id == case_id))
        row.filename = "旧\r\nSet-Cookie: x=1.pdf"
        attachment_id = row.id
    download = client.get(f"/cases/attachments/{attachment_id}")
    assert download.status_code == 200 and "Set-Cookie" not in download.headers
    assert "\n" not in download.headers["Content-Disposition"]


def test_ids_beyond_the_database_are_404_not_500(world):
    client = login(world)
    for huge in ("2147483648", "9223372036854775808", "9" * 5000, "0"):
        for path in (f"/cases/{huge}", f"/cases/{huge}/diagram.bpmn", f"/cases/attachments/{huge}",
                     f"/tasks/{huge}", f"/api/v1/cases/{huge}", f"/api/v1/tasks/{huge}"):
            assert client.get(path).status_code == 404, path
        for path in (f"/work-items/{huge}/claim", f"/cases/{huge}/comments", f"/supervise/cases/{huge}/suspend"):
            assert client.post(path, data={"body": "x"}).status_code == 404, path


def test_upload_honours_only_same_site_next(world):
    case_id = world["case"]
    client = login(world)
    response = upload(client, case_id, "a.txt", b"hello", next="/tasks/1?x=1")
    assert response.headers["Location"].endswith("/tasks/1?x=1")
    for bad in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        response = upload(client, case_id, "a.txt", b"hello", next=bad)
        assert response.headers["Location"].endswith(f"/cases/{case_id}#attachments"), bad


@pytest.mark.parametrize("name,content,message", [
    ("setup.exe", b"MZ\x90\x00", "不支持的附件类型"),
    ("scan.pdf", b"GIF89a not a pdf", "附件内容与扩展名不符"),
    ("empty.pdf", b"", None),
    ("big.pdf", PDF + b"x" * 200, "附件过大"),
])
def test_refused_uploads_store_nothing(world, monkeypatch, name, content, message):
    monkeypatch.setattr(engine.casefile, "MAX_ATTACHMENT_BYTES", 100)
    case_id = world["case"]
    client = login(world)
    response = upload(client, case_id, name, content)
    assert response.status_code == 302
    page = text(client.get(f"/cases/{case_id}"))
    assert 'class="flash error"' in page
    if message:
        assert message in page
    assert counts(world) == (0, 0)
    assert not world["files"].exists() or not any(p.is_file() for p in world["files"].rglob("*"))


def test_upload_with_foreign_work_item_is_refused(world):
    eng = world["engine"]
    other = eng.start_case(KEY, {**CASE_FACTS, "unit": "沙沟镇"}, as_user(eng, "organization"))
    foreign = eng.tasks(case_id=other)[0]["id"]
    client = login(world)
    response = upload(client, world["case"], "a.pdf", PDF, work_item_id=str(foreign))
    assert response.status_code == 302 and counts(world) == (0, 0)
    own = eng.tasks(case_id=world["case"])[0]["id"]
    upload(client, world["case"], "a.pdf", PDF, work_item_id=str(own))
    with eng.db.reading() as s:
        assert s.scalar(select(Attachment.work_item_id)) == own


def test_comments_appear_in_list_and_timeline(world):
    case_id = world["case"]
    client = login(world)
    response = client.post(f"/cases/{case_id}/comments", data={"body": "请按期整改 <b>注意</b>"})
    assert response.status_code == 302
    raw = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "<b>注意</b>" not in raw  # escaped
    page = unescape(raw)
    timeline = page[page.index('id="timeline"'):page.index('id="comments"')]
    assert "发表意见：请按期整改 <b>注意</b>" in timeline
    comments = page[page.index('id="comments"'):]
    assert "请按期整改" in comments and "组织部干部监督科（演示）" in comments
    client.post(f"/cases/{case_id}/comments", data={"body": "   "})
    assert "意见不能为空" in text(client.get(f"/cases/{case_id}"))
    with world["engine"].db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Comment)) == 1


# --- diagram assets --------------------------------------------------------------------------
def test_viewer_assets_are_served_safely(world):
    client = login(world)
    js = client.get("/cases/assets/bpmn-viewer.js")
    assert js.status_code == 200 and "javascript" in js.mimetype and b"BpmnJS" in js.data[:2000]
    css = client.get("/cases/assets/bpmn-font/css/bpmn-embedded.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert client.get("/cases/assets/diagram-js.css").status_code == 200
    for bad in ("/cases/assets/../../setup.cfg", "/cases/assets/..%2f..%2fsetup.cfg",
                "/cases/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/setup.cfg", "/cases/assets/../../../../package.json",
                "/cases/assets/nothing.css", "/cases/assets/../bpmn-viewer.development.js"):
        assert client.get(bad).status_code == 404, bad
    assert world["app"].test_client().get("/cases/assets/bpmn-viewer.js").status_code == 302  # signed in only


def test_missing_viewer_shows_a_notice(world, monkeypatch, tmp_path):
    import web.cases

    monkeypatch.setattr(web.cases, "BPMN_DIST", tmp_path / "nowhere")
    client = login(world)
    response = client.get(f"/cases/{world['case']}")
    assert response.status_code == 200
    page = text(response)
    assert "流程图组件未安装，请运行 make" in page and 'class="diagram"' not in page and "bpmn-viewer.js" not in page
    assert client.get("/cases/assets/bpmn-viewer.js").status_code == 404
