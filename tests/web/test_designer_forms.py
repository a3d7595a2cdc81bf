"""The designer's form editor and decision tables (test client): the preview is the clerk's own form, a broken
schema is answered with its problems in Chinese (never a 500), saving writes the draft file, only designers
edit, and a deployed decision table downloads byte for byte as its file."""
from __future__ import annotations

import json
import re
from html import unescape

import pytest

from tests.conftest import CASE_FACTS, PROCESSES, as_user, make_engine
from tests.processes.walk import walk

KEY = "joint_audit_xinghua"


@pytest.fixture
def world(tmp_path):
    url = f"sqlite:///{tmp_path}/f.db"
    eng = make_engine(url)
    from web import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "TESTING": True, "WTF_CSRF_ENABLED": False})
    return {"engine": eng, "app": app}


def login(world, username):
    client = world["app"].test_client()
    assert client.post("/login", data={"username": username, "password": "demo"}).status_code == 302
    return client


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def plain(response) -> str:
    return re.sub(r"<[^>]+>", "", text(response))


def squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def preview(client, draft_id: int, name: str, body: str):
    return client.post(f"/designer/drafts/{draft_id}/forms/{name}/preview", data=body.encode("utf-8"),
                       content_type="text/plain; charset=utf-8")


def _task_form(html: str) -> str:
    start = html.index('<form method="post" novalidate class="task-form">')
    start = html.index(">", html.index('name="csrf_token"', start)) + 1
    return html[start:html.index('<p><button type="submit" class="primary">', start)]


def _preview_form(html: str) -> str:
    start = html.index(">", html.index('<form class="task-form preview-form"')) + 1
    return html[start:html.index('<p><button type="button" class="primary" disabled>', start)]


def test_the_preview_is_the_form_the_clerk_sees_on_the_task_page(world):
    eng = world["engine"]
    case_id = eng.start_case(KEY, dict(CASE_FACTS), as_user(eng, "organization"))
    walk(eng, case_id, "review_personnel")
    item = next(i for i in eng.tasks(case_id=case_id) if i["step_id"] == "review_personnel")
    task_page = text(login(world, "organization").get(f"/tasks/{item['id']}"))
    source = (PROCESSES / "forms" / "xinghua_review_personnel.json").read_text(encoding="utf-8")

    shown = preview(login(world, "designer"), 1, "xinghua_review_personnel.json", source)
    assert shown.status_code == 200
    clerk, designer = squeeze(_task_form(task_page)), squeeze(_preview_form(text(shown)))
    assert designer == clerk  # the same labels, inputs, names, options and rows, byte for byte
    for label in ("审查方式", "听取汇报", "发现的问题", "问题性质", "重大问题", "添加一行"):
        assert label in designer
    assert 'name="personnel_findings[0][severity]"' in designer


def test_choices_from_the_case_records_are_explained_in_the_preview(world):
    source = (PROCESSES / "forms" / "lift_listing.json").read_text(encoding="utf-8")
    page = text(preview(login(world, "designer"), 1, "lift_listing.json", source))
    assert "予以摘牌的问题" in page
    assert "办理时从本项目的记录中列出：可摘牌的问题" in page  # one explanatory choice, not an empty list
    assert 'type="checkbox" name="lifted_item_nos"' in page
    assert "表单定义有" not in page


