"""What a supervisor sees in a real browser: the dashboard's red count, the list behind it, and on a red case's
page why it is red (the overdue step, its due date, the overdue badge)."""
from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.browser.conftest import sign_in

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _has_dashboard(base: str) -> bool:
    """Whether the shared server already serves /supervise/ (it redirects strangers to the login page)."""
    try:
        urllib.request.urlopen(f"{base}/supervise/", timeout=10)
    except urllib.error.HTTPError as err:
        return err.code != 404
    return True


@pytest.fixture(scope="module")
def base(site):
    """The shared site; until web/__init__.py registers the supervise blueprint, a second server on the
    same demo database with it registered."""
    if _has_dashboard(site["base"]):
        yield site["base"]
        return
    from waitress.server import create_server

    from web import create_app, supervise

    url = site["engine"].db.engine.url.render_as_string(hide_password=False)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests"})
    if "supervise" not in app.blueprints:
        app.register_blueprint(supervise.bp)
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


def test_supervisor_follows_the_red_count_to_a_red_case(base, page):
    sign_in(page, base, "supervisor")
    page.goto(f"{base}/supervise/")
    red = int(page.inner_text("a.figure[data-figure=red] .figure-value"))
    assert red > 0, "the demo data has overdue work"
    assert "超期待办 按部门" in page.inner_text("#overdue-by-role")
    assert "超期待办 按单位" in page.inner_text("#overdue-by-unit")
    # Each process diagram shows where the work piles up: a count on each step with open work.
    page.wait_for_selector(".supervise-diagram[data-ready='1']")
    badges = page.locator(".supervise-diagram .step-load")
    assert badges.count() > 0
    assert all(int(n) > 0 for n in badges.all_inner_texts())
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "supervise.png"), full_page=True)

    with page.expect_navigation():
        page.click("a.figure[data-figure=red]")
    assert re.search(r"/supervise/list\?kind=light&light=red$", page.url)
    assert int(page.get_attribute("[data-total]", "data-total")) == red
    rows = page.locator("table.supervise-cases tbody tr")
    assert rows.count() == min(red, 50)
    first = rows.first
    assert first.get_attribute("data-light") == "red"
    why = first.locator("td.why").inner_text()
    match = re.search(r"逾期 (\d+) 天\s*(.+?) · 期限 (\d{4}-\d{2}-\d{2})", why, re.S)
    assert match, why
    step, due = match.group(2).strip(), match.group(3)

    with page.expect_navigation():
        first.locator("a[href^='/cases/']").first.click()
    assert re.search(r"/cases/\d+$", page.url)
    # Why it is red: the overdue step, its due date and the overdue badge.
    overdue = page.locator("table.work-items tr.overdue", has_text=step).first
    assert overdue.count() == 1
    text = overdue.inner_text()
    assert due in text and re.search(r"逾期 \d+ 天", text)
    assert overdue.locator(".badge.overdue").count() == 1
