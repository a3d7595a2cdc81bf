"""A real server on a free port and Debian's Chromium driven by Playwright (no browser download)."""
from __future__ import annotations

import os
import shutil
import threading

import pytest

from engine import demo
from tests.conftest import CASE_FACTS, as_user, complete_step, make_engine
from tests.processes.walk import walk

CHROMIUM = os.environ.get("DUBAN_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _need_chromium():
    if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM):
        return
    message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The app on a demo database, plus two known cases: one new, one at the parallel reviews."""
    _need_chromium()
    tmp = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{tmp / 'b.db'}"
    os.environ["DUBAN_ATTACHMENTS"] = str(tmp / "files")
    engine = make_engine(url)
    demo.seed(engine)
    organization = as_user(engine, "organization")
    new_case = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS, cadre_name="钱浩然", unit="大垛镇"),
                                 organization)
    review_case = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS, cadre_name="孔令辉", unit="陶庄镇"),
                                    organization)
    walk(engine, review_case, "review_personnel")
    from waitress.server import create_server

    from web import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests"})
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield {"base": f"http://127.0.0.1:{server.effective_port}", "new_case": new_case, "review_case": review_case,
           "engine": engine}
    server.close()


@pytest.fixture(scope="session")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def sign_in(page, base: str, username: str, password: str = "demo") -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