def test_a_broken_schema_is_answered_with_its_problems_in_chinese(world):
    designer = login(world, "designer")
    schema = json.loads((PROCESSES / "forms" / "approve_report.json").read_text(encoding="utf-8"))
    schema["properties"]["approved_on"]["type"] = "date"  # not a JSON Schema type
    schema["properties"]["report_approval"]["oneOf"][1].pop("title")
    response = preview(designer, 1, "approve_report.json", json.dumps(schema, ensure_ascii=False))
    page = plain(response)
    assert response.status_code == 200 and "Traceback" not in page
    assert "表单定义有 1 个问题" in page
    assert '字段「审定日期」(approved_on) › 类型："date" 不是有效的类型' in page
    assert 'name="approved_on"' not in text(response)  # not drawn while it is no JSON Schema

    schema["properties"]["approved_on"]["type"] = "string"  # valid again: the dialect's own problems remain
    schema["required"].append("approved_by")
    schema["properties"]["lifted"] = {"type": "array", "title": "问题", "items": {"type": "integer"},
                                      "x-options": "no.such_source"}
    response = preview(designer, 1, "approve_report.json", json.dumps(schema, ensure_ascii=False))
    page = plain(response)
    assert "必填项：approved_by 不是表单中的字段" in page
    assert "字段「审定意见」(report_approval) › 第 2 个选项：选项缺少显示名称：办理人会看到代码 returned" in page
    assert "字段「问题」(lifted)：x-options 的选项来源未注册：no.such_source" in page
    assert 'name="approved_on"' in text(response)  # drawn, under its problems

    broken = json.dumps(schema, ensure_ascii=False, indent=2).replace('"title": "审定意见",', '"title": "审定意见"', 1)
    page = plain(preview(designer, 1, "approve_report.json", broken))
    line = broken[:broken.index('"title": "审定意见"')].count("\n") + 2
    assert f"JSON 格式错误：第 {line} 行" in page and "缺少逗号" in page
    assert text(preview(designer, 1, "approve_report.json", "[1, 2]")).count("表单定义必须是 JSON 对象") == 1


@pytest.mark.parametrize("username", ["supervisor", "organization"])
def test_only_designers_edit_forms_and_decisions(world, username):
    client = login(world, username)
    source = (PROCESSES / "forms" / "approve_report.json").read_text(encoding="utf-8")
    assert client.get("/designer/drafts/1/forms/approve_report.json").status_code == 403
    assert preview(client, 1, "approve_report.json", source).status_code == 403
    assert client.post("/designer/drafts/1/forms/approve_report.json", json={"text": source}).status_code == 403
    assert client.post("/designer/drafts/1/forms/", data={"name": "x"}).status_code == 403
    assert client.get("/designer/drafts/1/decisions/audit_required.dmn").status_code == 403
    assert client.post("/designer/drafts/1/decisions/audit_required.dmn", data=b"<x/>").status_code == 403
    version = client.get("/designer/decisions/audit_required/versions/1")
    assert version.status_code == (200 if username == "supervisor" else 403)  # supervisors read the library


def test_a_deployed_decision_table_downloads_exactly_as_its_file(world):
    designer = login(world, "designer")
    for path in sorted((PROCESSES / "decisions").glob("*.dmn")):
        decision_id = path.stem
        page = designer.get(f"/designer/decisions/{decision_id}/versions/1")
        assert page.status_code == 200, decision_id
        response = designer.get(f"/designer/decisions/{decision_id}/versions/1/download")
        assert response.status_code == 200
        assert response.data == path.read_bytes(), path.name
        assert response.headers["Content-Disposition"] == f"attachment; filename={path.name}"
    page = text(designer.get("/designer/decisions/audit_required/versions/1"))
    assert "是否必须联审（必审对象）" in page and "因任期届满离任：离任必审" in page  # the table as offices read it
    assert 'data-dmn-url="/designer/decisions/audit_required/versions/1/download"' in page
    assert designer.get("/designer/decisions/audit_required/versions/99").status_code == 404
    assert designer.get("/designer/assets/dmn-viewer.js").status_code == 200
    script = designer.get("/designer/assets/dmn-modeler.js").get_data(as_text=True)
    assert "data-csp-style=" in script and ' style="' not in script  # what the CSP refuses is renamed
    assert designer.get("/designer/assets/dmn/dmn-js-decision-table.css").status_code == 200
    assert designer.get("/designer/assets/dmn/../../package.json").status_code == 404
    assert designer.get("/designer/assets/dmn-other.js").status_code == 404
