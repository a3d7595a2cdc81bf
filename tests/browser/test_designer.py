"""The issue's walk through the designer, in Chromium: rename a task, drag a user task out of its lane and see the
problem on it, fix it, remove a step, see the diff, deploy, and move 20 running projects of which those waiting on
the removed step cannot move (listed with the reason)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.models import Case, ProcessVersion
from tests.browser.conftest import sign_in
from tests.conftest import as_user

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "designer"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
KEY = "review_chain"


@pytest.fixture(scope="module")
def chain(site):
    """20 projects of the fixture process: 6 wait at 受理, 7 at 审核, 7 at 复核."""
    engine = site["engine"]
    engine.deploy([str(FIXTURE)], "designer")
    organization, audit = as_user(engine, "organization"), as_user(engine, "audit")
    cases = [engine.start_case(KEY, {"unit": "兴化市"}, organization) for _ in range(20)]

    def complete(case_id, step):
        item = next(i for i in engine.tasks(case_id=case_id) if i["step_id"] == step)
        engine.complete(item["id"], {"note": "同意"}, organization if step == "accept" else audit)

    for case_id in cases[6:]:
        complete(case_id, "accept")
    for case_id in cases[13:]:
        complete(case_id, "review")
    return {"cases": cases, "at_check": cases[13:]}


def _shape_center(page, element_id):
    box = page.locator(f'#modeler [data-element-id="{element_id}"]').first.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _drag(page, element_id, dy):
    page.evaluate("() => window.scrollTo(0, 0)")  # the shape must be on screen for the mouse to reach it
    x, y = _shape_center(page, element_id)
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + 2, y + dy * step / 10)
    page.mouse.up()


def _save(page):
    page.click("#save-draft")
    page.wait_for_function("() => /已保存/.test(document.getElementById('save-status').textContent)")


def _lane_of(page, element_id):
    return page.evaluate("""id => {
        const el = window.dubanModeler.get('elementRegistry').get(id);
        const lanes = window.dubanModeler.get('elementRegistry').filter(e => e.type === 'bpmn:Lane');
        const lane = lanes.find(l => (l.businessObject.flowNodeRef || []).some(r => r.id === id));
        return lane ? lane.businessObject.name : null; }""", element_id)


def test_a_designer_edits_deploys_and_migrates_running_projects(site, chain, page):
    base = site["base"]
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, base, "designer")
    page.goto(f"{base}/designer/processes/{KEY}")
    assert "审核链（设计演示）" in page.inner_text("h1")
    page.click("table.versions button:has-text('编辑')")
    page.wait_for_selector("#modeler[data-ready=true]")

    # Rename 受理 the way a designer does: double-click the shape and type.
    x, y = _shape_center(page, "accept")
    page.mouse.dblclick(x, y)
    page.wait_for_selector(".djs-direct-editing-parent", state="visible")
    page.keyboard.press("Control+A")
    page.keyboard.type("登记受理")
    page.mouse.click(x + 300, y + 380)  # outside: the label is taken
    assert page.evaluate("() => window.dubanModeler.get('elementRegistry').get('accept').businessObject.name") == "登记受理"

    # Drag 审核 down into the lane 临时, which stands for no role: the server says so, on that element.
    _drag(page, "review", 150)
    assert _lane_of(page, "review") == "临时"
    _save(page)
    problem = page.locator("#problems li.problem[data-element=review]")
    assert problem.count() == 1 and "不是已知角色" in problem.inner_text()
    assert problem.inner_text().startswith(f"{KEY}.bpmn:")
    assert page.locator(".problem-badge").count() == 1
    assert "has-problem" in page.locator('#modeler g.djs-element[data-element-id="review"]').get_attribute("class")
    page.screenshot(path=str(SHOTS / "designer_editor.png"))
    problem.click()
    assert page.evaluate("() => window.dubanModeler.get('selection').get().map(e => e.id)") == ["review"]

    # Fix it: back into 审计局; then remove 复核 (bpmn-js joins its incoming and outgoing flows, so 审核 leads to the end).
    _drag(page, "review", -150)
    assert _lane_of(page, "review") == "审计局"
    page.evaluate("""() => {
        const registry = window.dubanModeler.get('elementRegistry'), modeling = window.dubanModeler.get('modeling');
        modeling.removeElements([registry.get('check')]); }""")
    _save(page)
    assert page.locator("#problems li.problem").all_inner_texts() == []

    page.click("#to-diff")
    page.wait_for_selector("#changes")
    changes = page.inner_text("#changes")
    assert "名称：受理 → 登记受理" in changes
    removed = page.inner_text("ul.changes.removed")
    assert "复核" in removed
    page.wait_for_selector("#diff-diagram .djs-container")
    assert "diff-changed" in page.locator('#diff-diagram g.djs-element[data-element-id="accept"]').get_attribute("class")
    page.screenshot(path=str(SHOTS / "designer_diff.png"), full_page=True)

    page.click("#deploy")
    page.wait_for_url(f"{base}/designer/processes/{KEY}/versions/2/migrate")
    assert "已部署第 2 版" in page.inner_text("main")
    refused = page.locator("#refused tbody tr")
    assert refused.count() == len(chain["at_check"]) == 7
    assert all("当前步骤“复核”在新版本中已删除" in refused.nth(i).inner_text() for i in range(refused.count()))
    assert page.locator("#movable tbody tr").count() == 13
    page.click("#migrate-selected")
    page.wait_for_selector("#migrate-form[data-complete=true]", timeout=60000)
    assert page.locator("#migrate-progress").evaluate("p => p.value === p.max")
    assert "已迁移 13 个，未迁移 0 个" in page.inner_text("#migrate-status")
    page.screenshot(path=str(SHOTS / "designer_migrate.png"), full_page=True)

    with site["engine"].db.reading() as session:
        v2 = session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == KEY,
                                                            ProcessVersion.version == 2))
        on_v2 = session.scalar(select(func.count()).select_from(Case).where(Case.process_version_id == v2))
    assert on_v2 == 13
    waiting = {i["step_name"] for c in chain["cases"][:6] for i in site["engine"].tasks(case_id=c)}
    assert waiting == {"登记受理"}  # the inbox shows the new name of the step those projects wait at

    page.goto(f"{base}/designer/")
    page.screenshot(path=str(SHOTS / "designer_library.png"), full_page=True)
