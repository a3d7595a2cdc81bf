"""The leading office's campaign dashboard in a real browser, on the demo's campaign: a unit whose rectification
report is overdue stands out, the office follows it to the unit's page, the unit's clerk hands the report in from
the inbox, and the dashboard then counts it in (late, no longer missing)."""
from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy import select

from tests.browser.conftest import sign_in

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LATE = "省交通运输厅"  # engine/demo/campaign.py: its rectification report is not in
CLERK = "unit_hb_jtt"


def _campaign_id(site) -> int:
    from handlers.campaign.records import Campaign

    with site["engine"].db.reading() as session:
        return session.scalar(select(Campaign.id).where(Campaign.parent_id.is_(None)).order_by(Campaign.id))


def _cell(page, unit: str, cell: str) -> str:
    return page.inner_text(f"table.campaign-board tr[data-unit='{unit}'] td[data-cell='{cell}']").strip()


def test_office_follows_a_late_unit_and_the_dashboard_counts_its_report(site, browser, tmp_path):
    base, campaign = site["base"], _campaign_id(site)
    shots = Path(os.environ.get("DUBAN_SHOTS") or tmp_path)

    def context():
        return browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN",
                                   timezone_id="Asia/Shanghai")

    office = context().new_page()
    sign_in(office, base, "leading_office")
    office.goto(f"{base}/campaigns/{campaign}/dashboard")
    assert "治庸问责工作进展" in office.inner_text("h1")
    assert LATE in office.inner_text("#behind")  # 逾期的单位
    row = office.locator(f"table.campaign-board tr[data-unit='{LATE}']")
    assert "逾期" in row.locator("td").first.inner_text()
    assert _cell(office, LATE, "self_inspection-missing") == "1"  # the rectification report
    assert _cell(office, LATE, "self_inspection-in") == "4/5"
    on_time = _cell(office, "省审计厅", "self_inspection-in")
    assert on_time == "5/5" and _cell(office, "省审计厅", "self_inspection-missing") == "0"
    office.screenshot(path=str(shots / "1-dashboard.png"), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    office.screenshot(path=str(SHOTS / "campaign_dashboard.png"), full_page=True)

    with office.expect_navigation():
        row.get_by_role("link", name=LATE).click()
    assert re.search(rf"/campaigns/{campaign}/units/", office.url)
    text = office.inner_text("main")
    assert LATE in text and "整改报告" in text
    office.screenshot(path=str(shots / "2-unit.png"), full_page=True)
    office.screenshot(path=str(SHOTS / "campaign_unit.png"), full_page=True)

    clerk = context().new_page()
    sign_in(clerk, base, CLERK)
    inbox_row = clerk.locator("table.inbox tbody tr", has_text="报送整改报告")
    assert inbox_row.count() == 1 and re.search(r"逾期 \d+ 天", inbox_row.inner_text())
    clerk.screenshot(path=str(shots / "3-clerk-inbox.png"), full_page=True)
    with clerk.expect_navigation():
        inbox_row.get_by_role("button", name="签收").click()
    clerk.goto(f"{base}/?tab=mine")
    clerk.locator("table.inbox tbody tr", has_text="报送整改报告").get_by_role("link", name="报送整改报告").click()
    clerk.wait_for_url(re.compile(r".*/tasks/\d+$"))
    clerk.fill("[name=rectification_report_text]", "省交通运输厅自查整改情况报告：排查突出问题9个，已整改7个，"
                                                      "窗口服务问题已建立首问负责和限时办结制度。")
    clerk.fill("[name=problems_rectified]", "7")
    clerk.fill("[name=problems_remaining]", "2")
    clerk.screenshot(path=str(shots / "4-clerk-form.png"), full_page=True)
    clerk.click("button:has-text('提交办理')")
    clerk.wait_for_url(f"{base}/")
    assert "已办理：报送整改报告" in clerk.locator(".flash").first.inner_text()

    office.goto(f"{base}/campaigns/{campaign}/dashboard")
    assert _cell(office, LATE, "self_inspection-in") == "5/5"
    assert _cell(office, LATE, "self_inspection-missing") == "0"
    assert _cell(office, LATE, "self_inspection-late") == "1"  # in, after its deadline
    office.screenshot(path=str(shots / "5-dashboard-after.png"), full_page=True)
