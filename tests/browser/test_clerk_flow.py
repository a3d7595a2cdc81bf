"""What a clerk sees in a real browser: sign in, claim, a form error in Chinese, complete, next step."""
from __future__ import annotations

import re
from pathlib import Path

from tests.browser.conftest import sign_in

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _row(page, cadre: str):
    return page.locator("table.inbox tbody tr", has_text=cadre)


def test_organization_clerk_claims_fixes_a_form_error_and_completes(site, page):
    base = site["base"]
    sign_in(page, base, "organization")
    page.goto(f"{base}/?sort=-created")
    row = _row(page, "钱浩然")
    assert "下发联审通知" in row.inner_text() and "大垛镇" in row.inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "inbox.png"))
    with page.expect_navigation():
        row.get_by_role("button", name="签收").click()
    assert "已签收" in page.locator(".flash").first.inner_text()
    page.goto(f"{base}/?tab=mine")
    _row(page, "钱浩然").get_by_role("link", name="下发联审通知").click()
    page.wait_for_url(re.compile(r".*/tasks/\d+$"))
    assert "联审对象" in page.inner_text(".case-head") and "钱浩然" in page.inner_text(".case-head")

    # Submit with the notice number missing: the Chinese message sits next to that field, the rest is kept.
    page.fill("input[name=notice_date]", "2026-11-20")
    page.fill("input[name=audit_period_start]", "2021-06-01")
    page.fill("input[name=audit_period_end]", "2026-10-31")
    page.fill("input[name=planned_entry_date]", "2026-12-01")
    page.fill("input[name=team_leader]", "赵国强")
    with page.expect_navigation():
        page.click("button:has-text('提交办理')")
    assert "必填" in page.inner_text("#f-notice_no-error")
    assert page.input_value("input[name=team_leader]") == "赵国强"
    assert page.input_value("input[name=notice_date]") == "2026-11-20"
    page.screenshot(path=str(SHOTS / "task_form.png"), full_page=True)

    page.fill("input[name=notice_no]", "兴组通〔2026〕18号")
    page.click("button:has-text('提交办理')")
    page.wait_for_url(f"{base}/")
    flash = page.locator(".flash").first.inner_text()
    assert "已办理：下发联审通知；下一步：组织部会签联审通知、编办会签联审通知、审计局会签联审通知" in flash
    page.goto(f"{base}/?sort=-created")
    assert "组织部会签联审通知" in _row(page, "钱浩然").inner_text()  # the organization's own countersignature


def test_staffing_clerk_sees_the_parallel_review_waiting(site, page):
    base = site["base"]
    sign_in(page, base, "staffing")
    row = _row(page, "孔令辉")
    assert "用编责任审查" in row.inner_text()
    assert "用人责任审查" not in page.inner_text("table.inbox")  # the organization's branch is not the staffing office's


def test_case_page_highlights_the_current_steps_on_the_diagram(site, page):
    base = site["base"]
    sign_in(page, base, "organization")
    page.goto(f"{base}/cases/{site['review_case']}")
    page.wait_for_selector(".djs-element.current", timeout=20000)
    current = page.eval_on_selector_all(".djs-element.current", "els => els.map(e => e.dataset.elementId)")
    assert sorted(current) == ["review_establishment", "review_finance", "review_personnel"]
    done = page.eval_on_selector_all(".djs-element.done", "els => els.map(e => e.dataset.elementId)")
    assert {"issue_notice", "pre_audit_publicity", "entry_meeting"} <= set(done)
    assert "孔令辉" in page.inner_text("h1")
    page.screenshot(path=str(SHOTS / "case_page.png"), full_page=True)
