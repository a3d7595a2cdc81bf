"""The designer's form editor and decision tables in Chromium under the Content-Security-Policy: a field added in
the editor appears in the clerk's preview, and dmn-js draws a deployed decision table without a CSP complaint."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import sign_in

# dmn-js's bundle carries Inferno's development build, which says so on the console; nothing is wrong with the page.
INFERNO = "minified copy of the development build of Inferno"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def watched(page):
    """The page, and every CSP complaint or script error it makes."""
    complaints: list[str] = []
    page.on("console", lambda msg: complaints.append(f"console {msg.type}: {msg.text}")
            if (msg.type == "error" and INFERNO not in msg.text) or "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda err: complaints.append(f"pageerror: {err}"))
    page.add_init_script("""
        window.__csp = [];
        document.addEventListener('securitypolicyviolation', function (e) {
          window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
        });
    """)

    def check(where: str) -> None:
        page.wait_for_timeout(300)  # reports are delivered asynchronously
        events = page.evaluate("window.__csp || []")
        assert not complaints and not events, (where, complaints, events)

    return page, check


def test_dmn_js_draws_the_deployed_decision_table(site, watched):
    page, check = watched
    base = site["base"]
    sign_in(page, base, "designer")
    page.goto(f"{base}/designer/decisions/audit_required/versions/1")
    page.wait_for_selector("#dmn-viewer[data-ready='1']", timeout=20000)
    table = page.locator("#dmn-viewer .tjs-table")
    assert table.count() == 1
    viewer_text = page.inner_text("#dmn-viewer")
    assert "是否必须联审" in viewer_text  # the table's name, as dmn-js draws it
    rules = page.locator("#dmn-viewer .tjs-table tbody tr")
    assert rules.count() == page.locator("table.rules tbody tr").count() >= 5
    # dmn-js's own CSS (served by us) applies, and the logo's style, refused as an attribute by the CSP, reached it
    # through CSSOM (web/static/designer_dmn.js)
    assert page.eval_on_selector("#dmn-viewer .tjs-table", "e => getComputedStyle(e).tableLayout") == "fixed"
    assert page.eval_on_selector("#dmn-viewer .bjs-powered-by", "e => getComputedStyle(e).position") == "absolute"
    assert page.locator("#dmn-viewer [data-csp-style]").count() == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "designer_decision.png"), full_page=True)
    check("decision version")


def test_the_designer_adds_a_field_and_sees_it_in_the_clerks_preview(site, watched):
    import json

    from engine import drafts
    from tests.conftest import as_user

    page, check = watched
    base, eng = site["base"], site["engine"]
    with eng.db.transaction() as session:
        draft_id = drafts.create_draft(session, "joint_audit_xinghua", as_user(eng, "designer"), eng.clock()).id
    sign_in(page, base, "designer")
    page.goto(f"{base}/designer/drafts/{draft_id}/forms/approve_report.json")
    preview = page.locator("#form-preview")
    page.wait_for_selector("#form-preview label:has-text('审定日期')")  # the clerk's form, drawn by the server
    assert page.locator("#field-list > li.fe-field").count() == 3

    page.click("#field-add")
    field = page.locator("#field-list > li.fe-field").last
    field.locator("[data-field-title]").fill("审定人")
    field.locator("[data-field-key]").fill("approved_by")
    field.locator("[data-field-required]").check()
    page.wait_for_selector("#form-preview label[for='f-approved_by']:has-text('审定人')")
    assert preview.locator("label[for='f-approved_by'] .required-mark").count() == 1  # 必填 shows its star
    assert preview.locator("input[name='approved_by'][type='text']").count() == 1

    field.locator("[data-field-kind]").select_option("single")  # 单选: a select with its options
    field.locator("[data-add-option]").click()
    options = field.locator("[data-option-title]")
    options.nth(0).fill("组长")
    options.nth(1).fill("副组长")
    page.wait_for_selector("#form-preview select[name='approved_by'] option:has-text('副组长')", state="attached")
    assert preview.locator("select[name='approved_by'] option").all_inner_texts() == ["请选择", "组长", "副组长"]

    field.locator("[data-move='-1']").click()  # up one: before 审定日期, in the preview too
    page.wait_for_function("""() => { const labels = [...document.querySelectorAll('#form-preview label')]
        .map(l => l.textContent.trim()); return labels.findIndex(t => t.startsWith('审定人'))
        < labels.findIndex(t => t.startsWith('审定日期')); }""")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the preview sticks beside the list: show both from the top
    page.screenshot(path=str(SHOTS / "designer_form_editor.png"), full_page=True)

    page.click("#tab-json")  # the same schema as JSON
    schema = json.loads(page.input_value("#schema-text"))
    assert list(schema["properties"]) == ["report_approval", "approval_opinion", "approved_by", "approved_on"]
    assert schema["properties"]["approved_by"]["oneOf"][1]["title"] == "副组长"
    assert "approved_by" in schema["required"] and schema["x-rules"]  # what the list does not show is kept

    page.fill("#schema-text", page.input_value("#schema-text").replace('"title": "审定人",', '"title": "审定人"'))
    page.wait_for_selector("#form-preview .preview-problems:has-text('JSON 格式错误')")
    page.fill("#schema-text", json.dumps(schema, ensure_ascii=False, indent=2))
    page.wait_for_selector("#form-preview select[name='approved_by']")

    page.click("#form-save-button")
    page.wait_for_selector("#save-status[data-saved='1']")
    assert "已保存到草稿" in page.inner_text("#save-status")
    with eng.db.reading() as session:
        saved = json.loads(drafts.get_draft(session, draft_id).files["forms/approve_report.json"])
    assert saved["properties"]["approved_by"]["title"] == "审定人"
    check("form editor")


def test_the_designer_edits_a_decision_table_of_a_draft_in_the_dmn_js_modeler(site, watched):
    from engine import drafts
    from tests.conftest import as_user

    page, check = watched
    base, eng = site["base"], site["engine"]
    with eng.db.transaction() as session:
        draft = drafts.create_draft(session, "joint_audit_xinghua", as_user(eng, "designer"), eng.clock())
        draft_id, before = draft.id, draft.files["decisions/evaluation_grade.dmn"]
    sign_in(page, base, "designer")
    page.goto(f"{base}/designer/drafts/{draft_id}/decisions/evaluation_grade.dmn")
    page.wait_for_selector("#dmn-modeler[data-ready='1']", timeout=20000)
    rows = page.locator("#dmn-modeler .tjs-table tbody tr")
    count = rows.count()
    assert count >= 3
    description = rows.first.locator("td").last.locator("[contenteditable]")  # the rule's 说明, typed into
    description.click()
    page.keyboard.press("End")
    page.keyboard.type("（已复核）")
    rows.nth(1).locator("td.input-cell [contenteditable]").first.click()  # a FEEL cell: no inline <style>
    page.wait_for_timeout(300)
    page.click("#dmn-save")
    page.wait_for_selector("#dmn-status:has-text('已保存到草稿')")
    assert "检查通过" in page.inner_text("#dmn-problems")
    with eng.db.reading() as session:
        after = drafts.get_draft(session, draft_id).files["decisions/evaluation_grade.dmn"]
    assert after != before and "（已复核）" in after
    check("decision modeler")
