"""三员分立 in Chromium under the Content-Security-Policy: the security administrator changes a clerk's roles, the
audit administrator finds that change in the log and verifies the chain, the system administrator runs the
projection check; each sees only their own link in the navigation."""
from __future__ import annotations

from pathlib import Path

from tests.browser.conftest import sign_in
from tests.browser.test_designer_forms import watched  # noqa: F401 - the fixture

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _nav(page) -> str:
    return page.inner_text("header nav")


def test_the_three_administrators_each_do_their_own_work(site, watched, browser):
    page, check = watched
    base = site["base"]
    SHOTS.mkdir(parents=True, exist_ok=True)

    sign_in(page, base, "secadmin")
    assert "账号权限" in _nav(page) and "审计日志" not in _nav(page) and "系统维护" not in _nav(page)
    page.goto(f"{base}/admin/users?q=unit_daduo")
    page.click("table.list a")
    page.check("input[name=roles][value=discipline]")
    page.click("#access button[type=submit]")
    page.wait_for_selector(".flash")
    assert "已修改 unit_daduo 的权限" in page.inner_text(".flash")
    assert page.is_checked("input[name=roles][value=discipline]")
    page.screenshot(path=str(SHOTS / "admin_user.png"), full_page=True)
    check("security administrator")
    assert page.request.get(f"{base}/admin/audit").status == 403  # with this browser's session
    page.context.clear_cookies()

    sign_in(page, base, "auditadmin")
    assert "审计日志" in _nav(page) and "账号权限" not in _nav(page)
    page.goto(f"{base}/admin/audit")
    page.select_option("select[name=action]", "roles_changed")
    page.click("form.filters button[type=submit]")
    rows = page.inner_text("#entries")
    assert "修改权限" in rows and "（unit_daduo）" in rows and "安全管理员" in rows
    assert "新：角色 纪委监委、基层单位" in rows or "新：角色 基层单位、纪委监委" in rows
    page.goto(f"{base}/admin/audit")
    page.click("#verify button")
    page.wait_for_selector(".flash")
    assert "审计日志完整" in page.inner_text(".flash")
    page.screenshot(path=str(SHOTS / "admin_audit.png"), full_page=True)
    check("audit administrator")
    page.context.clear_cookies()

    sign_in(page, base, "sysadmin")
    assert "系统维护" in _nav(page) and "审计日志" not in _nav(page)
    page.goto(f"{base}/admin/system")
    page.click("#check button")
    page.wait_for_selector("#check-result")
    assert "投影与流程状态一致" in page.inner_text("#check-result")
    page.screenshot(path=str(SHOTS / "admin_system.png"), full_page=True)
    check("system administrator")
