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


def new_draft(world) -> int:
    from engine import drafts

    eng = world["engine"]
    with eng.db.transaction() as session:
        return drafts.create_draft(session, KEY, as_user(eng, "designer"), eng.clock()).id


def draft_files(world, draft_id: int) -> dict[str, str]:
    from engine import drafts

    with world["engine"].db.reading() as session:
        return dict(drafts.get_draft(session, draft_id).files)


def test_saving_writes_the_form_into_the_draft_in_the_designers_order_and_answers_its_problems(world):
    from engine import audit

    draft_id = new_draft(world)
    designer = login(world, "designer")
    page = text(designer.get(f"/designer/drafts/{draft_id}/forms/approve_report.json"))
    assert "审定联审报告" in page and '"report_approval"' in page  # the file, in the JSON tab
    schema = json.loads(draft_files(world, draft_id)["forms/approve_report.json"])
    props = list(schema["properties"].items())
    props.insert(1, ("approved_by", {"type": "string", "title": "审定人", "maxLength": 50}))
    schema["properties"] = dict(props)
    schema["required"].append("approved_by")

    saved = designer.post(f"/designer/drafts/{draft_id}/forms/approve_report.json",
                          json={"text": json.dumps(schema, ensure_ascii=False)})
    assert saved.status_code == 200
    body = saved.get_json()
    assert body["text"] == json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    stored = draft_files(world, draft_id)["forms/approve_report.json"]
    assert stored == body["text"]
    assert list(json.loads(stored)["properties"]) == ["report_approval", "approved_by", "approval_opinion", "approved_on"]
    assert body["mine"] == []
    with world["engine"].db.reading() as session:
        assert audit.entries(session, subject_prefix=f"draft:{draft_id}", action="draft_saved")

    schema["properties"]["approved_by"]["type"] = "person"  # the draft keeps it, and says what is wrong
    body = designer.post(f"/designer/drafts/{draft_id}/forms/approve_report.json",
                         json={"text": json.dumps(schema, ensure_ascii=False)}).get_json()
    # the lines `duban validate` prints, on the form's file or on the step that uses it
    assert body["mine"] and all("approve_report.json" in p["text"] for p in body["mine"])
    assert any("person" in p["text"] for p in body["mine"])
    assert re.match(r"[\w/.]+:\d+: ", body["mine"][0]["text"])
    assert '"type": "person"' in draft_files(world, draft_id)["forms/approve_report.json"]

    typed = '{"title": "审定联审报告", "properties": {'  # not JSON: kept as typed, nothing lost
    body = designer.post(f"/designer/drafts/{draft_id}/forms/approve_report.json", json={"text": typed}).get_json()
    assert body["mine"] and draft_files(world, draft_id)["forms/approve_report.json"] == typed

    # without JavaScript: the form posts the textarea and comes back to the editor
    plain_post = designer.post(f"/designer/drafts/{draft_id}/forms/approve_report.json",
                               data={"text": json.dumps(schema, ensure_ascii=False)})
    assert plain_post.status_code == 302 and plain_post.headers["Location"].endswith("/forms/approve_report.json")


def test_a_new_form_starts_minimal_in_the_draft(world):
    draft_id = new_draft(world)
    designer = login(world, "designer")
    made = designer.post(f"/designer/drafts/{draft_id}/forms/", data={"name": "approve_plan", "title": "审批方案"})
    assert made.status_code == 302 and made.headers["Location"].endswith(f"/drafts/{draft_id}/forms/approve_plan.json")
    schema = json.loads(draft_files(world, draft_id)["forms/approve_plan.json"])
    assert schema["title"] == "审批方案" and schema["properties"] == {} and schema["type"] == "object"
    assert designer.get(made.headers["Location"]).status_code == 200
    again = designer.post(f"/designer/drafts/{draft_id}/forms/", data={"name": "approve_plan.json"})
    assert again.status_code == 409 and "已有表单" in text(again)
    bad = designer.post(f"/designer/drafts/{draft_id}/forms/", data={"name": "../evil"})
    assert bad.status_code == 400 and "表单文件名" in text(bad)
    assert designer.get(f"/designer/drafts/{draft_id}/forms/nope.json").status_code == 404
    assert "forms/approve_plan.json" in text(designer.get(f"/designer/drafts/{draft_id}/forms/"))


def test_a_decision_table_saved_from_the_modeler_goes_into_the_draft(world):
    draft_id = new_draft(world)
    designer = login(world, "designer")
    name = next(p[len("decisions/"):] for p in draft_files(world, draft_id) if p.startswith("decisions/"))
    page = designer.get(f"/designer/drafts/{draft_id}/decisions/{name}")
    assert page.status_code == 200 and f"decisions/{name}" in text(page)
    xml = designer.get(f"/designer/drafts/{draft_id}/decisions/{name}/xml").get_data(as_text=True)
    assert xml == draft_files(world, draft_id)[f"decisions/{name}"]
    changed = xml.replace("</definitions>", "<!-- edited --></definitions>")
    body = designer.post(f"/designer/drafts/{draft_id}/decisions/{name}", data=changed.encode("utf-8"),
                         content_type="application/xml").get_json()
    assert body["saved"] and body["mine"] == []
    assert draft_files(world, draft_id)[f"decisions/{name}"] == changed
    broken = designer.post(f"/designer/drafts/{draft_id}/decisions/{name}", data=b"<definitions",
                           content_type="application/xml").get_json()
    assert broken["mine"] and broken["mine"][0]["text"].startswith(f"decisions/{name}:")


NASTY = ["", "null", "[]", '"text"', "{", '{"properties": 5}', '{"properties": {"a": true}}', '{"type": "array"}',
         '{"properties": {"a": {"type": "array", "items": true, "x-options": "units.all"}}}',
         '{"properties": {"a": {"type": "string", "oneOf": [{"const": 1}, 7]}}}',
         '{"properties": {"a": {}}, "x-rules": [{"check": "a >", "message": "m", "uses": 5}]}',
         '{"properties": {"1 a": {"title": "x", "type": "string", "maxLength": 1e400}}}',
         "[" * 100_000, '{"a": ' * 5000 + "1" + "}" * 5000]


@pytest.mark.parametrize("body", NASTY)
def test_whatever_is_typed_the_preview_answers_without_a_traceback(world, body):
    response = preview(login(world, "designer"), 1, "approve_report.json", body)
    page = plain(response)
    assert response.status_code == 200 and "Traceback" not in page and "服务器内部错误" not in page
    assert "表单定义有" in page or "表单没有字段" in page or "预览无法显示此表单" in page, page


@pytest.mark.parametrize("username", ["supervisor", "organization"])
def test_only_designers_edit_forms_and_decisions(world, username):
    draft_id = new_draft(world)
    client = login(world, username)
    source = (PROCESSES / "forms" / "approve_report.json").read_text(encoding="utf-8")
    before = draft_files(world, draft_id)
    assert client.get(f"/designer/drafts/{draft_id}/forms/approve_report.json").status_code == 403
    assert preview(client, draft_id, "approve_report.json", source).status_code == 403
    assert client.post(f"/designer/drafts/{draft_id}/forms/approve_report.json", json={"text": "{}"}).status_code == 403
    assert client.post(f"/designer/drafts/{draft_id}/forms/", data={"name": "x"}).status_code == 403
    assert client.get(f"/designer/drafts/{draft_id}/decisions/evaluation_grade.dmn").status_code == 403
    assert client.post(f"/designer/drafts/{draft_id}/decisions/evaluation_grade.dmn", data=b"<x/>").status_code == 403
    assert draft_files(world, draft_id) == before
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
