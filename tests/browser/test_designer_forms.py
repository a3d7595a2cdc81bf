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
