"""Under the Content-Security-Policy (no inline script or style, nothing from another host) every page still
works in Chromium — the diagrams render, form rows are added, terminate asks first — and the console shows
no CSP violation."""
from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in


@pytest.fixture
def watched(page):
    """The page, and every CSP complaint it makes: console messages and securitypolicyviolation events."""
    complaints: list[str] = []
    page.on("console", lambda msg: complaints.append(f"console {msg.type}: {msg.text}")
            if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text else None)
    page.add_init_script("""
        window.__csp = [];
        document.addEventListener('securitypolicyviolation', function (e) {
          window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
        });
    """)

    def check(where: str) -> None:
        policy = page.evaluate("fetch(location.href).then(r => r.headers.get('content-security-policy'))")
        assert policy and "script-src 'self'" in policy and "unsafe-inline" not in policy, (where, policy)
        page.wait_for_timeout(300)  # reports are delivered asynchronously
        events = page.evaluate("window.__csp || []")
        assert not complaints and not events, (where, complaints, events)

    return page, check


def _item(site, case_id: int, step_id: str) -> int:
    return next(i["id"] for i in site["engine"].tasks(case_id=case_id) if i["step_id"] == step_id)


def test_clerk_pages_work_without_inline_code(site, watched):
    page, check = watched
    base = site["base"]
    page.goto(f"{base}/login")
    assert page.get_attribute("link[rel=stylesheet]", "href") == "/static/duban.css"
    check("login")
    sign_in(page, base, "organization")
    assert page.locator("table.inbox").count() == 1
    check("inbox")

    page.goto(f"{base}/tasks/{_item(site, site['review_case'], 'review_personnel')}")
    rows = page.locator("fieldset[data-rows] .row-item")
    before = rows.count()
    page.locator("fieldset[data-rows] [data-row-add]").first.click()  # web/static/duban.js, not inline script
    assert rows.count() == before + 1
    assert page.locator("fieldset[data-rows] .row-item .row-no").last.inner_text() == str(before + 1)
    # Styles moved from style="" into duban.css still apply: the required mark is red.
    assert page.eval_on_selector(".required-mark", "e => getComputedStyle(e).color") == "rgb(192, 57, 43)"
    check("task page")

    page.goto(f"{base}/cases/{site['review_case']}")
    page.wait_for_selector(".djs-element.current", timeout=20000)
    assert page.locator("#diagram svg").count() >= 1
    check("case page")


def test_supervisor_pages_work_without_inline_code(site, watched):
    page, check = watched
    base = site["base"]
    sign_in(page, base, "supervisor")
    page.goto(f"{base}/supervise/")
    page.wait_for_selector(".supervise-diagram[data-ready='1']", timeout=20000)
    assert page.locator(".supervise-diagram .step-load").count() > 0
    widths = page.eval_on_selector_all("#aging .bar", "bars => bars.map(b => b.getBoundingClientRect().width)")
    assert max(widths) > 0  # the aging bars got their width from a class
    check("dashboard")

    page.goto(f"{base}/cases/{site['new_case']}")
    page.wait_for_selector(".djs-element", timeout=20000)
    asked: list[str] = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.click("#supervise-actions form.action-terminate button")  # confirm() from data-confirm, then No
    page.wait_for_timeout(300)
    assert asked and "终止" in asked[0]
    assert page.get_attribute("#supervise-actions", "data-status") != "terminated"
    check("case page as supervisor")
