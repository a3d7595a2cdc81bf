"""Three departments submit their parallel reviews (座谈了解) of one case at the same moment, each in a
browser of its own: all three see success, none is told someone else updated the case."""
from __future__ import annotations

import re

from tests.browser.conftest import sign_in
from tests.conftest import CASE_FACTS, as_user, complete_step
from tests.processes.walk import walk

REVIEWS = {"organization": ("review_personnel", "personnel"), "staffing": ("review_establishment", "establishment"),
           "audit": ("review_finance", "finance")}


def test_three_clerks_submit_their_reviews_at_once_and_all_succeed(site, browser):
    engine = site["engine"]
    case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS, cadre_name="冯立群", unit="荻垛镇"),
                                as_user(engine, "organization"))
    walk(engine, case_id, "review_personnel")
    items = {i["step_id"]: i["id"] for i in engine.tasks(case_id=case_id)}

    contexts, pages = [], {}
    try:
        for user, (step, duty) in REVIEWS.items():
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                          timezone_id="Asia/Shanghai")
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(20000)
            sign_in(page, site["base"], user)
            page.goto(f"{site['base']}/tasks/{items[step]}")
            page.check(f"input[name={duty}_methods] >> nth=0")
            page.fill(f"input[name={duty}_score]", "86")
            page.fill(f"textarea[name={duty}_summary], input[name={duty}_summary]", "听取汇报、调阅台账，总体规范")
            pages[user] = page
        # every form is open before anyone submits; then all three press 提交办理 together
        for page in pages.values():
            page.click("button:has-text('提交办理')", no_wait_after=True)
        for user, page in pages.items():
            page.wait_for_url(re.compile(rf"{re.escape(site['base'])}/(\?.*)?$"))
            flash = page.locator(".flash").first.inner_text()
            assert "已办理" in flash and "已被他人" not in flash, (user, flash)
    finally:
        for context in contexts:
            context.close()
    view = engine.case(case_id)
    assert [i["step_id"] for i in view["work_items"]] == ["feedback"]
    assert sum(1 for e in view["history"] if e["kind"] == "task_completed" and e["step_id"] in items) == 3
