"""The organization clerk opens a joint-audit project in the browser: 发起联审, a wrong date refused at its field
in Chinese only, fixed, and the new project's page whose timeline reads in field titles."""
from __future__ import annotations

import re
from pathlib import Path

from tests.browser.conftest import sign_in

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def test_organization_clerk_opens_a_project_fixes_a_wrong_date_and_lands_on_it(site, page):
    base = site["base"]
    sign_in(page, base, "organization")
    page.click("nav >> text=立项")
    page.wait_for_url(f"{base}/cases/new/")
    page.click("a.process-choice:has-text('三责联审（兴化）')")
    page.wait_for_url(f"{base}/cases/new/joint_audit_xinghua")
    page.fill("input[name=cadre_name]", "韩志远")
    page.fill("input[name=post]", "镇党委书记")
    page.fill("input[name=unit]", "钓鱼镇")
    page.select_option("select[name=unit_level]", "town")
    page.select_option("select[name=audit_type]", "leaving")
    page.select_option("select[name=leaving_reason]", "promoted")
    page.fill("input[name=in_post_since]", "2021-07-01")
    page.fill("input[name=leaving_date]", "2020-12-31")  # before taking up the post: wrong
    page.fill("input[name=years_in_post]", "5")
    page.fill("input[name=unit_principal]", "周海波")
    page.fill("input[name=unit_deputy]", "钱丽娟")
    with page.expect_navigation():
        page.click("button:has-text('立项')")
    error = page.inner_text("#f-leaving_date-error")
    assert error == "离任时间不能早于任现职时间"
    assert not LATIN_WORD.search(" ".join(page.locator(".field-error").all_inner_texts()))  # Chinese only
    assert page.input_value("input[name=cadre_name]") == "韩志远"  # nothing typed is lost
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "new_project.png"), full_page=True)

    page.fill("input[name=leaving_date]", "2026-10-31")
    with page.expect_navigation():
        page.click("button:has-text('立项')")
    assert re.search(r"/cases/\d+$", page.url)
    assert "已立项：项目编号" in page.locator(".flash").first.inner_text()
    assert "韩志远" in page.inner_text("h1")
    timeline = page.inner_text("#timeline")
    for title in ("联审对象姓名", "单位层级", "乡镇（街道）", "离任原因", "提拔", "离任时间"):
        assert title in timeline, title
    for key in ("cadre_name", "unit_level", "leaving_reason", "promoted", "organization"):
        assert key not in timeline, key
    assert "组织部干部监督科（演示）" in timeline
    # A demo project further on, for the screenshot: its reviews done, at the feedback.
    page.goto(f"{base}/cases/{_demo_case_at(site['engine'], 'feedback')}")
    assert "公示方式" in page.inner_text("#timeline")
    page.locator("#timeline").screenshot(path=str(SHOTS / "timeline.png"))


def _demo_case_at(engine, step_id: str) -> int:
    """The first demo case of Xinghua waiting at `step_id`."""
    from sqlalchemy import select

    from engine.models import WorkItem

    with engine.db.reading() as s:
        return s.scalar(select(WorkItem.case_id).where(
            WorkItem.process_key == "joint_audit_xinghua", WorkItem.status == "ready", WorkItem.step_id == step_id)
            .order_by(WorkItem.case_id).limit(1))
